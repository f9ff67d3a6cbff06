// @ts-check
/**
 * WebSocket client for the chat server (PROTOCOL.md v1, "WebSocket"). No DOM beyond `WebSocket`,
 * `localStorage` and window online/offline events, no UI state: the reference JavaScript client.
 *
 * - connects to `/ws` and authenticates with a first `{"type":"auth","token"}` frame, so the token
 *   is never in a URL (docs/api.md "Authenticating with a first frame"); reconnects with
 *   exponential backoff and full jitter;
 * - sends `heartbeat` every `heartbeat_interval_ms` announced by `ready`, and treats a silent
 *   socket (no frame for two intervals) as dead;
 * - acknowledges every `new_message` after the listeners ran (coalesced per chat: `ack` is cumulative);
 * - an {@link Outbox} keeps unacknowledged sends in localStorage and re-sends them (same
 *   `client_msg_id`, so the server stores each once) after every `ready`.
 * @module socket
 */

/**
 * @typedef {'idle' | 'connecting' | 'open' | 'closed'} SocketState
 * `open` means the `ready` frame arrived.
 *
 * Frames the server sends (the records in src/Chat.Protocol/ServerFrames.cs, docs/api.md "WebSocket `/ws`"; null fields are left out):
 * @typedef {{type: 'ready', user_id: string, device_id: string, server_time: number, heartbeat_interval_ms: number}} ReadyFrame
 * @typedef {{type: 'ack', client_msg_id: string, message_id: string, chat_id: string, seq: number, timestamp: number}} AckFrame
 * @typedef {{type: 'new_message'} & import('./api.js').Message} MessageFrame
 * @typedef {{type: 'delivery_receipt', chat_id: string, message_id: string, seq: number, delivered_to: string}} DeliveryReceiptFrame
 * @typedef {{
 *   type: 'read_receipt', chat_id: string, message_id: string, last_read_message_id: string,
 *   seq: number, read_by: string, timestamp: number
 * }} ReadReceiptFrame
 * @typedef {{type: 'sync_read', chat_id: string, last_read_message_id: string, seq: number}} SyncReadFrame
 * @typedef {{type: 'typing_start' | 'typing_stop', chat_id: string, user_id: string}} TypingFrame
 * @typedef {{type: 'presence_update', user_id: string, status: import('./api.js').PresenceStatus, last_seen: number | null}} PresenceFrame
 * @typedef {{
 *   type: 'group_update', group_id: string, action: import('./api.js').GroupAction,
 *   user_ids: string[], by: string, name?: string | null,
 *   event_id?: string, timestamp?: number, after_seq?: number
 * }} GroupUpdateFrame `event_id`, `timestamp`, `after_seq` (v1.1): the stored timeline event
 * @typedef {{type: 'heartbeat_ack', server_time: number}} HeartbeatAckFrame
 * @typedef {{type: 'error', code: string, error: string, client_msg_id?: string, request_id?: string, retry_after_ms?: number}} ErrorFrame
 * @typedef {{
 *   type: 'message_updated', chat_id: string, rev: number, change: 'edited' | 'deleted' | 'reaction',
 *   by: string, message: import('./api.js').Message
 * }} MessageUpdatedFrame
 * @typedef {ReadyFrame | AckFrame | MessageFrame | DeliveryReceiptFrame | ReadReceiptFrame | SyncReadFrame
 *   | TypingFrame | PresenceFrame | GroupUpdateFrame | HeartbeatAckFrame | ErrorFrame | MessageUpdatedFrame} ServerFrame
 *
 * Frames the client sends (docs/api.md, "WebSocket `/ws`"):
 * @typedef {{
 *   type: 'new_message', chat_id: string, content: string, client_msg_id: string,
 *   timestamp?: number, attachment?: {file_id: string}, reply_to?: string
 * }} NewMessageFrame
 * @typedef {{type: 'edit_message', chat_id: string, message_id: string, content: string, request_id?: string}
 *   | {type: 'delete_message', chat_id: string, message_id: string, request_id?: string}
 *   | {type: 'react' | 'unreact', chat_id: string, message_id: string, emoji: string, request_id?: string}} MessageActionFrame
 * @typedef {{type: 'ack', message_id: string}
 *   | {type: 'read', chat_id: string, seq: number}
 *   | {type: 'typing_start' | 'typing_stop', chat_id: string}
 *   | {type: 'presence_subscribe', user_ids: string[]}
 *   | {type: 'set_status', status: 'online' | 'away'}
 *   | {type: 'heartbeat'}
 *   | NewMessageFrame | MessageActionFrame} ClientFrame
 *
 * @typedef {ServerFrame | ClientFrame} Frame any frame, either way
 *
 * @typedef {{
 *   client_msg_id: string, chat_id: string, content: string,
 *   attachment?: {file_id: string}, timestamp: number, reply_to?: string
 * }} OutgoingMessage
 */

/** Close codes after which reconnecting is pointless (PROTOCOL.md "Errors"). */
export const CLOSE_UNAUTHORIZED = 4001;

export class ChatSocket extends EventTarget {
  /**
   * @param {{
   *   url?: string, token: string,
   *   minDelayMs?: number, maxDelayMs?: number,
   *   autoAck?: boolean
   * }} options
   */
  constructor(options) {
    super();
    this.url = options.url ?? `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
    /** @private sent in the first frame of every connection, never in the URL */
    this.token = options.token;
    this.minDelayMs = options.minDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 30000;
    this.autoAck = options.autoAck ?? true;
    /** @type {SocketState} */
    this.state = 'idle';
    /** @type {WebSocket | null} */
    this.ws = null;
    /** Failed attempts since the last `ready`. */
    this.attempt = 0;
    /** @type {ReadyFrame | null} the last `ready` frame */
    this.ready = null;
    /** Number of `ready` frames seen (1 = first connection, more = reconnects). */
    this.connections = 0;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.retryTimer = null;
    /** @type {ReturnType<typeof setInterval> | null} */
    this.heartbeatTimer = null;
    this.lastFrameAt = 0;
    /** @type {Map<string, string>} chat id → newest message id to acknowledge */
    this.pendingAcks = new Map();
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.ackTimer = null;
    /** Timestamp of the next allowed reconnect attempt, shown as a countdown by UIs. */
    this.nextRetryAt = 0;
    this.stopped = false;

    this.onOnline = () => { if (!this.stopped && this.state !== 'open') this.reconnectNow(); };
    this.onOffline = () => { if (this.ws) this.drop('offline'); };
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
  }

  /** Starts connecting (no-op when already started). */
  connect() {
    this.stopped = false;
    if (this.ws || this.retryTimer) return;
    this.open();
  }

  /** Closes for good (sign out): no reconnect. */
  close() {
    this.stopped = true;
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.stopHeartbeat();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = null; ws.onmessage = null; ws.onerror = null; ws.onopen = null;
      try { ws.close(1000); } catch { /* already closed */ }
    }
    this.setState('closed');
  }

  /** Skips the backoff wait and tries right now (e.g. a "Retry now" button). */
  reconnectNow() {
    if (this.stopped) return;
    if (this.retryTimer) { clearTimeout(this.retryTimer); this.retryTimer = null; }
    if (this.ws && this.state !== 'open') return; // an attempt is already in flight
    if (this.ws) this.drop('reconnect');
    this.open();
  }

  /**
   * Sends one frame; false when not connected (the caller keeps it for later).
   * @param {ClientFrame} frame
   * @returns {boolean}
   */
  send(frame) {
    if (!this.ws || this.state !== 'open' || this.ws.readyState !== WebSocket.OPEN) return false;
    try {
      this.ws.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  // ---- internals

  /** @private */
  open() {
    this.retryTimer = null;
    this.setState('connecting');
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      try { ws.send(JSON.stringify({ type: 'auth', token: this.token })); } catch { /* onclose follows */ }
    };
    ws.onmessage = (e) => this.onFrame(ws, e.data);
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.stopHeartbeat();
      this.dispatchEvent(new CustomEvent('disconnect', { detail: { code: e.code, reason: e.reason } }));
      if (e.code === CLOSE_UNAUTHORIZED) {
        this.stopped = true;
        this.setState('closed');
        this.dispatchEvent(new CustomEvent('unauthorized'));
        return;
      }
      this.scheduleRetry();
    };
    ws.onerror = () => { /* onclose follows and schedules the retry */ };
  }

  /** Drops the current socket as if the network failed, then retries. @private @param {string} why */
  drop(why) {
    const ws = this.ws;
    this.ws = null;
    this.stopHeartbeat();
    if (ws) {
      ws.onclose = null; ws.onmessage = null; ws.onerror = null;
      try { ws.close(4000, why); } catch { /* ignore */ }
      this.dispatchEvent(new CustomEvent('disconnect', { detail: { code: 0, reason: why } }));
    }
    this.scheduleRetry();
  }

  /** @private */
  scheduleRetry() {
    if (this.stopped) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    // Exponential backoff with full jitter: uniform in [min/2, min(max, min·2^attempt)].
    const cap = Math.min(this.maxDelayMs, this.minDelayMs * 2 ** this.attempt);
    let delay = Math.max(this.minDelayMs / 2, Math.random() * cap);
    // The browser knows it is offline: wait for its `online` event (plus a slow fallback poll).
    if (navigator.onLine === false) delay = Math.max(delay, 15000);
    this.attempt = Math.min(this.attempt + 1, 16);
    this.nextRetryAt = Date.now() + delay;
    this.setState('connecting');
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  /** @private @param {WebSocket} ws @param {unknown} data */
  onFrame(ws, data) {
    if (this.ws !== ws || typeof data !== 'string') return;
    this.lastFrameAt = Date.now();
    /** @type {ServerFrame} (frame types this client does not know yet pass through as events too) */
    let frame;
    try { frame = JSON.parse(data); } catch { return; }
    if (!frame || typeof frame.type !== 'string') return;

    if (frame.type === 'ready') {
      this.ready = frame;
      this.attempt = 0;
      this.connections++;
      this.startHeartbeat(Number(frame.heartbeat_interval_ms) || 30000);
      this.setState('open');
    }
    this.dispatchEvent(new CustomEvent('frame', { detail: frame }));
    this.dispatchEvent(new CustomEvent(frame.type, { detail: frame }));
    if (frame.type === 'new_message' && this.autoAck) this.queueAck(frame.chat_id, frame.message_id);
  }

  /** Acks are cumulative per chat, so a burst is acknowledged with one frame per chat. @private
   * @param {string} chatId @param {string} messageId */
  queueAck(chatId, messageId) {
    this.pendingAcks.set(chatId, messageId);
    if (this.ackTimer) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = null;
      const acks = [...this.pendingAcks.values()];
      this.pendingAcks.clear();
      for (const id of acks) this.send({ type: 'ack', message_id: id });
    }, 20);
  }

  /** @private @param {number} intervalMs */
  startHeartbeat(intervalMs) {
    this.stopHeartbeat();
    this.heartbeatTimer = setInterval(() => {
      if (Date.now() - this.lastFrameAt > intervalMs * 2 + 5000) {
        this.drop('heartbeat timeout'); // half-open connection: nothing came back
        return;
      }
      this.send({ type: 'heartbeat' });
    }, intervalMs);
  }

  /** @private */
  stopHeartbeat() {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  /** @private @param {SocketState} state */
  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: state }));
  }
}

/**
 * Messages sent but not yet acknowledged, persisted in localStorage so they survive a reload or
 * going offline. Re-sending an entry reuses its `client_msg_id`, so the server stores it once.
 */
export class Outbox {
  /** @param {string} storageKey */
  constructor(storageKey) {
    this.key = storageKey;
  }

  /** @returns {OutgoingMessage[]} oldest first */
  all() {
    try {
      const v = JSON.parse(localStorage.getItem(this.key) ?? '[]');
      return Array.isArray(v) ? v : [];
    } catch {
      return [];
    }
  }

  /** @param {OutgoingMessage} msg */
  add(msg) {
    const list = this.all().filter((m) => m.client_msg_id !== msg.client_msg_id);
    list.push(msg);
    this.save(list);
  }

  /** @param {string} clientMsgId */
  remove(clientMsgId) {
    const list = this.all();
    const next = list.filter((m) => m.client_msg_id !== clientMsgId);
    if (next.length !== list.length) this.save(next);
  }

  /** @param {string} clientMsgId */
  has(clientMsgId) { return this.all().some((m) => m.client_msg_id === clientMsgId); }

  /** @private @param {OutgoingMessage[]} list */
  save(list) {
    if (list.length) localStorage.setItem(this.key, JSON.stringify(list));
    else localStorage.removeItem(this.key);
  }
}

/** @returns {string} a fresh `client_msg_id` */
export function newClientMsgId() {
  if (typeof globalThis.crypto?.randomUUID === 'function') return crypto.randomUUID(); // secure contexts only
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}
