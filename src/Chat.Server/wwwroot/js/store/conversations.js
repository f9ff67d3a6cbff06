// @ts-check
/**
 * Conversations: the messages of one chat by `seq` (history, older pages, catch-up over gaps),
 * receipts, group details, and the tick state of your own messages.
 *
 * The loaded messages are always one unbroken `seq` range. Usually it ends at the newest message and
 * live messages extend it. Opened at a message far back (a search hit, a quoted reply), it is a window
 * around that message instead (`hasMoreAfter`): newer pages load as you scroll down, and live messages
 * are not glued on after the hole (the chat list still counts them); the window joins the live end
 * when a newer page reaches it, or `loadLatest` starts again from the newest page.
 * Methods of {@link ChatStore} (mixed into it by store.js; `this` is the store).
 * @module store/conversations
 */
import { ApiError } from '../api.js';
/** @import { ChatStore, Conversation, Pending } from '../store.js' */
/** @import { Message } from '../api.js' */

/** Order of the tick states: a status only ever moves up. */
export const RANK = { sent: 1, delivered: 2, read: 3 };

/** History page size. */
const PAGE = 50;
/** A window opened at a message holds this many on each side of it. */
const AROUND = 25;
/** A target at most this many `seq` before the loaded range is reached by paging back (keeping the
 * range joined to the newest message); farther back, a window is loaded around it. */
const PAGE_BACK_MAX = 100;

export const conversations = {
  /** @param {string} chatId @returns {Conversation} @this {ChatStore} */
  conv(chatId) {
    let c = this.convs.get(chatId);
    if (!c) {
      c = {
        chat_id: chatId, messages: new Map(), ids: new Set(), minSeq: Infinity, maxSeq: 0,
        loaded: false, loading: null, hasMoreBefore: false, loadingOlder: false,
        hasMoreAfter: false, loadingNewer: false, epoch: 0,
        catchingUp: null, stale: false, receipts: new Map(), group: null, removed: false,
        events: new Map(), eventsLow: Infinity,
      };
      this.convs.set(chatId, c);
    }
    return c;
  },

  /** Opens a chat: loads its history, receipts and (groups) members. With `atSeq`, the history
   * around that message (`loadAround`); without, the newest page (a window left from an earlier
   * jump is replaced by it). @param {string | null} chatId @param {number} [atSeq] @this {ChatStore} */
  async openChat(chatId, atSeq) {
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
    if (atSeq !== undefined) {
      await this.loadAround(chatId, atSeq);
      if (conv.stale) await this.catchUp(chatId);
    } else if (!conv.loaded) {
      conv.loading ??= this.loadHistory(conv).finally(() => { conv.loading = null; });
      await conv.loading;
    } else if (conv.hasMoreAfter) {
      await this.loadLatest(chatId);
    } else if (conv.stale) {
      await this.catchUp(chatId);
    }
    this.loadReceipts(chatId).catch(() => { /* shown as plain ticks */ });
    if (this.isGroup(chatId)) this.loadGroup(chatId).catch((e) => this.report(e));
  },

  /** @param {Conversation} conv @this {ChatStore} */
  async loadHistory(conv) {
    try {
      const epoch = conv.epoch;
      const page = await this.api.messages(conv.chat_id, { limit: PAGE });
      if (conv.epoch !== epoch) return;
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
    const epoch = conv.epoch;
    this.emit('older', chatId, 'start');
    try {
      const before = Number.isFinite(conv.minSeq) ? conv.minSeq : undefined;
      const page = await this.api.messages(chatId, { limit: PAGE, before_seq: before });
      if (conv.epoch !== epoch) return; // replaced meanwhile (a jump, or back to the newest)
      for (const m of page.messages) this.insert(conv, m);
      conv.hasMoreBefore = page.has_more;
      await this.loadOlderEvents(conv);
    } finally {
      if (conv.epoch === epoch) conv.loadingOlder = false;
      this.emit('older', chatId, 'done');
    }
  },

  /** Loads the page after the newest loaded message of a window (`hasMoreAfter`). When it reaches
   * the end, the window is joined to the live end: anything that arrived live meanwhile is fetched.
   * @param {string} chatId @this {ChatStore} */
  async loadNewer(chatId) {
    const conv = this.conv(chatId);
    if (!conv.loaded || !conv.hasMoreAfter || conv.loadingNewer) return;
    conv.loadingNewer = true;
    const epoch = conv.epoch;
    this.emit('newer', chatId, 'start');
    try {
      const page = await this.api.messages(chatId, { limit: PAGE, after_seq: conv.maxSeq });
      if (conv.epoch !== epoch) return;
      for (const m of page.messages) this.insert(conv, m);
      conv.hasMoreAfter = page.has_more && page.messages.length > 0;
    } finally {
      if (conv.epoch === epoch) conv.loadingNewer = false;
      this.emit('newer', chatId, 'done');
    }
    // Live messages were not added while the window was open; the chat list knows the newest seq.
    const newest = this.chats.get(chatId)?.last_message?.seq ?? 0;
    if (!conv.hasMoreAfter && newest > conv.maxSeq) await this.catchUp(chatId);
  },

  /** Makes sure the message at `seq` is loaded, reusing what is loaded when it is there or close:
   * paging back when it is a little older than the loaded range, else a window around it.
   * @param {string} chatId @param {number} seq @returns {Promise<boolean>} whether it is loaded now @this {ChatStore} */
  async loadAround(chatId, seq) {
    const conv = this.conv(chatId);
    while (conv.loading) await conv.loading.catch(() => {});
    if (conv.messages.has(seq)) return true;
    if (conv.loaded && conv.messages.size && seq < conv.minSeq && conv.minSeq - seq <= PAGE_BACK_MAX) {
      return this.loadBackTo(chatId, seq);
    }
    conv.loading = this.loadWindow(conv, seq).finally(() => { conv.loading = null; });
    await conv.loading;
    return conv.messages.has(seq);
  },

  /** Replaces the loaded messages with a window around `seq`: it and up to AROUND before and after.
   * @param {Conversation} conv @param {number} seq @this {ChatStore} */
  async loadWindow(conv, seq) {
    const epoch = this.resetConversation(conv);
    conv.hasMoreAfter = true; // until known: live messages meanwhile are not put after the hole
    let before, after;
    try {
      [before, after] = await Promise.all([
        this.api.messages(conv.chat_id, { limit: AROUND + 1, before_seq: seq + 1 }),
        this.api.messages(conv.chat_id, { limit: AROUND, after_seq: seq }),
      ]);
    } catch (err) {
      if (conv.epoch === epoch && err instanceof ApiError && (err.status === 404 || err.status === 403)) {
        conv.loaded = true;
        conv.hasMoreAfter = false;
        this.emit('conversation', conv.chat_id);
      }
      throw err;
    }
    if (conv.epoch !== epoch) return;
    for (const m of before.messages) this.insert(conv, m);
    for (const m of after.messages) this.insert(conv, m);
    conv.hasMoreBefore = before.has_more;
    conv.hasMoreAfter = after.has_more;
    conv.loaded = true;
    conv.stale = false;
    this.emit('conversation', conv.chat_id);
    const newest = this.chats.get(conv.chat_id)?.last_message?.seq ?? 0;
    if (!conv.hasMoreAfter && newest > conv.maxSeq) await this.catchUp(conv.chat_id);
  },

  /** Back to the newest page (the "jump to latest" of a window). @param {string} chatId @this {ChatStore} */
  async loadLatest(chatId) {
    const conv = this.conv(chatId);
    while (conv.loading) await conv.loading.catch(() => {});
    if (!conv.hasMoreAfter && conv.loaded) return;
    this.resetConversation(conv);
    this.emit('conversation', chatId);
    conv.loading = this.loadHistory(conv).finally(() => { conv.loading = null; });
    await conv.loading;
  },

  /** Forgets the loaded messages (their requests under way are then ignored). @param {Conversation} conv
   * @returns {number} the new epoch @this {ChatStore} */
  resetConversation(conv) {
    conv.epoch++;
    conv.messages.clear();
    conv.ids.clear();
    conv.minSeq = Infinity;
    conv.maxSeq = 0;
    conv.loaded = false;
    conv.hasMoreBefore = false;
    conv.hasMoreAfter = false;
    conv.loadingOlder = false;
    conv.loadingNewer = false;
    return conv.epoch;
  },

  /** Fetches everything after the last known message (or the first hole) in `seq` order.
   * @param {string} chatId @this {ChatStore} */
  catchUp(chatId) {
    const conv = this.conv(chatId);
    if (!conv.loaded) return Promise.resolve();
    conv.catchingUp ??= (async () => {
      const wasStale = conv.stale;
      try {
        const epoch = conv.epoch;
        for (let guard = 0; guard < 50; guard++) {
          const gap = this.firstGap(conv);
          if (gap === null && conv.hasMoreAfter) break; // a window: newer pages come by scrolling (loadNewer)
          const after = gap !== null ? gap - 1 : conv.maxSeq;
          const page = await this.api.messages(chatId, { after_seq: after, limit: 100 });
          if (conv.epoch !== epoch) break;
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
