// @ts-check
/**
 * Incoming frames: what each server frame (`ready`, `new_message`, `ack`, receipts, typing,
 * presence, `group_update`, `error`) does to the state.
 * Methods of {@link ChatStore} (mixed into it by store.js; `this` is the store).
 * @module store/frames
 */
import { RANK } from './conversations.js';
import { RESEND_AFTER_MS } from './sending.js';
/** @import { ChatStore, Pending } from '../store.js' */
/** @import { Message } from '../api.js' */
/** @import { ChatSocket, ServerFrame, AckFrame, PresenceFrame, GroupUpdateFrame, ErrorFrame } from '../socket.js' */

/** Someone else's typing shows this long after their last `typing_start` unless a stop comes. */
const TYPING_EXPIRE_MS = 7000;

export const incomingFrames = {
  /** @param {ServerFrame} f @this {ChatStore} */
  onFrame(f) {
    switch (f.type) {
      case 'ready': this.onReady(); break;
      case 'new_message': this.onNewMessage(f); break;
      case 'ack': this.onAck(f); break;
      case 'delivery_receipt': this.onReceipt(f.chat_id, f.delivered_to, f.seq, false); break;
      case 'read_receipt': this.onReceipt(f.chat_id, f.read_by, f.seq, true); break;
      case 'sync_read': this.applyRead(f.chat_id, f.seq); break;
      case 'typing_start': this.onTyping(f.chat_id, f.user_id, true); break;
      case 'typing_stop': this.onTyping(f.chat_id, f.user_id, false); break;
      case 'presence_update': this.onPresence(f); break;
      case 'group_update': this.onGroupUpdate(f); break;
      case 'message_updated': this.onMessageUpdated(f); break;
      case 'error': this.onError(f); break;
      default: break; // heartbeat_ack and future events
    }
  },

  /** @this {ChatStore} */
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
  },

  /** @param {Message} m @this {ChatStore} */
  onNewMessage(m) {
    this.ingest(m, true);
    this.tabsPost(m);
  },

  /** Adds a live message everywhere it shows. @param {Message} m @param {boolean} live @this {ChatStore} */
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
      this.countMention(chat, m);
    }
    if (m.from !== this.me) this.onTyping(m.chat_id, m.from, false);
    if (m.from === this.me && m.client_msg_id && this.pending.has(m.client_msg_id)) {
      const p = /** @type {Pending} */ (this.pending.get(m.client_msg_id));
      this.pending.delete(m.client_msg_id);
      this.outbox.remove(m.client_msg_id);
      if (p.local) URL.revokeObjectURL(p.local.url);
      this.transmitNext(m.chat_id);
    }
    const conv = this.convs.get(m.chat_id);
    // A window opened at an older message (store/conversations.js) does not reach the live end: not glued on.
    if (conv && !conv.hasMoreAfter) {
      const wasLoaded = conv.loaded;
      const fresh = this.insert(conv, m);
      if (fresh && wasLoaded && live && this.firstGap(conv) !== null) {
        this.catchUp(m.chat_id).catch((e) => this.report(e));
      }
    }
    this.emit('conversation', m.chat_id);
    this.emit('chats');
    if (live) this.dispatchEvent(new CustomEvent('live-message', { detail: m })); // ui/notifications.js
  },

  /** @param {AckFrame} f @this {ChatStore} */
  onAck(f) {
    const cid = f.client_msg_id;
    const p = this.pending.get(cid);
    const out = this.outbox.all().find((o) => o.client_msg_id === cid);
    this.outbox.remove(cid);
    if (!p && !out) return; // already handled (e.g. a re-sent duplicate)
    this.pending.delete(cid);
    this.transmitNext(f.chat_id);
    /** @type {Message} */
    const m = {
      message_id: f.message_id, chat_id: f.chat_id, seq: f.seq, from: this.me,
      content: p?.content ?? out?.content ?? '', timestamp: f.timestamp, client_msg_id: cid, status: 'sent',
      reply_to: this.replyRefTo(f.chat_id, p?.reply_to ?? out?.reply_to),
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
  },

  /** Replaces a message with the server's copy (for signed attachment URLs). @param {string} chatId @param {number} seq
   * @returns {Promise<Message | null>} @this {ChatStore} */
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
  },

  /** @param {string} chatId @param {string} userId @param {number} seq @param {boolean} read @this {ChatStore} */
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
  },

  /** @param {string} chatId @param {string} userId @param {boolean} on @this {ChatStore} */
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
  },

  /** @param {PresenceFrame} f @this {ChatStore} */
  onPresence(f) {
    this.presence.set(f.user_id, { status: f.status, last_seen: f.last_seen });
    for (const c of this.chats.values()) if (c.other_user && c.other_user.user_id === f.user_id) c.other_user.status = f.status;
    this.emit('presence');
  },

  /** @param {GroupUpdateFrame} f @this {ChatStore} */
  onGroupUpdate(f) {
    const groupId = f.group_id;
    const ids = f.user_ids ?? [];
    this.addLiveEvent(f);
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
  },

  /** @param {ErrorFrame} f @this {ChatStore} */
  onError(f) {
    if (this.onActionError(f)) return;
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
      this.transmitNext(p.chat_id);
      this.emit('pending', p.chat_id);
      return;
    }
    if (f.code === 'forbidden' || f.code === 'not_found') return; // e.g. a read racing a removal
    this.report(f.error || f.code);
  },
};
