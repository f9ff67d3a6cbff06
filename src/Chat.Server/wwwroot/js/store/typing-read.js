// @ts-check
/**
 * Typing and read: your own typing (throttled start, stop when idle), who types where, and the
 * read pointer (sent over the socket, or REST when offline; shared with the other tabs).
 * Methods of {@link ChatStore} (mixed into it by store.js; `this` is the store).
 * @module store/typing-read
 */
/** @import { ChatStore } from '../store.js' */

/** `typing_start` at most this often while you type. */
const TYPING_THROTTLE_MS = 2000;

/** `typing_stop` after this long without a keystroke. */
const TYPING_IDLE_MS = 3000;

export const typingAndRead = {
  /** Call on every keystroke in the composer. @param {string} chatId @this {ChatStore} */
  userTyping(chatId) {
    let t = this.myTyping.get(chatId);
    if (!t) { t = { lastStart: 0, idle: null }; this.myTyping.set(chatId, t); }
    const now = Date.now();
    if (now - t.lastStart > TYPING_THROTTLE_MS) {
      if (this.socket?.send({ type: 'typing_start', chat_id: chatId })) t.lastStart = now;
    }
    if (t.idle) clearTimeout(t.idle);
    t.idle = setTimeout(() => this.stopTyping(chatId), TYPING_IDLE_MS);
  },

  /** @param {string} chatId @this {ChatStore} */
  stopTyping(chatId) {
    const t = this.myTyping.get(chatId);
    if (!t) return;
    if (t.idle) clearTimeout(t.idle);
    this.myTyping.delete(chatId);
    if (t.lastStart) this.socket?.send({ type: 'typing_stop', chat_id: chatId });
  },

  /** @param {string} chatId @returns {string[]} user ids typing there (not you) @this {ChatStore} */
  typingIn(chatId) {
    return [...(this.typing.get(chatId)?.keys() ?? [])];
  },

  /** Marks everything up to `seq` read (the UI calls this for visible messages in a focused tab).
   * @param {string} chatId @param {number} seq @this {ChatStore} */
  markRead(chatId, seq) {
    const c = this.chats.get(chatId);
    if (c && seq <= c.last_read_seq) return;
    if (!this.socket?.send({ type: 'read', chat_id: chatId, seq })) {
      this.api.markRead(chatId, seq).catch(() => { /* retried when next visible */ });
    }
    this.applyRead(chatId, seq);
    this.tabs?.postMessage({ type: 'read', chat_id: chatId, seq });
  },

  /** Moves the local read pointer (never back). @param {string} chatId @param {number} seq @this {ChatStore} */
  applyRead(chatId, seq) {
    const c = this.chats.get(chatId);
    if (!c || seq <= c.last_read_seq) return;
    const conv = this.convs.get(chatId);
    if (c.last_message && seq >= c.last_message.seq) {
      c.unread_count = 0;
    } else if (conv) {
      let n = 0;
      for (const m of conv.messages.values()) if (m.from !== this.me && m.seq > c.last_read_seq && m.seq <= seq) n++;
      c.unread_count = Math.max(0, c.unread_count - n);
    }
    c.mention_count = this.mentionsAfter(c, seq);
    c.last_read_seq = seq;
    this.emit('chats');
  },
};
