// @ts-check
/**
 * Conversations: the messages of one chat by `seq` (history, older pages, catch-up over gaps),
 * receipts, group details, and the tick state of your own messages.
 * Methods of {@link ChatStore} (mixed into it by store.js; `this` is the store).
 * @module store/conversations
 */
import { ApiError } from '../api.js';
/** @import { ChatStore, Conversation, Pending } from '../store.js' */
/** @import { Message } from '../api.js' */

/** Order of the tick states: a status only ever moves up. */
export const RANK = { sent: 1, delivered: 2, read: 3 };

export const conversations = {
  /** @param {string} chatId @returns {Conversation} @this {ChatStore} */
  conv(chatId) {
    let c = this.convs.get(chatId);
    if (!c) {
      c = {
        chat_id: chatId, messages: new Map(), ids: new Set(), minSeq: Infinity, maxSeq: 0,
        loaded: false, loading: null, hasMoreBefore: false, loadingOlder: false,
        catchingUp: null, stale: false, receipts: new Map(), group: null, removed: false,
        events: new Map(), eventsLow: Infinity,
      };
      this.convs.set(chatId, c);
    }
    return c;
  },

  /** Opens a chat: loads its history, receipts and (groups) members. @param {string | null} chatId @this {ChatStore} */
  async openChat(chatId) {
    const prev = this.openChatId;
    if (prev && prev !== chatId) this.stopTyping(prev);
    if (chatId !== prev) this.openedReadSeq = chatId ? (this.chats.get(chatId)?.last_read_seq ?? null) : null;
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
  },

  /** @param {Conversation} conv @this {ChatStore} */
  async loadHistory(conv) {
    try {
      const page = await this.api.messages(conv.chat_id, { limit: 50 });
      for (const m of page.messages) this.insert(conv, m);
      conv.hasMoreBefore = page.has_more;
      await this.loadFirstEvents(conv);
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
  },

  /** Loads the page before the oldest loaded message. @param {string} chatId @this {ChatStore} */
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
      await this.loadOlderEvents(conv);
    } finally {
      conv.loadingOlder = false;
      this.emit('older', chatId, 'done');
    }
  },

  /** Fetches everything after the last known message (or the first hole) in `seq` order.
   * @param {string} chatId @this {ChatStore} */
  catchUp(chatId) {
    const conv = this.conv(chatId);
    if (!conv.loaded) return Promise.resolve();
    conv.catchingUp ??= (async () => {
      const wasStale = conv.stale;
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
        if (wasStale) await this.catchUpEvents(conv);
        conv.stale = false;
      } finally {
        conv.catchingUp = null;
      }
    })();
    return conv.catchingUp;
  },

  /** @param {Conversation} conv @returns {number | null} the first missing seq between loaded messages @this {ChatStore} */
  firstGap(conv) {
    if (!conv.messages.size) return null;
    for (let s = conv.minSeq; s <= conv.maxSeq; s++) if (!conv.messages.has(s)) return s;
    return null;
  },

  /** @param {string} chatId @this {ChatStore} */
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
  },

  /** @param {string} groupId @this {ChatStore} */
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
  },

  /** Adds a message (deduplicated by `message_id` and `seq`). @param {Conversation} conv @param {Message} m
   * @returns {boolean} whether it was new @this {ChatStore} */
  insert(conv, m) {
    const known = conv.messages.get(m.seq);
    if (known) {
      // Same message again (redelivery, catch-up): keep the best data of both.
      if (!known.attachment?.url && m.attachment?.url) known.attachment = m.attachment;
      if (known.message_id === m.message_id && (m.rev ?? 0) > (known.rev ?? 0)) this.mergeRevision(known, m);
      if (m.status && (!known.status || RANK[m.status] > RANK[known.status])) known.status = m.status;
      return false;
    }
    if (conv.ids.has(m.message_id)) return false;
    conv.messages.set(m.seq, { ...m });
    conv.ids.add(m.message_id);
    conv.minSeq = Math.min(conv.minSeq, m.seq);
    conv.maxSeq = Math.max(conv.maxSeq, m.seq);
    return true;
  },

  /** @param {string} chatId @returns {Message[]} in seq order @this {ChatStore} */
  messagesOf(chatId) {
    const conv = this.convs.get(chatId);
    if (!conv) return [];
    return [...conv.messages.values()].sort((a, b) => a.seq - b.seq);
  },

  /** @param {string} chatId @returns {Pending[]} oldest first @this {ChatStore} */
  pendingOf(chatId) {
    return [...this.pending.values()].filter((p) => p.chat_id === chatId).sort((a, b) => a.timestamp - b.timestamp);
  },

  /** @param {string} chatId @returns {string[] | null} the other members, when known @this {ChatStore} */
  otherMembers(chatId) {
    const partner = this.directPartner(chatId);
    if (partner) return partner === this.me ? [] : [partner];
    const g = this.convs.get(chatId)?.group;
    return g ? g.members.filter((id) => id !== this.me) : null;
  },

  /** Tick state of one of your own messages. @param {string} chatId @param {Message} m
   * @returns {'sent' | 'delivered' | 'read'} @this {ChatStore} */
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
  },

  /** How many other members read this message (groups). @param {string} chatId @param {Message} m @this {ChatStore} */
  readByCount(chatId, m) {
    const conv = this.convs.get(chatId);
    const others = this.otherMembers(chatId);
    if (!conv || !others) return 0;
    return others.filter((id) => (conv.receipts.get(id)?.read_seq ?? 0) >= m.seq).length;
  },
};
