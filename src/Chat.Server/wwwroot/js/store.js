// @ts-check
/**
 * Client-side state of one signed-in user, fed by the REST API and the WebSocket. No DOM here:
 * the UI modules read the state and call the actions; every change is announced with a
 * `change` event whose `detail` is `{what, chatId?}`.
 * @module store
 */
import { ApiClient, ApiError } from './api.js';
import { ChatSocket, Outbox, newClientMsgId } from './socket.js';

/**
 * @typedef {import('./api.js').ChatSummary} ChatSummary
 * @typedef {import('./api.js').Message} Message
 * @typedef {import('./api.js').Group} Group
 * @typedef {import('./api.js').User} User
 * @typedef {import('./api.js').Attachment} Attachment
 * @typedef {import('./api.js').PresenceStatus} PresenceStatus
 * @typedef {import('./socket.js').Frame} Frame
 * @typedef {import('./socket.js').OutgoingMessage} OutgoingMessage
 *
 * @typedef {{user_id: string, username: string, display_name: string, device_id: string, token: string}} Session
 *
 * @typedef {{
 *   chat_id: string,
 *   messages: Map<number, Message>,
 *   ids: Set<string>,
 *   minSeq: number, maxSeq: number,
 *   loaded: boolean, loading: Promise<void> | null,
 *   hasMoreBefore: boolean, loadingOlder: boolean,
 *   catchingUp: Promise<void> | null, stale: boolean,
 *   receipts: Map<string, {delivered_seq: number, read_seq: number}>,
 *   group: Group | null,
 *   removed: boolean
 * }} Conversation
 *
 * @typedef {{
 *   client_msg_id: string, chat_id: string, content: string, timestamp: number,
 *   attachment?: {file_id: string},
 *   state: 'uploading' | 'sending' | 'failed',
 *   progress?: number, error?: string, sentAt?: number,
 *   file?: File, local?: {file_name: string, type: string, size: number, url: string}
 * }} Pending
 *
 * @typedef {'chats' | 'conversation' | 'older' | 'typing' | 'presence' | 'users' | 'connection' | 'pending' | 'group' | 'removed' | 'error'} ChangeKind
 */

const RANK = { sent: 1, delivered: 2, read: 3 };
const TYPING_THROTTLE_MS = 2000;
const TYPING_IDLE_MS = 3000;
const TYPING_EXPIRE_MS = 7000;
const RESEND_AFTER_MS = 8000;

export class ChatStore extends EventTarget {
  /** @param {Session} session @param {{onSignedOut?: (reason: string) => void}} [hooks] */
  constructor(session, hooks = {}) {
    super();
    this.session = session;
    this.me = session.user_id;
    this.hooks = hooks;
    this.api = new ApiClient({ token: session.token, onUnauthorized: () => this.signedOut('revoked') });
    /** @type {ChatSocket | null} */
    this.socket = null;
    this.outbox = new Outbox(`chat.outbox.v1.${session.user_id}`);

    /** @type {Map<string, ChatSummary>} */
    this.chats = new Map();
    this.chatsHasMore = false;
    this.chatsLoaded = false;
    /** @type {Map<string, Conversation>} */
    this.convs = new Map();
    /** @type {Map<string, Pending>} by client_msg_id */
    this.pending = new Map();
    /** @type {Map<string, Map<string, ReturnType<typeof setTimeout>>>} chat → typing user → expiry */
    this.typing = new Map();
    /** @type {Map<string, {status: PresenceStatus, last_seen: number}>} */
    this.presence = new Map();
    /** @type {Map<string, User>} */
    this.users = new Map();
    /** @type {Map<string, Promise<User | null>>} */
    this.userFetches = new Map();
    /** @type {Set<string>} */
    this.presenceSubs = new Set();
    /** @type {string | null} */
    this.openChatId = null;
    /** @type {Map<string, {lastStart: number, idle: ReturnType<typeof setTimeout> | null}>} */
    this.myTyping = new Map();
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.chatsReload = null;
    /** Recent live messages per chat (seq → message), so a chat-list snapshot fetched while
     * messages stream in can be brought up to date. @type {Map<string, Map<number, Message>>} */
    this.liveSeen = new Map();
    this.stopped = false;

    this.users.set(session.user_id, {
      user_id: session.user_id, username: session.username, display_name: session.display_name,
    });

    /** Tabs of the same browser profile share one token (one device): the server does not echo
     * a device's own sends or reads back to it, and delivers a message to the device (not to
     * every tab), so tabs pass messages and reads to each other. */
    /** @type {BroadcastChannel | null} */
    this.tabs = typeof BroadcastChannel === 'function' ? new BroadcastChannel(`chat.tabs.${session.user_id}`) : null;
    if (this.tabs) this.tabs.onmessage = (e) => this.onTabMessage(e.data);

    this.onVisibility = () => this.sendStatus();
    document.addEventListener('visibilitychange', this.onVisibility);
    this.resendTimer = setInterval(() => this.resendStale(), 4000);
  }

  // ------------------------------------------------------------------ lifecycle

  async start() {
    for (const m of this.outbox.all()) {
      if (!this.pending.has(m.client_msg_id)) this.pending.set(m.client_msg_id, { ...m, state: 'sending' });
    }
    const socket = new ChatSocket({ token: this.session.token });
    this.socket = socket;
    socket.addEventListener('state', () => this.emit('connection'));
    socket.addEventListener('unauthorized', () => this.signedOut('revoked'));
    socket.addEventListener('frame', (e) => this.onFrame(/** @type {CustomEvent<Frame>} */ (e).detail));
    socket.connect();
    try {
      await this.loadChats();
    } catch (err) {
      this.report(err);
    }
  }

  stop() {
    this.stopped = true;
    this.socket?.close();
    this.tabs?.close();
    clearInterval(this.resendTimer);
    document.removeEventListener('visibilitychange', this.onVisibility);
    for (const m of this.typing.values()) for (const t of m.values()) clearTimeout(t);
    for (const p of this.pending.values()) if (p.local) URL.revokeObjectURL(p.local.url);
  }

  /** @param {string} reason */
  signedOut(reason) {
    if (this.stopped) return;
    this.stop();
    this.hooks.onSignedOut?.(reason);
  }

  /** @returns {'connecting' | 'online' | 'offline'} */
  get connection() {
    const s = this.socket?.state;
    if (s === 'open') return 'online';
    if (s === 'closed') return 'offline';
    return 'connecting';
  }

  /** @param {ChangeKind} what @param {string} [chatId] @param {unknown} [extra] */
  emit(what, chatId, extra) {
    this.dispatchEvent(new CustomEvent('change', { detail: { what, chatId, extra } }));
  }

  /** @param {unknown} err */
  report(err) {
    const message = err instanceof Error ? err.message : String(err);
    this.emit('error', undefined, message);
  }

  // ------------------------------------------------------------------ chat list

  async loadChats() {
    const res = await this.api.chats(this.me, { limit: 50 });
    /** @type {Map<string, ChatSummary>} */
    const next = new Map();
    for (const c of res.chats) next.set(c.chat_id, this.mergeSummary(c));
    // Keep chats we know locally but the server does not list yet (a direct chat without messages).
    for (const [id, c] of this.chats) if (!next.has(id) && c.type === 'direct' && !c.last_message) next.set(id, c);
    this.chats = next;
    this.chatsHasMore = res.has_more;
    this.chatsLoaded = true;
    this.afterChatsChanged();
  }

  async loadMoreChats() {
    if (!this.chatsHasMore) return;
    const oldest = Math.min(...[...this.chats.values()].map((c) => c.updated_at));
    const res = await this.api.chats(this.me, { limit: 50, before: oldest });
    for (const c of res.chats) if (!this.chats.has(c.chat_id)) this.chats.set(c.chat_id, this.mergeSummary(c));
    this.chatsHasMore = res.has_more;
    this.afterChatsChanged();
  }

  /** Brings a chat-list snapshot up to date with what arrived live while it was in flight
   * (snapshots may also come back out of order). @param {ChatSummary} c @returns {ChatSummary} */
  mergeSummary(c) {
    const known = this.chats.get(c.chat_id);
    if (known && known.last_read_seq > c.last_read_seq) {
      // Read here after the snapshot was taken.
      if (c.last_message && known.last_read_seq >= c.last_message.seq) c.unread_count = 0;
      else c.unread_count = Math.min(c.unread_count, known.unread_count);
      c.last_read_seq = known.last_read_seq;
    }
    const snapSeq = c.last_message?.seq ?? 0;
    const seen = this.liveSeen.get(c.chat_id);
    if (seen) {
      for (const m of [...seen.values()].sort((a, b) => a.seq - b.seq)) {
        if (m.seq <= snapSeq) continue;
        c.last_message = { message_id: m.message_id, seq: m.seq, from: m.from, content: m.content, timestamp: m.timestamp };
        c.updated_at = Math.max(c.updated_at ?? 0, m.timestamp);
        if (m.from !== this.me && m.seq > c.last_read_seq) c.unread_count++;
      }
    } else if (known?.last_message && known.last_message.seq > snapSeq) {
      c.last_message = known.last_message;
      c.updated_at = Math.max(c.updated_at ?? 0, known.updated_at ?? 0);
    }
    if (c.other_user) {
      const u = c.other_user;
      if (!this.users.has(u.user_id)) this.users.set(u.user_id, { user_id: u.user_id, username: u.username, display_name: u.display_name });
      if (!this.presence.has(u.user_id) && u.status) this.presence.set(u.user_id, { status: u.status, last_seen: 0 });
    }
    return c;
  }

  afterChatsChanged() {
    const partners = [...this.chats.values()].map((c) => c.other_user?.user_id).filter((x) => !!x && x !== this.me);
    this.subscribePresence(/** @type {string[]} */ (partners));
    this.emit('chats');
  }

  /** Reloads the chat list soon (coalesces bursts, e.g. many messages for unknown chats). */
  scheduleChatsReload() {
    if (this.chatsReload) return;
    this.chatsReload = setTimeout(() => {
      this.chatsReload = null;
      this.loadChats().catch((e) => this.report(e));
    }, 250);
  }

  /** @returns {ChatSummary[]} newest activity first */
  sortedChats() {
    return [...this.chats.values()].sort((a, b) => chatTime(b) - chatTime(a));
  }

  /** @param {string} chatId @returns {string} */
  chatTitle(chatId) {
    const c = this.chats.get(chatId);
    if (c?.type === 'group') return c.name || this.convs.get(chatId)?.group?.name || 'Group';
    const other = this.directPartner(chatId);
    if (other === this.me) return 'Saved messages';
    return other ? this.displayName(other) : 'Chat';
  }

  /** @param {string} chatId @returns {string | null} the other user of a direct chat (yourself for saved messages) */
  directPartner(chatId) {
    if (!chatId.includes('_')) return null;
    const [a, b] = chatId.split('_');
    return a === this.me ? b : a;
  }

  /** @param {string} chatId */
  isGroup(chatId) { return !chatId.includes('_'); }

  // ------------------------------------------------------------------ users and presence

  /** @param {string} userId @returns {string} */
  displayName(userId) {
    const u = this.users.get(userId);
    if (u) return u.display_name || u.username;
    this.fetchUser(userId);
    return '…';
  }

  /** @param {string} userId @returns {Promise<User | null>} */
  fetchUser(userId) {
    let p = this.userFetches.get(userId);
    if (!p) {
      p = this.api.user(userId).then((u) => {
        this.users.set(userId, u);
        if (u.status && !this.presence.has(userId)) this.presence.set(userId, { status: u.status, last_seen: u.last_seen ?? 0 });
        this.emit('users');
        return u;
      }, () => null);
      this.userFetches.set(userId, p);
    }
    return p;
  }

  /** @param {string[]} userIds */
  subscribePresence(userIds) {
    const fresh = userIds.filter((id) => id !== this.me && !this.presenceSubs.has(id));
    if (!fresh.length) return;
    for (const id of fresh) this.presenceSubs.add(id);
    this.socket?.send({ type: 'presence_subscribe', user_ids: fresh });
  }

  sendStatus() {
    this.socket?.send({ type: 'set_status', status: document.visibilityState === 'hidden' ? 'away' : 'online' });
  }

  // ------------------------------------------------------------------ conversations

  /** @param {string} chatId @returns {Conversation} */
  conv(chatId) {
    let c = this.convs.get(chatId);
    if (!c) {
      c = {
        chat_id: chatId, messages: new Map(), ids: new Set(), minSeq: Infinity, maxSeq: 0,
        loaded: false, loading: null, hasMoreBefore: false, loadingOlder: false,
        catchingUp: null, stale: false, receipts: new Map(), group: null, removed: false,
      };
      this.convs.set(chatId, c);
    }
    return c;
  }

  /** Opens a chat: loads its history, receipts and (groups) members. @param {string | null} chatId */
  async openChat(chatId) {
    const prev = this.openChatId;
    if (prev && prev !== chatId) this.stopTyping(prev);
    this.openChatId = chatId;
    if (!chatId) return;
    const conv = this.conv(chatId);
    const partner = this.directPartner(chatId);
    if (partner) {
      this.subscribePresence([partner]);
      if (!this.users.has(partner) || !this.presence.has(partner)) this.fetchUser(partner);
    }
    if (!conv.loaded) {
      conv.loading ??= this.loadHistory(conv).finally(() => { conv.loading = null; });
      await conv.loading;
    } else if (conv.stale) {
      await this.catchUp(chatId);
    }
    this.loadReceipts(chatId).catch(() => { /* shown as plain ticks */ });
    if (this.isGroup(chatId)) this.loadGroup(chatId).catch((e) => this.report(e));
  }

  /** @param {Conversation} conv */
  async loadHistory(conv) {
    try {
      const page = await this.api.messages(conv.chat_id, { limit: 50 });
      for (const m of page.messages) this.insert(conv, m);
      conv.hasMoreBefore = page.has_more;
      conv.loaded = true;
      conv.stale = false;
      this.emit('conversation', conv.chat_id);
      if (this.firstGap(conv) !== null) await this.catchUp(conv.chat_id);
    } catch (err) {
      if (err instanceof ApiError && (err.status === 404 || err.status === 403)) {
        conv.loaded = true;
        this.emit('conversation', conv.chat_id);
      }
      throw err;
    }
  }

  /** Loads the page before the oldest loaded message. @param {string} chatId */
  async loadOlder(chatId) {
    const conv = this.conv(chatId);
    if (!conv.loaded || !conv.hasMoreBefore || conv.loadingOlder) return;
    conv.loadingOlder = true;
    this.emit('older', chatId, 'start');
    try {
      const before = Number.isFinite(conv.minSeq) ? conv.minSeq : undefined;
      const page = await this.api.messages(chatId, { limit: 50, before_seq: before });
      for (const m of page.messages) this.insert(conv, m);
      conv.hasMoreBefore = page.has_more;
    } finally {
      conv.loadingOlder = false;
      this.emit('older', chatId, 'done');
    }
  }

  /** Fetches everything after the last known message (or the first hole) in `seq` order.
   * @param {string} chatId */
  catchUp(chatId) {
    const conv = this.conv(chatId);
    if (!conv.loaded) return Promise.resolve();
    conv.catchingUp ??= (async () => {
      try {
        for (let guard = 0; guard < 50; guard++) {
          const gap = this.firstGap(conv);
          const after = gap !== null ? gap - 1 : conv.maxSeq;
          const page = await this.api.messages(chatId, { after_seq: after, limit: 100 });
          for (const m of page.messages) this.insert(conv, m);
          this.emit('conversation', chatId);
          if (!page.has_more && this.firstGap(conv) === null) break;
          if (!page.messages.length) break;
        }
        conv.stale = false;
      } finally {
        conv.catchingUp = null;
      }
    })();
    return conv.catchingUp;
  }

  /** @param {Conversation} conv @returns {number | null} the first missing seq between loaded messages */
  firstGap(conv) {
    if (!conv.messages.size) return null;
    for (let s = conv.minSeq; s <= conv.maxSeq; s++) if (!conv.messages.has(s)) return s;
    return null;
  }

  /** @param {string} chatId */
  async loadReceipts(chatId) {
    const res = await this.api.receipts(chatId);
    const conv = this.conv(chatId);
    for (const r of res.members) {
      const known = conv.receipts.get(r.user_id);
      conv.receipts.set(r.user_id, {
        delivered_seq: Math.max(r.delivered_seq, r.read_seq, known?.delivered_seq ?? 0),
        read_seq: Math.max(r.read_seq, known?.read_seq ?? 0),
      });
    }
    this.emit('conversation', chatId);
  }

  /** @param {string} groupId */
  async loadGroup(groupId) {
    const g = await this.api.group(groupId);
    const conv = this.conv(groupId);
    conv.group = g;
    const c = this.chats.get(groupId);
    if (c) { c.name = g.name; c.member_count = g.members.length; }
    for (const id of g.members) if (!this.users.has(id)) this.fetchUser(id);
    this.emit('group', groupId);
    this.emit('chats');
    return g;
  }

  /** Adds a message (deduplicated by `message_id` and `seq`). @param {Conversation} conv @param {Message} m
   * @returns {boolean} whether it was new */
  insert(conv, m) {
    const known = conv.messages.get(m.seq);
    if (known) {
      // Same message again (redelivery, catch-up): keep the best data of both.
      if (!known.attachment?.url && m.attachment?.url) known.attachment = m.attachment;
      if (m.status && (!known.status || RANK[m.status] > RANK[known.status])) known.status = m.status;
      return false;
    }
    if (conv.ids.has(m.message_id)) return false;
    conv.messages.set(m.seq, { ...m });
    conv.ids.add(m.message_id);
    conv.minSeq = Math.min(conv.minSeq, m.seq);
    conv.maxSeq = Math.max(conv.maxSeq, m.seq);
    return true;
  }

  /** @param {string} chatId @returns {Message[]} in seq order */
  messagesOf(chatId) {
    const conv = this.convs.get(chatId);
    if (!conv) return [];
    return [...conv.messages.values()].sort((a, b) => a.seq - b.seq);
  }

  /** @param {string} chatId @returns {Pending[]} oldest first */
  pendingOf(chatId) {
    return [...this.pending.values()].filter((p) => p.chat_id === chatId).sort((a, b) => a.timestamp - b.timestamp);
  }

  /** @param {string} chatId @returns {string[] | null} the other members, when known */
  otherMembers(chatId) {
    const partner = this.directPartner(chatId);
    if (partner) return partner === this.me ? [] : [partner];
    const g = this.convs.get(chatId)?.group;
    return g ? g.members.filter((id) => id !== this.me) : null;
  }

  /** Tick state of one of your own messages. @param {string} chatId @param {Message} m
   * @returns {'sent' | 'delivered' | 'read'} */
  statusOf(chatId, m) {
    let best = m.status ?? 'sent';
    const conv = this.convs.get(chatId);
    const others = this.otherMembers(chatId);
    if (conv && others && others.length) {
      const rs = others.map((id) => conv.receipts.get(id) ?? { delivered_seq: 0, read_seq: 0 });
      /** @type {'sent' | 'delivered' | 'read'} */
      let computed = 'sent';
      if (rs.every((r) => r.read_seq >= m.seq)) computed = 'read';
      else if (rs.every((r) => r.delivered_seq >= m.seq || r.read_seq >= m.seq)) computed = 'delivered';
      if (RANK[computed] > RANK[best]) best = computed;
    }
    return best;
  }

  /** How many other members read this message (groups). @param {string} chatId @param {Message} m */
  readByCount(chatId, m) {
    const conv = this.convs.get(chatId);
    const others = this.otherMembers(chatId);
    if (!conv || !others) return 0;
    return others.filter((id) => (conv.receipts.get(id)?.read_seq ?? 0) >= m.seq).length;
  }

  // ------------------------------------------------------------------ sending

  /** @param {string} chatId @param {string} content */
  sendText(chatId, content) {
    this.stopTyping(chatId);
    /** @type {OutgoingMessage} */
    const out = { client_msg_id: newClientMsgId(), chat_id: chatId, content, timestamp: Date.now() };
    this.outbox.add(out);
    this.pending.set(out.client_msg_id, { ...out, state: 'sending' });
    this.transmit(out.client_msg_id);
    this.emit('pending', chatId);
  }

  /** Uploads a file (with progress) and sends it as an attachment. @param {string} chatId @param {File} file */
  sendFile(chatId, file) {
    const cid = newClientMsgId();
    /** @type {Pending} */
    const p = {
      client_msg_id: cid, chat_id: chatId, content: '', timestamp: Date.now(), state: 'uploading', progress: 0, file,
      local: { file_name: file.name || 'file', type: file.type || 'application/octet-stream', size: file.size, url: URL.createObjectURL(file) },
    };
    this.pending.set(cid, p);
    this.emit('pending', chatId);
    this.upload(p);
  }

  /** @param {Pending} p */
  async upload(p) {
    if (!p.file) return;
    p.state = 'uploading';
    p.progress = 0;
    p.error = undefined;
    this.emit('pending', p.chat_id);
    let lastEmit = 0;
    try {
      const fileId = await this.api.uploadFile(p.file, (loaded, total) => {
        p.progress = total ? loaded / total : 0;
        const now = Date.now();
        if (now - lastEmit > 100) { lastEmit = now; this.emit('pending', p.chat_id); }
      });
      if (!this.pending.has(p.client_msg_id)) return; // discarded meanwhile
      p.attachment = { file_id: fileId };
      p.progress = 1;
      p.state = 'sending';
      this.outbox.add({ client_msg_id: p.client_msg_id, chat_id: p.chat_id, content: p.content, attachment: p.attachment, timestamp: p.timestamp });
      this.transmit(p.client_msg_id);
    } catch (err) {
      p.state = 'failed';
      p.error = err instanceof Error ? err.message : 'Upload failed.';
    }
    this.emit('pending', p.chat_id);
  }

  /** Sends (or re-sends: same client_msg_id) one pending message if connected. @param {string} cid */
  transmit(cid) {
    const p = this.pending.get(cid);
    if (!p || p.state !== 'sending') return;
    /** @type {Frame} */
    const frame = { type: 'new_message', chat_id: p.chat_id, content: p.content, client_msg_id: cid, timestamp: p.timestamp };
    if (p.attachment) frame.attachment = p.attachment;
    if (this.socket?.send(frame)) p.sentAt = Date.now();
  }

  /** A message without ack for a while (lost with a dropped socket) is sent again. */
  resendStale() {
    if (this.socket?.state !== 'open') return;
    const now = Date.now();
    for (const p of this.pending.values()) {
      if (p.state === 'sending' && (!p.sentAt || now - p.sentAt > RESEND_AFTER_MS)) this.transmit(p.client_msg_id);
    }
  }

  /** @param {string} cid */
  retry(cid) {
    const p = this.pending.get(cid);
    if (!p || p.state !== 'failed') return;
    if (p.file && !p.attachment) { this.upload(p); return; }
    p.state = 'sending';
    p.error = undefined;
    this.outbox.add({ client_msg_id: cid, chat_id: p.chat_id, content: p.content, attachment: p.attachment, timestamp: p.timestamp });
    this.transmit(cid);
    this.emit('pending', p.chat_id);
  }

  /** @param {string} cid */
  discard(cid) {
    const p = this.pending.get(cid);
    if (!p) return;
    this.pending.delete(cid);
    this.outbox.remove(cid);
    if (p.local) URL.revokeObjectURL(p.local.url);
    this.emit('pending', p.chat_id);
  }

  // ------------------------------------------------------------------ typing and read

  /** Call on every keystroke in the composer. @param {string} chatId */
  userTyping(chatId) {
    let t = this.myTyping.get(chatId);
    if (!t) { t = { lastStart: 0, idle: null }; this.myTyping.set(chatId, t); }
    const now = Date.now();
    if (now - t.lastStart > TYPING_THROTTLE_MS) {
      if (this.socket?.send({ type: 'typing_start', chat_id: chatId })) t.lastStart = now;
    }
    if (t.idle) clearTimeout(t.idle);
    t.idle = setTimeout(() => this.stopTyping(chatId), TYPING_IDLE_MS);
  }

  /** @param {string} chatId */
  stopTyping(chatId) {
    const t = this.myTyping.get(chatId);
    if (!t) return;
    if (t.idle) clearTimeout(t.idle);
    this.myTyping.delete(chatId);
    if (t.lastStart) this.socket?.send({ type: 'typing_stop', chat_id: chatId });
  }

  /** @param {string} chatId @returns {string[]} user ids typing there (not you) */
  typingIn(chatId) {
    return [...(this.typing.get(chatId)?.keys() ?? [])];
  }

  /** Marks everything up to `seq` read (the UI calls this for visible messages in a focused tab).
   * @param {string} chatId @param {number} seq */
  markRead(chatId, seq) {
    const c = this.chats.get(chatId);
    if (c && seq <= c.last_read_seq) return;
    if (!this.socket?.send({ type: 'read', chat_id: chatId, seq })) {
      this.api.markRead(chatId, seq).catch(() => { /* retried when next visible */ });
    }
    this.applyRead(chatId, seq);
    this.tabs?.postMessage({ type: 'read', chat_id: chatId, seq });
  }

  /** Moves the local read pointer (never back). @param {string} chatId @param {number} seq */
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
    c.last_read_seq = seq;
    this.emit('chats');
  }

  // ------------------------------------------------------------------ incoming frames

  /** @param {Frame} f */
  onFrame(f) {
    switch (f.type) {
      case 'ready': this.onReady(); break;
      case 'new_message': this.onNewMessage(/** @type {any} */ (f)); break;
      case 'ack': this.onAck(f); break;
      case 'delivery_receipt': this.onReceipt(f.chat_id, f.delivered_to, f.seq, false); break;
      case 'read_receipt': this.onReceipt(f.chat_id, f.read_by, f.seq, true); break;
      case 'sync_read': this.applyRead(f.chat_id, f.seq); break;
      case 'typing_start': this.onTyping(f.chat_id, f.user_id, true); break;
      case 'typing_stop': this.onTyping(f.chat_id, f.user_id, false); break;
      case 'presence_update': this.onPresence(f); break;
      case 'group_update': this.onGroupUpdate(f); break;
      case 'error': this.onError(f); break;
      default: break; // heartbeat_ack and future events
    }
  }

  onReady() {
    const socket = /** @type {ChatSocket} */ (this.socket);
    this.sendStatus();
    if (this.presenceSubs.size) socket.send({ type: 'presence_subscribe', user_ids: [...this.presenceSubs] });
    for (const p of this.pending.values()) if (p.state === 'sending') this.transmit(p.client_msg_id);
    if (socket.connections > 1) {
      // Back after a disconnect: the server re-pushes unacknowledged messages; also fetch what the
      // open chat may have missed, and refresh counts and receipts.
      for (const conv of this.convs.values()) conv.stale = true;
      this.loadChats().catch((e) => this.report(e));
      const open = this.openChatId;
      if (open) {
        this.catchUp(open).catch((e) => this.report(e));
        this.loadReceipts(open).catch(() => {});
      }
    }
    this.emit('connection');
  }

  /** @param {Message} m */
  onNewMessage(m) {
    this.ingest(m, true);
    this.tabsPost(m);
  }

  /** Adds a live message everywhere it shows. @param {Message} m @param {boolean} live */
  ingest(m, live) {
    let seen = this.liveSeen.get(m.chat_id);
    if (!seen) { seen = new Map(); this.liveSeen.set(m.chat_id, seen); }
    seen.set(m.seq, m);
    if (seen.size > 200) seen.delete(Math.min(...seen.keys()));
    const chat = this.chats.get(m.chat_id);
    const isNewer = !chat?.last_message || m.seq > chat.last_message.seq;
    if (!chat) {
      this.scheduleChatsReload();
    } else if (isNewer) {
      chat.last_message = { message_id: m.message_id, seq: m.seq, from: m.from, content: m.content, timestamp: m.timestamp };
      if (m.attachment && !m.content) chat.last_message.content = m.attachment.type?.startsWith('image/') ? 'Photo' : `File: ${m.attachment.file_name ?? ''}`;
      chat.updated_at = Math.max(chat.updated_at ?? 0, m.timestamp);
      if (m.from !== this.me && m.seq > chat.last_read_seq) chat.unread_count++;
    }
    if (m.from !== this.me) this.onTyping(m.chat_id, m.from, false);
    if (m.from === this.me && m.client_msg_id && this.pending.has(m.client_msg_id)) {
      const p = /** @type {Pending} */ (this.pending.get(m.client_msg_id));
      this.pending.delete(m.client_msg_id);
      this.outbox.remove(m.client_msg_id);
      if (p.local) URL.revokeObjectURL(p.local.url);
    }
    const conv = this.convs.get(m.chat_id);
    if (conv) {
      const wasLoaded = conv.loaded;
      const fresh = this.insert(conv, m);
      if (fresh && wasLoaded && live && this.firstGap(conv) !== null) {
        this.catchUp(m.chat_id).catch((e) => this.report(e));
      }
    }
    this.emit('conversation', m.chat_id);
    this.emit('chats');
  }

  /** @param {Frame} f */
  onAck(f) {
    const cid = f.client_msg_id;
    const p = this.pending.get(cid);
    const out = this.outbox.all().find((o) => o.client_msg_id === cid);
    this.outbox.remove(cid);
    if (!p && !out) return; // already handled (e.g. a re-sent duplicate)
    this.pending.delete(cid);
    /** @type {Message} */
    const m = {
      message_id: f.message_id, chat_id: f.chat_id, seq: f.seq, from: this.me,
      content: p?.content ?? out?.content ?? '', timestamp: f.timestamp, client_msg_id: cid, status: 'sent',
    };
    if (p?.local) {
      // Show the local copy until the server's signed URLs arrive.
      m.attachment = { file_id: p.attachment?.file_id ?? '', file_name: p.local.file_name, type: p.local.type, size: p.local.size, url: p.local.url, thumbnail_url: p.local.type.startsWith('image/') ? p.local.url : undefined };
    }
    this.ingest(m, true);
    if (p?.attachment || out?.attachment) {
      this.refetchMessage(f.chat_id, f.seq).then((full) => {
        if (p?.local) setTimeout(() => URL.revokeObjectURL(p.local?.url ?? ''), 30000);
        if (full) this.tabsPost(full);
      });
    } else {
      this.tabsPost(m);
    }
  }

  /** Replaces a message with the server's copy (for signed attachment URLs). @param {string} chatId @param {number} seq
   * @returns {Promise<Message | null>} */
  async refetchMessage(chatId, seq) {
    try {
      const page = await this.api.messages(chatId, { after_seq: seq - 1, limit: 1 });
      const full = page.messages.find((x) => x.seq === seq);
      const conv = this.convs.get(chatId);
      if (full && conv) {
        const known = conv.messages.get(seq);
        if (known) known.attachment = full.attachment;
        this.emit('conversation', chatId);
      }
      return full ?? null;
    } catch {
      return null;
    }
  }

  /** @param {string} chatId @param {string} userId @param {number} seq @param {boolean} read */
  onReceipt(chatId, userId, seq, read) {
    const conv = this.conv(chatId);
    const r = conv.receipts.get(userId) ?? { delivered_seq: 0, read_seq: 0 };
    r.delivered_seq = Math.max(r.delivered_seq, seq);
    if (read) r.read_seq = Math.max(r.read_seq, seq);
    conv.receipts.set(userId, r);
    const others = this.otherMembers(chatId);
    if (others && others.length === 1) {
      // Direct chats: the one other member's pointer decides the status of every message up to it.
      for (const m of conv.messages.values()) {
        if (m.from !== this.me || m.seq > seq) continue;
        const s = read ? 'read' : 'delivered';
        if (!m.status || RANK[s] > RANK[m.status]) m.status = s;
      }
    }
    this.emit('conversation', chatId);
  }

  /** @param {string} chatId @param {string} userId @param {boolean} on */
  onTyping(chatId, userId, on) {
    if (userId === this.me) return;
    let m = this.typing.get(chatId);
    const had = m?.has(userId) ?? false;
    if (!on && !had) return;
    if (m?.has(userId)) clearTimeout(/** @type {any} */ (m.get(userId)));
    if (on) {
      if (!m) { m = new Map(); this.typing.set(chatId, m); }
      m.set(userId, setTimeout(() => this.onTyping(chatId, userId, false), TYPING_EXPIRE_MS));
      if (!this.users.has(userId)) this.fetchUser(userId);
    } else if (m) {
      m.delete(userId);
      if (!m.size) this.typing.delete(chatId);
    }
    this.emit('typing', chatId);
  }

  /** @param {Frame} f */
  onPresence(f) {
    this.presence.set(f.user_id, { status: f.status, last_seen: f.last_seen });
    for (const c of this.chats.values()) if (c.other_user && c.other_user.user_id === f.user_id) c.other_user.status = f.status;
    this.emit('presence');
  }

  /** @param {Frame} f */
  onGroupUpdate(f) {
    const groupId = f.group_id;
    const ids = /** @type {string[]} */ (f.user_ids ?? []);
    if (f.action === 'member_removed' && ids.includes(this.me)) {
      this.chats.delete(groupId);
      const conv = this.convs.get(groupId);
      if (conv) conv.removed = true;
      this.emit('chats');
      this.emit('removed', groupId);
      return;
    }
    if (f.action === 'created' || (f.action === 'member_added' && ids.includes(this.me)) || !this.chats.has(groupId)) {
      this.scheduleChatsReload();
    }
    const conv = this.convs.get(groupId);
    if (conv?.group && (f.action === 'member_added' || f.action === 'member_removed')) {
      const g = conv.group;
      g.members = f.action === 'member_added'
        ? [...new Set([...g.members, ...ids])]
        : g.members.filter((id) => !ids.includes(id));
      const c = this.chats.get(groupId);
      if (c) c.member_count = g.members.length;
      for (const id of ids) if (!this.users.has(id)) this.fetchUser(id);
    }
    if (conv || f.action === 'updated') this.loadGroup(groupId).catch(() => {});
    this.emit('group', groupId);
    this.emit('chats');
  }

  /** @param {Frame} f */
  onError(f) {
    const p = f.client_msg_id ? this.pending.get(f.client_msg_id) : null;
    if (p) {
      if (f.code === 'rate_limited') {
        p.sentAt = Date.now() + (Number(f.retry_after_ms) || 1000) - RESEND_AFTER_MS;
        setTimeout(() => this.transmit(p.client_msg_id), Number(f.retry_after_ms) || 1000);
        return;
      }
      p.state = 'failed';
      p.error = f.error || f.code;
      this.outbox.remove(p.client_msg_id);
      this.emit('pending', p.chat_id);
      return;
    }
    if (f.code === 'forbidden' || f.code === 'not_found') return; // e.g. a read racing a removal
    this.report(f.error || f.code);
  }

  // ------------------------------------------------------------------ other tabs of this profile

  /** Tells the other tabs of this profile about a message. They share this device: the server
   * does not echo the device's own sends to it, and once one tab acked a message the device has
   * it, so another tab's socket may never be sent it. @param {Message} m */
  tabsPost(m) {
    this.tabs?.postMessage({ type: 'message', message: m });
  }

  /** @param {any} data */
  onTabMessage(data) {
    if (!data || typeof data !== 'object') return;
    if (data.type === 'message' && data.message) {
      const m = /** @type {Message} */ (data.message);
      if (m.attachment?.url?.startsWith('blob:')) return; // the other tab's local preview
      this.ingest(m, false);
      const conv = this.convs.get(m.chat_id);
      const known = conv?.messages.get(m.seq);
      if (known && m.attachment && !known.attachment?.url) known.attachment = m.attachment;
    } else if (data.type === 'read') {
      this.applyRead(data.chat_id, data.seq);
    }
  }

  // ------------------------------------------------------------------ chats and groups management

  /** Finds a user by exact username and opens (or creates) the direct chat. @param {string} username
   * @returns {Promise<string>} chat id */
  async startDirect(username) {
    const res = await this.api.findUsers(username.trim());
    const u = res.users[0];
    if (!u) throw new Error(`No user named “${username.trim()}”.`);
    this.users.set(u.user_id, u);
    const { chat_id } = await this.api.directChat(u.user_id);
    if (!this.chats.has(chat_id)) {
      this.chats.set(chat_id, {
        chat_id, type: 'direct',
        other_user: { user_id: u.user_id, username: u.username, display_name: u.display_name, status: this.presence.get(u.user_id)?.status ?? 'offline' },
        last_message: null, unread_count: 0, last_read_seq: 0, updated_at: Date.now(),
      });
      this.afterChatsChanged();
    }
    return chat_id;
  }

  /** @param {string[]} usernames @returns {Promise<string[]>} user ids */
  async resolveUsernames(usernames) {
    const ids = [];
    for (const name of usernames) {
      const res = await this.api.findUsers(name);
      const u = res.users[0];
      if (!u) throw new Error(`No user named “${name}”.`);
      this.users.set(u.user_id, u);
      ids.push(u.user_id);
    }
    return ids;
  }

  /** @param {string} name @param {string[]} usernames @returns {Promise<string>} group id */
  async createGroup(name, usernames) {
    const members = await this.resolveUsernames(usernames);
    const g = await this.api.createGroup({ name, members });
    this.conv(g.group_id).group = g;
    if (!this.chats.has(g.group_id)) {
      this.chats.set(g.group_id, {
        chat_id: g.group_id, type: 'group', name: g.name, member_count: g.members.length,
        last_message: null, unread_count: 0, last_read_seq: 0, updated_at: g.created_at,
      });
    }
    this.afterChatsChanged();
    return g.group_id;
  }

  /** @param {string} groupId @param {string} name */
  async renameGroup(groupId, name) {
    const g = await this.api.updateGroup(groupId, { name });
    this.conv(groupId).group = g;
    const c = this.chats.get(groupId);
    if (c) c.name = g.name;
    this.emit('group', groupId);
    this.emit('chats');
  }

  /** @param {string} groupId @param {string} username */
  async addMember(groupId, username) {
    const ids = await this.resolveUsernames([username.trim()]);
    const g = await this.api.addMembers(groupId, ids);
    this.conv(groupId).group = g;
    const c = this.chats.get(groupId);
    if (c) c.member_count = g.members.length;
    this.emit('group', groupId);
    this.emit('chats');
  }

  /** @param {string} groupId @param {string} userId */
  async removeMember(groupId, userId) {
    await this.api.removeMember(groupId, userId);
    const conv = this.conv(groupId);
    if (conv.group) conv.group.members = conv.group.members.filter((id) => id !== userId);
    const c = this.chats.get(groupId);
    if (c && conv.group) c.member_count = conv.group.members.length;
    this.emit('group', groupId);
    this.emit('chats');
  }

  /** @param {string} groupId */
  async leaveGroup(groupId) {
    await this.api.removeMember(groupId, this.me);
    this.chats.delete(groupId);
    this.conv(groupId).removed = true;
    this.emit('chats');
    this.emit('removed', groupId);
  }
}

/** @param {ChatSummary} c */
function chatTime(c) {
  return Math.max(c.last_message?.timestamp ?? 0, c.updated_at ?? 0);
}
