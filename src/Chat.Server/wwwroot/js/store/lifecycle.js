// @ts-check
/**
 * Lifecycle: starting the socket and the first chat-list load, stopping, signing out, the
 * connection state and the `change` events every other section announces with.
 * Methods of {@link ChatStore} (mixed into it by store.js; `this` is the store).
 * @module store/lifecycle
 */
import { ChatSocket } from '../socket.js';
/** @import { ChatStore, ChangeKind } from '../store.js' */
/** @import { ServerFrame } from '../socket.js' */

export const lifecycle = {
  /** @this {ChatStore} */
  async start() {
    for (const m of this.outbox.all()) {
      if (!this.pending.has(m.client_msg_id)) this.pending.set(m.client_msg_id, { ...m, state: 'sending' });
    }
    const socket = new ChatSocket({ token: this.session.token });
    this.socket = socket;
    socket.addEventListener('state', () => this.emit('connection'));
    socket.addEventListener('unauthorized', () => this.signedOut('revoked'));
    socket.addEventListener('frame', (e) => this.onFrame(/** @type {CustomEvent<ServerFrame>} */ (e).detail));
    socket.connect();
    this.api.limits().then((l) => { this.limits = l; }).catch(() => {});
    this.loadBlocks();
    try {
      await this.loadChats();
    } catch (err) {
      this.report(err);
    }
  },

  /** @this {ChatStore} */
  stop() {
    this.stopped = true;
    this.socket?.close();
    this.tabs?.close();
    clearInterval(this.resendTimer);
    document.removeEventListener('visibilitychange', this.onVisibility);
    for (const m of this.typing.values()) for (const t of m.values()) clearTimeout(t);
    for (const p of this.pending.values()) if (p.local) URL.revokeObjectURL(p.local.url);
  },

  /** @param {string} reason @this {ChatStore} */
  signedOut(reason) {
    if (this.stopped) return;
    this.stop();
    this.hooks.onSignedOut?.(reason);
  },

  /** @returns {'connecting' | 'online' | 'offline'} @this {ChatStore} */
  get connection() {
    const s = this.socket?.state;
    if (s === 'open') return 'online';
    if (s === 'closed') return 'offline';
    return 'connecting';
  },

  /** @param {ChangeKind} what @param {string} [chatId] @param {unknown} [extra] @this {ChatStore} */
  emit(what, chatId, extra) {
    this.dispatchEvent(new CustomEvent('change', { detail: { what, chatId, extra } }));
  },

  /** @param {unknown} err @this {ChatStore} */
  report(err) {
    const message = err instanceof Error ? err.message : String(err);
    this.emit('error', undefined, message);
  },
};
