// @ts-check
/**
 * Notifications in the page (docs/push.md): a settings toggle that asks for permission (never on first load) and
 * subscribes this device to Web Push; a desktop notification and optional sound when the tab is hidden and a live
 * message arrives; a favicon badge with the unread count; per-chat notify / mute settings in the conversation header.
 * @module ui/notifications
 */
import { h, toast } from './dom.js';

/** @typedef {import('../store.js').ChatStore} ChatStore */
/** @typedef {import('../api.js').Message} Message */
/** @typedef {{notify?: 'all' | 'mentions' | 'none', muted_until?: number | null, mention_count?: number}} ChatNotifyFields */

const ENABLED_KEY = 'chat.notifications.v1';
const SOUND_KEY = 'chat.notifications.sound.v1';
const MUTE_8H = 8 * 3600 * 1000;

/** @param {string} b64 base64url @returns {Uint8Array<ArrayBuffer>} */
function fromBase64Url(b64) {
  const s = atob(b64.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((b64.length + 3) % 4));
  const bytes = new Uint8Array(new ArrayBuffer(s.length));
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return bytes;
}

/** @param {ChatNotifyFields | undefined} chat @param {number} now */
export function isMuted(chat, now = Date.now()) {
  return !!chat && (chat.notify === 'none' || (chat.muted_until ?? 0) > now);
}

export class NotificationsView {
  /** @param {ChatStore} store @param {(chatId: string) => void} navigate */
  constructor(store, navigate) {
    this.store = store;
    this.navigate = navigate;
    this.enabled = localStorage.getItem(ENABLED_KEY) === '1';
    this.sound = localStorage.getItem(SOUND_KEY) === '1';
    /** @type {string | null} */
    this.lastFavicon = null;

    this.toggle = /** @type {HTMLButtonElement} */ (h('button', {
      type: 'button', class: 'icon', id: 'btn-notifications', 'data-testid': 'notifications-toggle',
      onclick: () => { void this.setEnabled(!this.enabled); },
    }, '🔔'));
    this.soundToggle = /** @type {HTMLButtonElement} */ (h('button', {
      type: 'button', class: 'icon', id: 'btn-notification-sound', 'data-testid': 'notifications-sound',
      onclick: () => this.setSound(!this.sound),
    }, '♪'));
    document.querySelector('#btn-devices')?.before(this.toggle, this.soundToggle);

    this.select = /** @type {HTMLSelectElement} */ (h('select', {
      id: 'conv-notify', 'aria-label': 'Notifications for this chat', 'data-testid': 'chat-notify',
      onchange: () => { void this.saveChatSetting(this.select.value); },
    },
    h('option', { value: 'all' }, 'All messages'),
    h('option', { value: 'mentions' }, 'Mentions only'),
    h('option', { value: 'none' }, 'Nothing'),
    h('option', { value: 'mute8h' }, 'Muted for 8 hours')));
    document.querySelector('#btn-group-info')?.before(this.select);

    store.addEventListener('live-message', (e) => this.onLiveMessage(/** @type {CustomEvent<Message>} */ (e).detail));
    store.addEventListener('change', (e) => {
      const { what } = /** @type {CustomEvent} */ (e).detail;
      if (what === 'chats' || what === 'conversation') this.render();
    });
    this.render();
    // Already enabled on this device: keep the subscription fresh (browsers rotate them), without prompting.
    if (this.enabled && 'Notification' in window && Notification.permission === 'granted') void this.subscribe().catch(() => {});
  }

  /** @param {boolean} on */
  async setEnabled(on) {
    if (on) {
      if (!('Notification' in window)) { toast('This browser has no notifications.', 'error'); return; }
      // Asked only here, from the user's click: never on page load.
      const permission = Notification.permission === 'default' ? await Notification.requestPermission() : Notification.permission;
      if (permission !== 'granted') { toast('Notifications are blocked for this site in the browser settings.', 'error'); return; }
      this.enabled = true;
      localStorage.setItem(ENABLED_KEY, '1');
      this.render();
      try {
        await this.subscribe();
      } catch (err) {
        // Desktop notifications for a hidden tab still work without Web Push (e.g. no push service reachable).
        console.warn('Web Push subscription failed', err);
      }
    } else {
      this.enabled = false;
      localStorage.removeItem(ENABLED_KEY);
      this.render();
      await this.store.api.request('DELETE', '/api/push/subscriptions').catch(() => {});
      const reg = await navigator.serviceWorker?.getRegistration('./');
      const sub = await reg?.pushManager.getSubscription();
      await sub?.unsubscribe().catch(() => {});
    }
  }

  /** @param {boolean} on */
  setSound(on) {
    this.sound = on;
    if (on) localStorage.setItem(SOUND_KEY, '1');
    else localStorage.removeItem(SOUND_KEY);
    this.render();
  }

  /** Registers the service worker and sends this device's push subscription to the server. */
  async subscribe() {
    if (!('serviceWorker' in navigator) || !('PushManager' in window)) return;
    const reg = await navigator.serviceWorker.register('./sw.js');
    await navigator.serviceWorker.ready;
    /** @type {{public_key: string}} */
    const key = await this.store.api.request('GET', '/api/push/vapid-public-key');
    const serverKey = fromBase64Url(key.public_key);
    let sub = await reg.pushManager.getSubscription();
    // A subscription made for another server key (key rotation) is replaced.
    const current = sub?.options.applicationServerKey;
    if (sub && current && new Uint8Array(current).join() !== serverKey.join()) { await sub.unsubscribe(); sub = null; }
    sub ??= await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: serverKey });
    const json = sub.toJSON();
    await this.store.api.request('POST', '/api/push/subscriptions', { endpoint: json.endpoint, keys: json.keys });
  }

  /** @param {Message} m */
  onLiveMessage(m) {
    if (m.from === this.store.me) return;
    const chat = /** @type {(import('../api.js').ChatSummary & ChatNotifyFields) | undefined} */ (this.store.chats.get(m.chat_id));
    if (isMuted(chat)) return;
    const mentioned = /** @type {{mentions?: string[]}} */ (m).mentions?.includes(this.store.me) ?? false;
    if (chat?.notify === 'mentions' && !mentioned) return;
    if (!document.hidden) return; // the open tab shows it
    if (this.sound) this.beep();
    if (!this.enabled || !('Notification' in window) || Notification.permission !== 'granted') return;
    const sender = this.store.users.get(m.from);
    const senderName = sender?.display_name || sender?.username || 'Someone';
    const title = chat?.type === 'group' ? (chat.name ?? 'Group') : senderName;
    const body = (chat?.type === 'group' ? `${senderName}: ` : '') + (m.content || (m.attachment ? 'Sent a file' : ''));
    const n = new Notification(title, { body: body.slice(0, 200), tag: m.chat_id });
    n.onclick = () => { window.focus(); this.navigate(m.chat_id); n.close(); };
  }

  beep() {
    try {
      const ctx = new AudioContext();
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.08, ctx.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + 0.25);
      osc.connect(gain).connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.25);
      osc.onended = () => { void ctx.close(); };
    } catch { /* no audio: nothing to do */ }
  }

  /** @param {string} value 'all' | 'mentions' | 'none' | 'mute8h' */
  async saveChatSetting(value) {
    const chatId = this.store.openChatId;
    if (!chatId) return;
    const chat = /** @type {(import('../api.js').ChatSummary & ChatNotifyFields) | undefined} */ (this.store.chats.get(chatId));
    const body = value === 'mute8h'
      ? { notify: chat?.notify === 'none' ? 'all' : (chat?.notify ?? 'all'), muted_until: Date.now() + MUTE_8H }
      : { notify: value, muted_until: null };
    try {
      /** @type {{notify: 'all' | 'mentions' | 'none', muted_until: number | null}} */
      const saved = await this.store.api.request('PUT', `/api/chats/${encodeURIComponent(chatId)}/settings`, body);
      if (chat) Object.assign(chat, saved);
      this.store.emit('chats');
    } catch (err) {
      toast(/** @type {Error} */ (err).message, 'error');
    }
  }

  render() {
    const on = this.enabled && 'Notification' in window && Notification.permission === 'granted';
    this.toggle.setAttribute('aria-pressed', String(on));
    this.toggle.title = on ? 'Notifications on (click to turn off)' : 'Turn on notifications';
    this.toggle.setAttribute('aria-label', this.toggle.title);
    this.soundToggle.setAttribute('aria-pressed', String(this.sound));
    this.soundToggle.title = this.sound ? 'Sound on' : 'Sound off';
    this.soundToggle.setAttribute('aria-label', this.soundToggle.title);

    const chatId = this.store.openChatId;
    const chat = chatId ? /** @type {(import('../api.js').ChatSummary & ChatNotifyFields) | undefined} */ (this.store.chats.get(chatId)) : undefined;
    this.select.hidden = !chat;
    if (chat) this.select.value = (chat.muted_until ?? 0) > Date.now() ? 'mute8h' : (chat.notify ?? 'all');

    let unread = 0;
    for (const c of this.store.chats.values()) if (!isMuted(/** @type {ChatNotifyFields} */ (c))) unread += c.unread_count;
    this.setFavicon(unread);
    document.title = unread > 0 ? `(${unread}) Chat` : 'Chat';
  }

  /** Draws the favicon with a red badge carrying the unread count. @param {number} count */
  setFavicon(count) {
    const label = count > 99 ? '99+' : count > 0 ? String(count) : '';
    if (label === this.lastFavicon) return;
    this.lastFavicon = label;
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 32;
    const g = canvas.getContext('2d');
    if (!g) return;
    g.fillStyle = '#3b82f6';
    g.beginPath(); g.arc(16, 16, 14, 0, Math.PI * 2); g.fill();
    if (label) {
      g.fillStyle = '#ef4444';
      g.beginPath(); g.arc(22, 10, 10, 0, Math.PI * 2); g.fill();
      g.fillStyle = '#fff';
      g.font = 'bold 13px sans-serif';
      g.textAlign = 'center'; g.textBaseline = 'middle';
      g.fillText(label, 22, 11);
    }
    let link = /** @type {HTMLLinkElement | null} */ (document.querySelector('link[rel="icon"]'));
    if (!link) { link = document.createElement('link'); link.rel = 'icon'; document.head.append(link); }
    link.href = canvas.toDataURL('image/png');
    link.dataset.unread = label || '0';
  }
}
