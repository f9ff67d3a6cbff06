// @ts-check
/**
 * Rich messages: edit, delete, react (PROTOCOL.md v1.1, "Edit, delete, react"), who may do what,
 * reply previews, and loading history back to a replied message.
 * The result of an action arrives as `message_updated` (store/revisions.js), to this device too,
 * so nothing is changed locally before the server agreed. Each action frame carries a
 * `request_id`; an `error` echoing it is shown as a toast.
 * Methods of {@link ChatStore} (mixed into it by store.js; `this` is the store).
 * @module store/rich-messages
 */
import { newClientMsgId } from '../socket.js';
/** @import { ChatStore } from '../store.js' */
/** @import { Message, ReplyRef } from '../api.js' */
/** @import { MessageActionFrame, ErrorFrame } from '../socket.js' */

/** An action's `request_id` is remembered this long for its error, if one comes. */
const REQUEST_TTL_MS = 30000;

/** What each action is called in an error toast. */
const ACTION_NAMES = { edit_message: 'edit', delete_message: 'delete', react: 'reaction', unreact: 'reaction' };

export const richMessages = {
  /** Sends an action frame with a fresh `request_id`. Throws when not connected (nothing is queued:
   * an edit or reaction made offline would surprise later). @param {MessageActionFrame} frame @this {ChatStore} */
  sendAction(frame) {
    const requestId = newClientMsgId();
    if (!this.socket?.send({ ...frame, request_id: requestId })) throw new Error('Not connected. Try again when you are back online.');
    this.actionRequests.set(requestId, frame.type);
    setTimeout(() => this.actionRequests.delete(requestId), REQUEST_TTL_MS);
  },

  /** @param {string} chatId @param {string} messageId @param {string} content @this {ChatStore} */
  editMessage(chatId, messageId, content) {
    this.sendAction({ type: 'edit_message', chat_id: chatId, message_id: messageId, content });
  },

  /** @param {string} chatId @param {string} messageId @this {ChatStore} */
  deleteMessage(chatId, messageId) {
    this.sendAction({ type: 'delete_message', chat_id: chatId, message_id: messageId });
  },

  /** Adds your reaction with this emoji, or removes it when you already reacted with it.
   * @param {string} chatId @param {Message} m @param {string} emoji @this {ChatStore} */
  toggleReaction(chatId, m, emoji) {
    const mine = !!m.reactions?.some((r) => r.emoji === emoji && r.user_ids.includes(this.me));
    this.sendAction({ type: mine ? 'unreact' : 'react', chat_id: chatId, message_id: m.message_id, emoji });
  },

  /** An `error` frame answering one of this tab's actions: shown, and handled (true).
   * @param {ErrorFrame} f @returns {boolean} @this {ChatStore} */
  onActionError(f) {
    const type = f.request_id ? this.actionRequests.get(f.request_id) : undefined;
    if (!type || !f.request_id) return false;
    this.actionRequests.delete(f.request_id);
    const what = ACTION_NAMES[/** @type {keyof typeof ACTION_NAMES} */ (type)] ?? 'change';
    const why = f.code === 'rate_limited' ? `too many edits, try again in ${Math.ceil((Number(f.retry_after_ms) || 1000) / 1000)} s`
      : f.code === 'conflict' ? 'the message was deleted'
        : f.code === 'forbidden' ? 'you may not do that'
          : f.code === 'not_found' ? 'the message is gone'
            : f.error || f.code;
    this.report(`The ${what} did not go through: ${why}.`);
    return true;
  },

  /** @param {string} chatId @param {Message} m @returns {boolean} @this {ChatStore} */
  canEdit(chatId, m) {
    return m.from === this.me && !m.deleted && !this.convs.get(chatId)?.removed;
  },

  /** The sender; in a group also its admins. @param {string} chatId @param {Message} m @returns {boolean} @this {ChatStore} */
  canDelete(chatId, m) {
    const conv = this.convs.get(chatId);
    if (m.deleted || conv?.removed) return false;
    return m.from === this.me || (this.isGroup(chatId) && !!conv?.group?.admins.includes(this.me));
  },

  /** The current preview of a replied message: the loaded copy when there is one (it follows
   * edits and deletes live), else what the server sent with the reply.
   * @param {string} chatId @param {ReplyRef} ref @returns {ReplyRef} @this {ChatStore} */
  replyPreview(chatId, ref) {
    const m = this.convs.get(chatId)?.messages.get(ref.seq);
    if (!m || m.message_id !== ref.message_id) return ref;
    const content = m.deleted ? '' : m.content || (m.attachment ? (m.attachment.type?.startsWith('image/') ? 'Photo' : `File: ${m.attachment.file_name}`) : '');
    return { message_id: m.message_id, seq: m.seq, from: m.from, content: content.slice(0, 200), deleted: !!m.deleted };
  },

  /** A reply reference built from the loaded original (for a message this device just sent).
   * @param {string} chatId @param {string | undefined} messageId @returns {ReplyRef | null} @this {ChatStore} */
  replyRefTo(chatId, messageId) {
    if (!messageId) return null;
    const conv = this.convs.get(chatId);
    if (!conv) return null;
    for (const m of conv.messages.values()) {
      if (m.message_id === messageId) return this.replyPreview(chatId, { message_id: m.message_id, seq: m.seq, from: m.from, content: m.content, deleted: !!m.deleted });
    }
    return null;
  },

  /** Loads older pages until the message at `seq` is loaded (history stays one unbroken range).
   * @param {string} chatId @param {number} seq @returns {Promise<boolean>} whether it is loaded now @this {ChatStore} */
  async loadBackTo(chatId, seq) {
    const conv = this.conv(chatId);
    if (!conv.loaded) await (conv.loading ?? this.openChat(chatId));
    for (let guard = 0; guard < 500 && !conv.messages.has(seq) && conv.hasMoreBefore && conv.minSeq > seq; guard++) {
      if (conv.loadingOlder) await new Promise((r) => setTimeout(r, 50));
      else await this.loadOlder(chatId);
    }
    return conv.messages.has(seq);
  },

  /** User ids that can be mentioned in a chat (the other members, when known). @param {string} chatId
   * @returns {string[]} @this {ChatStore} */
  mentionable(chatId) {
    return this.otherMembers(chatId) ?? [];
  },
};
