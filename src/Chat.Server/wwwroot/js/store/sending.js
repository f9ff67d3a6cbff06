// @ts-check
/**
 * Sending: text and files (upload with progress) as pending messages kept in the outbox until
 * their `ack`; re-sent after a reconnect or when no ack came; retry and discard.
 * Methods of {@link ChatStore} (mixed into it by store.js; `this` is the store).
 * @module store/sending
 */
import { newClientMsgId } from '../socket.js';
/** @import { ChatStore, Pending } from '../store.js' */
/** @import { NewMessageFrame, OutgoingMessage } from '../socket.js' */

/** A message sent over the socket without an ack for this long is sent again. */
export const RESEND_AFTER_MS = 8000;

export const sending = {
  /** @param {string} chatId @param {string} content @param {string} [replyTo] the message id this answers
   * @this {ChatStore} */
  sendText(chatId, content, replyTo) {
    this.stopTyping(chatId);
    /** @type {OutgoingMessage} */
    const out = { client_msg_id: newClientMsgId(), chat_id: chatId, content, timestamp: Date.now() };
    if (replyTo) out.reply_to = replyTo;
    this.outbox.add(out);
    this.pending.set(out.client_msg_id, { ...out, state: 'sending' });
    this.transmit(out.client_msg_id);
    this.emit('pending', chatId);
  },

  /** Uploads a file (with progress) and sends it as an attachment. @param {string} chatId @param {File} file @this {ChatStore} */
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
  },

  /** @param {Pending} p @this {ChatStore} */
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
  },

  /** Sends (or re-sends: same client_msg_id) one pending message if connected and it is the oldest unacked one of
   * its chat: one message per chat in flight, so a rate-limited or lost message is never overtaken by a later one.
   * @param {string} cid @this {ChatStore} */
  transmit(cid) {
    const p = this.pending.get(cid);
    if (!p || p.state !== 'sending' || this.headOf(p.chat_id) !== p) return;
    /** @type {NewMessageFrame} */
    const frame = { type: 'new_message', chat_id: p.chat_id, content: p.content, client_msg_id: cid, timestamp: p.timestamp };
    if (p.attachment) frame.attachment = p.attachment;
    if (p.reply_to) frame.reply_to = p.reply_to;
    if (this.socket?.send(frame)) p.sentAt = Date.now();
  },

  /** The oldest message of a chat waiting to be sent or acked (pending keeps insertion order).
   * @param {string} chatId @returns {Pending | undefined} @this {ChatStore} */
  headOf(chatId) {
    for (const p of this.pending.values()) if (p.chat_id === chatId && p.state === 'sending') return p;
    return undefined;
  },

  /** After a chat's head was acked, failed or discarded: send the next one. @param {string} chatId @this {ChatStore} */
  transmitNext(chatId) {
    const next = this.headOf(chatId);
    if (next) this.transmit(next.client_msg_id);
  },

  /** A message without ack for a while (lost with a dropped socket) is sent again. @this {ChatStore} */
  resendStale() {
    if (this.socket?.state !== 'open') return;
    const now = Date.now();
    for (const p of this.pending.values()) {
      if (p.state === 'sending' && (!p.sentAt || now - p.sentAt > RESEND_AFTER_MS)) this.transmit(p.client_msg_id);
    }
  },

  /** @param {string} cid @this {ChatStore} */
  retry(cid) {
    const p = this.pending.get(cid);
    if (!p || p.state !== 'failed') return;
    if (p.file && !p.attachment) { this.upload(p); return; }
    p.state = 'sending';
    p.error = undefined;
    this.outbox.add({ client_msg_id: cid, chat_id: p.chat_id, content: p.content, attachment: p.attachment, timestamp: p.timestamp, reply_to: p.reply_to });
    this.transmit(cid);
    this.emit('pending', p.chat_id);
  },

  /** @param {string} cid @this {ChatStore} */
  discard(cid) {
    const p = this.pending.get(cid);
    if (!p) return;
    this.pending.delete(cid);
    this.outbox.remove(cid);
    if (p.local) URL.revokeObjectURL(p.local.url);
    this.transmitNext(p.chat_id);
    this.emit('pending', p.chat_id);
  },
};
