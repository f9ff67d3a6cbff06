// @ts-check
/**
 * Revisions: keeping edits, deletes and reactions current (PROTOCOL.md v1.1, "Revisions").
 *
 * Each chat has a revision `rev`, raised by 1 on every change to one of its messages. The store
 * keeps the last `rev` it knows per chat (`this.revs`). A live `message_updated` with the next
 * `rev` is applied and moves it on; one that skips revisions (frames lost while the socket was
 * down, or another tab's frame) is applied too, and then `GET /api/chats/{id}/changes?after_rev=`
 * fills the hole, page by page. After a reconnect the chat list's `rev` is compared the same way.
 * Applying is idempotent: a message copy replaces the known one only when its own `rev` is not
 * older, so replays, other tabs and catch-up pages can arrive in any order.
 * Methods of {@link ChatStore} (mixed into it by store.js; `this` is the store).
 * @module store/revisions
 */
import { ApiError } from '../api.js';
/** @import { ChatStore } from '../store.js' */
/** @import { Message, ChatSummary } from '../api.js' */
/** @import { MessageUpdatedFrame } from '../socket.js' */

/** At most this many pages of changes per catch-up (100 each); the next trigger continues. */
const MAX_CHANGE_PAGES = 50;

export const revisions = {
  /** A live `message_updated` frame. @param {MessageUpdatedFrame} f @this {ChatStore} */
  onMessageUpdated(f) {
    this.applyUpdate(f);
    // Tabs of this profile are one device: pass the frame on, as for messages (see store/tabs.js).
    this.tabs?.postMessage({ type: 'updated', frame: f });
  },

  /** @param {MessageUpdatedFrame} f @this {ChatStore} */
  applyUpdate(f) {
    if (!f || typeof f.rev !== 'number' || !f.message) return;
    this.applyMessageState(f.chat_id, f.message, f.change);
    const known = this.revs.get(f.chat_id) ?? 0;
    if (f.rev === known + 1) this.revs.set(f.chat_id, f.rev);
    else if (f.rev > known + 1) this.fetchChanges(f.chat_id).catch((e) => this.report(e));
  },

  /** Fetches every change after the known `rev` (paging through `has_more`), then moves the known
   * `rev` to the chat's current one. Calls while one runs make it run once more at the end.
   * @param {string} chatId @returns {Promise<void>} @this {ChatStore} */
  fetchChanges(chatId) {
    const running = this.revFetches.get(chatId);
    if (running) { running.again = true; return running.done; }
    const job = { again: false, done: Promise.resolve() };
    job.done = (async () => {
      try {
        do {
          job.again = false;
          let after = this.revs.get(chatId) ?? 0;
          for (let page = 0; page < MAX_CHANGE_PAGES; page++) {
            const res = await this.api.changes(chatId, { after_rev: after, limit: 100 });
            for (const m of res.changes) this.applyMessageState(chatId, m);
            for (const m of res.changes) after = Math.max(after, m.rev ?? 0);
            if (!res.has_more || !res.changes.length) { after = Math.max(after, res.rev); break; }
          }
          this.revs.set(chatId, Math.max(this.revs.get(chatId) ?? 0, after));
        } while (job.again);
      } catch (err) {
        // Not a member any more (or the chat is gone): nothing to catch up on.
        if (!(err instanceof ApiError && (err.status === 403 || err.status === 404))) throw err;
      } finally {
        this.revFetches.delete(chatId);
      }
    })();
    this.revFetches.set(chatId, job);
    return job.done;
  },

  /** Puts a message's current state wherever it shows: the loaded conversation, the chat list's
   * last message, and the counts a deletion lowers. @param {string} chatId @param {Message} m
   * @param {string} [change] the `change` of a live frame @this {ChatStore} */
  applyMessageState(chatId, m, change) {
    const conv = this.convs.get(chatId);
    const known = conv?.messages.get(m.seq);
    const newlyDeleted = !!m.deleted && (known ? !known.deleted : change === 'deleted');
    if (known && known.message_id === m.message_id && (m.rev ?? 0) >= (known.rev ?? 0)) this.mergeRevision(known, m);
    const seen = this.liveSeen.get(chatId)?.get(m.seq);
    if (seen && seen.message_id === m.message_id && (m.rev ?? 0) >= (seen.rev ?? 0)) this.mergeRevision(seen, m);

    const chat = this.chats.get(chatId);
    if (chat?.last_message && chat.last_message.message_id === m.message_id && (m.rev ?? 0) >= (chat.last_message.rev ?? 0)) {
      const lm = chat.last_message;
      lm.content = m.deleted ? '' : m.content;
      lm.deleted = !!m.deleted;
      lm.edited_at = m.edited_at ?? null;
      lm.rev = m.rev ?? 0;
      if (!m.deleted && m.attachment && !m.content) lm.content = m.attachment.type?.startsWith('image/') ? 'Photo' : `File: ${m.attachment.file_name ?? ''}`;
    }
    if (chat && newlyDeleted && m.from !== this.me && m.seq > chat.last_read_seq) {
      // Unread counts skip deleted messages (the next chat-list load confirms it).
      chat.unread_count = Math.max(0, chat.unread_count - 1);
      if (known?.mentions?.includes(this.me)) chat.mention_count = Math.max(0, (chat.mention_count ?? 0) - 1);
    }
    this.emit('conversation', chatId);
    this.emit('chats');
  },

  /** Copies the changeable fields of a newer copy onto a known message (keeping this device's
   * own view of it: ticks, `client_msg_id`). @param {Message} known @param {Message} m @this {ChatStore} */
  mergeRevision(known, m) {
    known.content = m.content;
    known.rev = m.rev ?? 0;
    known.edited_at = m.edited_at ?? null;
    known.deleted = !!m.deleted;
    known.reply_to = m.reply_to ?? null;
    known.reactions = m.reactions ?? [];
    known.mentions = m.mentions ?? [];
    if (m.kind) known.kind = m.kind;
    // A deleted message loses its attachment; an edit keeps it (a local preview until signed URLs come).
    if (m.deleted) known.attachment = null;
    else if (m.attachment?.url) known.attachment = m.attachment;
  },

  /** The chat list says which `rev` each chat is at: a loaded conversation behind it fetches the
   * changes; any other chat starts from there (its history will be loaded in its current state).
   * Called for every summary of a chat-list page, with the summary known before it.
   * @param {ChatSummary} c the fresh summary @param {ChatSummary | undefined} before @this {ChatStore} */
  reviseSummary(c, before) {
    if (typeof c.rev !== 'number') return;
    const known = this.revs.get(c.chat_id);
    if (known !== undefined && c.rev < known && before?.last_message && c.last_message
      && before.last_message.message_id === c.last_message.message_id) {
      // The snapshot is older than a change seen live since: keep the live state of that message.
      c.last_message = before.last_message;
    }
    if (known === undefined || (c.rev > known && !this.convs.get(c.chat_id)?.loaded)) this.revs.set(c.chat_id, c.rev);
    else if (c.rev > known) this.fetchChanges(c.chat_id).catch((e) => this.report(e));
  },

  /** A new message that mentions you, from someone else, unread: one more mention in the list.
   * @param {ChatSummary} chat @param {Message} m @this {ChatStore} */
  countMention(chat, m) {
    if (m.from !== this.me && !m.deleted && m.seq > chat.last_read_seq && m.mentions?.includes(this.me)) {
      chat.mention_count = (chat.mention_count ?? 0) + 1;
    }
  },

  /** Mentions still unread once everything up to `seq` is read. @param {ChatSummary} chat @param {number} seq
   * @returns {number} @this {ChatStore} */
  mentionsAfter(chat, seq) {
    if (!chat.unread_count) return 0;
    const conv = this.convs.get(chat.chat_id);
    if (!conv) return chat.mention_count ?? 0;
    let n = 0;
    for (const m of conv.messages.values()) if (m.seq > seq && m.from !== this.me && !m.deleted && m.mentions?.includes(this.me)) n++;
    return Math.min(n, chat.mention_count ?? 0);
  },
};
