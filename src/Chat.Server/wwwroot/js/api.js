// @ts-check
/**
 * REST client for the chat server (PROTOCOL.md v1). No DOM, no UI state: it can be used on its
 * own as the reference JavaScript client. Every method maps to exactly one documented endpoint.
 * @module api
 */

/**
 * @typedef {{user_id: string, username: string, display_name: string, device_id: string, token: string}} AuthResponse
 * @typedef {{device_id: string, device_name: string, created_at: number, last_active: number, online: boolean, last_used_at: number}} Device
 * @typedef {{send_read_receipts: boolean, share_presence: boolean}} PrivacySettings
 * @typedef {{user_id: string, username: string, display_name: string, created_at: number, settings: PrivacySettings}} Me
 * @typedef {{max_content_bytes: number, max_file_bytes: number}} Limits
 * @typedef {{mode: 'open' | 'invite' | 'closed'}} Registration
 * @typedef {{user_id: string, username: string, display_name: string, status?: PresenceStatus, last_seen?: number | null}} User
 * @typedef {'online' | 'away' | 'offline'} PresenceStatus
 * @typedef {{user_id: string, status: PresenceStatus, last_seen: number | null}} Presence
 * @typedef {{message_id: string, seq: number, from: string, content: string, timestamp: number,
 *   deleted?: boolean, edited_at?: number | null, rev?: number}} LastMessage
 * @typedef {{
 *   chat_id: string, type: 'direct' | 'group',
 *   other_user?: {user_id: string, username: string, display_name: string, status: PresenceStatus},
 *   name?: string, member_count?: number,
 *   last_message?: LastMessage | null,
 *   unread_count: number, last_read_seq: number, updated_at: number,
 *   rev?: number, mention_count?: number
 * }} ChatSummary
 * @typedef {{file_id: string, file_name: string, type: string, size: number, url: string, thumbnail_url?: string}} Attachment
 * @typedef {{
 *   message_id: string, chat_id: string, seq: number, from: string, content: string, timestamp: number,
 *   attachment?: Attachment | null, client_msg_id?: string,
 *   is_read?: boolean, status?: 'sent' | 'delivered' | 'read',
 *   kind?: string, rev?: number, edited_at?: number | null, deleted?: boolean,
 *   reply_to?: ReplyRef | null, reactions?: Reaction[], mentions?: string[]
 * }} Message
 * The v1.1 fields (PROTOCOL.md "v1.1 additions"): optional here because a message built locally
 * from an `ack` has none of them yet.
 * @typedef {{message_id: string, seq: number, from: string, content: string, deleted: boolean}} ReplyRef
 * @typedef {{emoji: string, count: number, user_ids: string[]}} Reaction
 * @typedef {{changes: Message[], rev: number, has_more: boolean}} ChangesPage
 * @typedef {{content: string, edited_at: number}} EditVersion
 * @typedef {{
 *   group_id: string, name: string, description: string, created_by: string, created_at: number,
 *   members: string[], admins: string[]
 * }} Group
 * @typedef {'created' | 'updated' | 'member_added' | 'member_removed' | 'admin_added' | 'admin_removed'} GroupAction
 * @typedef {{
 *   event_id: string, action: GroupAction, user_ids: string[], by: string, name?: string | null,
 *   timestamp: number, after_seq: number
 * }} GroupEvent a group change in the timeline, placed after the message with `seq = after_seq`
 * @typedef {{user_id: string, delivered_seq: number, read_seq: number}} MemberReceipt
 * @typedef {{file_id: string, upload_url: string, expires_in: number}} UploadTicket
 */

/** An error answered by the server (`{code, error}` body) or a network failure (`status` 0). */
export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, 0 for a network failure
   * @param {string} code machine code, e.g. `conflict`
   * @param {string} message human readable sentence
   */
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

export class ApiClient {
  /**
   * @param {{baseUrl?: string, token?: string | null, onUnauthorized?: () => void}} [options]
   */
  constructor(options = {}) {
    /** @type {string} */
    this.baseUrl = (options.baseUrl ?? '').replace(/\/$/, '');
    /** @type {string | null} */
    this.token = options.token ?? null;
    /** Called when an authenticated call answers 401 (token revoked or expired). */
    this.onUnauthorized = options.onUnauthorized ?? null;
  }

  /**
   * @template T
   * @param {string} method
   * @param {string} path
   * @param {unknown} [body]
   * @param {{keepalive?: boolean, checksPassword?: boolean}} [options] keepalive: the request outlives the page (sign out, then reload);
   *   checksPassword: a 401 means a wrong password in the body, not a lost session
   * @returns {Promise<T>}
   */
  async request(method, path, body, options = {}) {
    /** @type {Record<string, string>} */
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    let res;
    try {
      res = await fetch(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        keepalive: options.keepalive ?? false,
      });
    } catch {
      throw new ApiError(0, 'network', 'The server cannot be reached.');
    }
    if (res.status === 204) return /** @type {T} */ (undefined);
    /** @type {any} */
    let data = null;
    const text = await res.text();
    if (text) {
      try { data = JSON.parse(text); } catch { data = null; }
    }
    if (!res.ok) {
      if (res.status === 401 && this.token && this.onUnauthorized && !options.checksPassword) this.onUnauthorized();
      throw new ApiError(res.status, data?.code ?? `http_${res.status}`, data?.error ?? `Request failed (${res.status}).`);
    }
    return /** @type {T} */ (data);
  }

  // ---- auth and devices

  /**
   * @param {{username: string, password: string, display_name?: string, device_name?: string, invite?: string}} body
   * @returns {Promise<AuthResponse>}
   */
  register(body) { return this.request('POST', '/api/auth/register', body); }

  /** Who may register (anonymous): open, invite (an invite code is needed) or closed. @returns {Promise<Registration>} */
  registration() { return this.request('GET', '/api/auth/registration'); }

  /**
   * @param {{username: string, password: string, device_name?: string}} body
   * @returns {Promise<AuthResponse>}
   */
  login(body) { return this.request('POST', '/api/auth/login', body); }

  /** Revokes this token and its device. The request survives a page unload (keepalive). @returns {Promise<void>} */
  logout() { return this.request('POST', '/api/auth/logout', undefined, { keepalive: true }); }

  /** @returns {Promise<{devices: Device[]}>} */
  devices() { return this.request('GET', '/api/devices'); }

  /** @param {string} deviceId @returns {Promise<void>} */
  revokeDevice(deviceId) { return this.request('DELETE', `/api/devices/${enc(deviceId)}`); }

  /** @param {string} deviceId @param {string} name @returns {Promise<void>} */
  renameDevice(deviceId, name) { return this.request('PATCH', `/api/devices/${enc(deviceId)}`, { device_name: name }); }

  /** Revokes every device of this user but this one. @returns {Promise<void>} */
  signOutOthers() { return this.request('POST', '/api/devices/sign-out-others'); }

  /** @param {string} current @param {string} next @returns {Promise<void>} */
  changePassword(current, next) {
    return this.request('POST', '/api/auth/password', { current_password: current, new_password: next }, { checksPassword: true });
  }

  /** @param {{display_name?: string, settings?: Partial<PrivacySettings>}} body @returns {Promise<Me>} */
  updateMe(body) { return this.request('PATCH', '/api/users/me', body); }

  /** The users you blocked. @returns {Promise<{users: User[]}>} */
  blocks() { return this.request('GET', '/api/users/me/blocks'); }

  /** @param {string} userId @returns {Promise<void>} */
  block(userId) { return this.request('POST', '/api/users/me/blocks', { user_id: userId }); }

  /** @param {string} userId @returns {Promise<void>} */
  unblock(userId) { return this.request('DELETE', `/api/users/me/blocks/${enc(userId)}`); }

  // ---- users and presence

  /** What the server accepts, checked before sending. @returns {Promise<Limits>} */
  limits() { return this.request('GET', '/api/limits'); }

  /** @returns {Promise<Me>} */
  me() { return this.request('GET', '/api/users/me'); }

  /** @param {string} userId @returns {Promise<User>} */
  user(userId) { return this.request('GET', `/api/users/${enc(userId)}`); }

  /** @param {string} username exact, case-insensitive @returns {Promise<{users: User[]}>} */
  findUsers(username) { return this.request('GET', `/api/users?username=${enc(username)}`); }

  /** People whose username or a display-name word starts with `q` (1–200 characters), by username.
   * @param {string} q @param {number} [limit] 1–50 @returns {Promise<{users: User[]}>} */
  searchUsers(q, limit = 20) { return this.request('GET', `/api/users/search?q=${enc(q)}&limit=${limit}`); }

  /** @param {string[]} userIds at most 500 @returns {Promise<{presence: Presence[]}>} */
  presence(userIds) { return this.request('GET', `/api/presence?user_ids=${userIds.map(enc).join(',')}`); }

  // ---- chats

  /**
   * @param {string} userId your own user id
   * @param {{limit?: number, before?: number}} [page]
   * @returns {Promise<{chats: ChatSummary[], has_more: boolean}>}
   */
  chats(userId, page = {}) {
    return this.request('GET', `/api/users/${enc(userId)}/chats${query(page)}`);
  }

  /** @param {string} userId @returns {Promise<{chat_id: string}>} */
  directChat(userId) { return this.request('POST', '/api/chats/direct', { user_id: userId }); }

  /**
   * History. `before_seq`/`before`/no cursor: newest first; `after_seq`: oldest first.
   * @param {string} chatId
   * @param {{limit?: number, before?: number, before_seq?: number, after_seq?: number}} [page]
   * @returns {Promise<{messages: Message[], has_more: boolean}>}
   */
  messages(chatId, page = {}) {
    return this.request('GET', `/api/chats/${enc(chatId)}/messages${query(page)}`);
  }

  /** One message in its current state. @param {string} chatId @param {string} messageId @returns {Promise<Message>} */
  message(chatId, messageId) { return this.request('GET', `/api/chats/${enc(chatId)}/messages/${enc(messageId)}`); }

  /** The earlier versions of an edited message, oldest first. @param {string} chatId @param {string} messageId
   * @returns {Promise<{edits: EditVersion[]}>} */
  messageEdits(chatId, messageId) { return this.request('GET', `/api/chats/${enc(chatId)}/messages/${enc(messageId)}/edits`); }

  /** Messages changed (edited, deleted, reacted to) after revision `after_rev`, ascending `rev`.
   * @param {string} chatId @param {{after_rev: number, limit?: number}} page @returns {Promise<ChangesPage>} */
  changes(chatId, page) { return this.request('GET', `/api/chats/${enc(chatId)}/changes${query(page)}`); }

  /** @param {string} chatId @returns {Promise<{members: MemberReceipt[]}>} */
  receipts(chatId) { return this.request('GET', `/api/chats/${enc(chatId)}/receipts`); }

  /** @param {string} chatId @param {number} seq @returns {Promise<void>} */
  markRead(chatId, seq) { return this.request('POST', `/api/chats/${enc(chatId)}/read`, { seq }); }

  // ---- groups

  /** @param {{name: string, description?: string, members: string[]}} body @returns {Promise<Group>} */
  createGroup(body) { return this.request('POST', '/api/groups', body); }

  /** @param {string} groupId @returns {Promise<Group>} */
  group(groupId) { return this.request('GET', `/api/groups/${enc(groupId)}`); }

  /** @param {string} groupId @param {{name?: string, description?: string}} body @returns {Promise<Group>} */
  updateGroup(groupId, body) { return this.request('PATCH', `/api/groups/${enc(groupId)}`, body); }

  /** @param {string} groupId @param {string[]} userIds @returns {Promise<Group>} */
  addMembers(groupId, userIds) {
    return this.request('POST', `/api/groups/${enc(groupId)}/members`, { user_ids: userIds });
  }

  /** Removes a member; removing yourself leaves the group. @param {string} groupId @param {string} userId @returns {Promise<void>} */
  removeMember(groupId, userId) {
    return this.request('DELETE', `/api/groups/${enc(groupId)}/members/${enc(userId)}`);
  }

  /** Makes members admins (admins only). @param {string} groupId @param {string[]} userIds @returns {Promise<Group>} */
  addAdmins(groupId, userIds) {
    return this.request('POST', `/api/groups/${enc(groupId)}/admins`, { user_ids: userIds });
  }

  /** Takes the admin role away (admins only; the last admin: 409 `conflict`). @param {string} groupId @param {string} userId
   * @returns {Promise<Group>} */
  removeAdmin(groupId, userId) {
    return this.request('DELETE', `/api/groups/${enc(groupId)}/admins/${enc(userId)}`);
  }

  /**
   * The group's timeline events. `after_seq`: events placed after a higher `seq`, oldest first;
   * `before_seq`/no cursor: events placed after a lower `seq`, newest first.
   * @param {string} groupId
   * @param {{limit?: number, after_seq?: number, before_seq?: number}} [page]
   * @returns {Promise<{events: GroupEvent[], has_more: boolean}>}
   */
  groupEvents(groupId, page = {}) {
    return this.request('GET', `/api/groups/${enc(groupId)}/events${query(page)}`);
  }

  // ---- files

  /**
   * @param {{file_name: string, file_type: string, file_size: number}} body
   * @returns {Promise<UploadTicket>}
   */
  uploadUrl(body) { return this.request('POST', '/api/files/upload-url', body); }

  /**
   * PUTs the raw bytes to a signed upload URL (no Authorization header), reporting progress.
   * Uses XMLHttpRequest because fetch() has no upload progress.
   * @param {string} uploadUrl absolute or relative to the server
   * @param {Blob} file
   * @param {(loaded: number, total: number) => void} [onProgress]
   * @returns {Promise<void>}
   */
  putFile(uploadUrl, file, onProgress) {
    const url = new URL(uploadUrl, this.baseUrl ? this.baseUrl + '/' : location.href).href;
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('PUT', url);
      if (file.type) xhr.setRequestHeader('Content-Type', file.type);
      xhr.upload.onprogress = (e) => { if (onProgress && e.lengthComputable) onProgress(e.loaded, e.total); };
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) resolve();
        else reject(new ApiError(xhr.status, `http_${xhr.status}`, `Upload failed (${xhr.status}).`));
      };
      xhr.onerror = () => reject(new ApiError(0, 'network', 'Upload failed: the server cannot be reached.'));
      xhr.send(file);
    });
  }

  /**
   * Whole upload: ask for a signed URL, then PUT the bytes. Returns the `file_id` to attach.
   * @param {File} file
   * @param {(loaded: number, total: number) => void} [onProgress]
   * @returns {Promise<string>}
   */
  async uploadFile(file, onProgress) {
    const ticket = await this.uploadUrl({
      file_name: file.name || 'file',
      file_type: file.type || 'application/octet-stream',
      file_size: file.size,
    });
    await this.putFile(ticket.upload_url, file, onProgress);
    return ticket.file_id;
  }
}

/** @param {string} s */
function enc(s) { return encodeURIComponent(s); }

/** @param {Record<string, number | string | undefined>} params */
function query(params) {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${enc(k)}=${enc(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}
