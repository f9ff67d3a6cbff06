// @ts-check
/**
 * The chat list: loading it (and more of it), merging a snapshot with what arrived live while it
 * was in flight, ordering, titles and direct-chat partners.
 * Methods of {@link ChatStore} (mixed into it by store.js; `this` is the store).
 * @module store/chat-list
 */
/** @import { ChatStore } from '../store.js' */
/** @import { ChatSummary } from '../api.js' */

export const chatList = {
  /** @this {ChatStore} */
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
  },

  /** @this {ChatStore} */
  async loadMoreChats() {
    if (!this.chatsHasMore) return;
    const oldest = Math.min(...[...this.chats.values()].map((c) => c.updated_at));
    const res = await this.api.chats(this.me, { limit: 50, before: oldest });
    for (const c of res.chats) if (!this.chats.has(c.chat_id)) this.chats.set(c.chat_id, this.mergeSummary(c));
    this.chatsHasMore = res.has_more;
    this.afterChatsChanged();
  },

  /** Brings a chat-list snapshot up to date with what arrived live while it was in flight
   * (snapshots may also come back out of order). @param {ChatSummary} c @returns {ChatSummary} @this {ChatStore} */
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
    this.reviseSummary(c, known);
    return c;
  },

  /** @this {ChatStore} */
  afterChatsChanged() {
    const partners = [...this.chats.values()].map((c) => c.other_user?.user_id).filter((x) => !!x && x !== this.me);
    this.subscribePresence(/** @type {string[]} */ (partners));
    this.emit('chats');
  },

  /** Reloads the chat list soon (coalesces bursts, e.g. many messages for unknown chats). @this {ChatStore} */
  scheduleChatsReload() {
    if (this.chatsReload) return;
    this.chatsReload = setTimeout(() => {
      this.chatsReload = null;
      this.loadChats().catch((e) => this.report(e));
    }, 250);
  },

  /** @returns {ChatSummary[]} newest activity first @this {ChatStore} */
  sortedChats() {
    return [...this.chats.values()].sort((a, b) => chatTime(b) - chatTime(a));
  },

  /** @param {string} chatId @returns {string} @this {ChatStore} */
  chatTitle(chatId) {
    const c = this.chats.get(chatId);
    if (c?.type === 'group') return c.name || this.convs.get(chatId)?.group?.name || 'Group';
    const other = this.directPartner(chatId);
    if (other === this.me) return 'Saved messages';
    return other ? this.displayName(other) : 'Chat';
  },

  /** @param {string} chatId @returns {string | null} the other user of a direct chat (yourself for saved messages) @this {ChatStore} */
  directPartner(chatId) {
    if (!chatId.includes('_')) return null;
    const [a, b] = chatId.split('_');
    return a === this.me ? b : a;
  },

  /** @param {string} chatId @this {ChatStore} */
  isGroup(chatId) { return !chatId.includes('_'); },
};

/** @param {ChatSummary} c */
function chatTime(c) {
  return Math.max(c.last_message?.timestamp ?? 0, c.updated_at ?? 0);
}
