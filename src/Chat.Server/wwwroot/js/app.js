// @ts-check
/**
 * Entry point: session (token per browser profile, in localStorage), sign in / sign up,
 * routing (`#/chat/{id}`), and wiring of the store to the views.
 * @module app
 */
import { ApiClient, ApiError } from './api.js';
import { ChatStore } from './store.js';
import { ChatListView } from './ui/chatlist.js';
import { ConversationView } from './ui/conversation.js';
import { Dialogs } from './ui/dialogs.js';
import { $, initials, hue, toast } from './ui/dom.js';
import { hydrateIcons } from './ui/icons.js';
import { NotificationsView } from './ui/notifications.js';
import { UnreadMarker } from './ui/unread.js';
import { SearchView } from './ui/search.js';

/** @typedef {import('./store.js').Session} Session */

const SESSION_KEY = 'chat.session.v1';

/** @returns {Session | null} */
function loadSession() {
  try {
    const s = JSON.parse(localStorage.getItem(SESSION_KEY) ?? 'null');
    return s && typeof s.token === 'string' && typeof s.user_id === 'string' ? s : null;
  } catch {
    return null;
  }
}

/** @param {Session | null} s */
function saveSession(s) {
  if (s) localStorage.setItem(SESSION_KEY, JSON.stringify(s));
  else localStorage.removeItem(SESSION_KEY);
}

/** A readable device name for the devices list, e.g. "Chrome on Linux". */
function deviceName() {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chrome'
    : /Safari\//.test(ua) ? 'Safari' : 'Browser';
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Windows/.test(ua) ? 'Windows'
    : /Mac OS X/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : 'unknown OS';
  return `${browser} on ${os}`;
}

// ------------------------------------------------------------------ sign in / sign up

let registerMode = false;
/** The server's registration mode; 'open' until it answers. @type {'open' | 'invite' | 'closed'} */
let registration = 'open';

/** @param {string} [notice] */
function showAuth(notice) {
  $('#main-view').hidden = true;
  $('#auth-view').hidden = false;
  setAuthError(notice ?? '');
  /** @type {HTMLInputElement} */ ($('[data-testid="auth-username"]')).focus();
}

/** @param {string} message */
function setAuthError(message) {
  const el = $('[data-testid="auth-error"]');
  el.textContent = message;
  el.hidden = !message;
}

/** Sign-up fields for the server's registration mode: the invite field, or the note that registration is closed. */
function showRegisterFields() {
  for (const el of document.querySelectorAll('.register-only')) {
    const only = el.classList.contains('invite-only') ? registration === 'invite' : el.classList.contains('closed-only') ? registration === 'closed' : true;
    /** @type {HTMLElement} */ (el).hidden = !registerMode || !only;
  }
  /** @type {HTMLButtonElement} */ ($('[data-testid="auth-submit"]')).disabled = registerMode && registration === 'closed';
}

/** @param {boolean} on */
function setRegisterMode(on) {
  registerMode = on;
  $('#tab-login').setAttribute('aria-selected', String(!on));
  $('#tab-register').setAttribute('aria-selected', String(on));
  showRegisterFields();
  $('[data-testid="auth-submit"]').textContent = on ? 'Create account' : 'Sign in';
  /** @type {HTMLInputElement} */ ($('[data-testid="auth-password"]')).autocomplete = on ? 'new-password' : 'current-password';
  setAuthError('');
}

/** An invite link (`?invite=CODE`) opens the sign-up form with the code filled in. */
function inviteFromUrl() {
  return new URLSearchParams(location.search).get('invite')?.trim() ?? '';
}

/** Asks the server who may register, so the form shows an invite field or says registration is closed. */
async function loadRegistration() {
  try {
    registration = (await new ApiClient().registration()).mode;
  } catch {
    registration = 'open'; // unknown: the server's answer to the sign-up itself says what is missing
  }
  showRegisterFields();
}

function bindAuth() {
  $('#tab-login').addEventListener('click', () => setRegisterMode(false));
  $('#tab-register').addEventListener('click', () => setRegisterMode(true));
  const form = /** @type {HTMLFormElement} */ ($('#auth-form'));
  const invite = inviteFromUrl();
  if (invite) {
    /** @type {HTMLInputElement} */ (form.elements.namedItem('invite')).value = invite;
    setRegisterMode(true);
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const username = String(data.get('username') ?? '').trim().toLowerCase();
    const password = String(data.get('password') ?? '');
    const displayName = String(data.get('display_name') ?? '').trim();
    const inviteCode = registration === 'invite' ? String(data.get('invite') ?? '').trim() : '';
    if (!/^[a-z0-9._-]{3,32}$/.test(username)) { setAuthError('Usernames are 3–32 characters: letters, digits, dot, dash, underscore.'); return; }
    if (password.length < 8) { setAuthError('Passwords have at least 8 characters.'); return; }
    if (registerMode && registration === 'invite' && !inviteCode) { setAuthError('Registration needs an invite code.'); return; }
    const submit = /** @type {HTMLButtonElement} */ ($('[data-testid="auth-submit"]'));
    submit.disabled = true;
    try {
      const api = new ApiClient();
      const res = registerMode
        ? await api.register({ username, password, display_name: displayName || undefined, device_name: deviceName(), invite: inviteCode || undefined })
        : await api.login({ username, password, device_name: deviceName() });
      const session = { user_id: res.user_id, username: res.username, display_name: res.display_name, device_id: res.device_id, token: res.token };
      saveSession(session);
      form.reset();
      // The invite is spent: keep it out of the address bar and history.
      if (inviteFromUrl()) history.replaceState(null, '', location.pathname + location.hash);
      startMain(session);
    } catch (err) {
      const e2 = /** @type {ApiError} */ (err);
      setAuthError(e2.code === 'conflict' ? 'That username is taken.' : e2.message);
    } finally {
      submit.disabled = false;
    }
  });
}

// ------------------------------------------------------------------ signed in

/** @type {ChatStore | null} */
let store = null;
/** @type {ConversationView | null} */
let conversation = null;

// The profile dialog changed the display name: keep the saved session and the header in step.
window.addEventListener('profile-changed', (e) => {
  if (!store) return;
  const { display_name } = /** @type {CustomEvent<{display_name: string}>} */ (e).detail;
  store.session.display_name = display_name;
  saveSession(store.session);
  $('#me-name').textContent = display_name;
  $('#me-avatar').textContent = initials(display_name);
});

/** @param {Session} session */
async function startMain(session) {
  $('#auth-view').hidden = true;
  $('#main-view').hidden = false;
  $('#me-name').textContent = session.display_name || session.username;
  $('#me-username').textContent = `@${session.username}`;
  const avatar = $('#me-avatar');
  avatar.textContent = initials(session.display_name || session.username);
  avatar.style.setProperty('--h', String(hue(session.user_id)));

  const s = new ChatStore(session, { onSignedOut: (reason) => signedOut(reason) });
  store = s;
  const list = new ChatListView(s, (chatId) => navigate(chatId));
  new SearchView(s, (chatId, seq) => navigate(chatId, seq)); // opens the chat at the hit
  const conv = new ConversationView(s, {
    onBack: () => navigate(null),
    openImage: (url, name) => dialogs.showImage(url, name),
    openGroup: (groupId) => dialogs.showGroup(groupId),
    toggleBlock: (userId) => dialogs.toggleBlock(userId),
  });
  conversation = conv;
  const dialogs = new Dialogs(s, (chatId) => navigate(chatId), () => navigate(null));
  void list;
  new NotificationsView(s, (chatId) => navigate(chatId)); // desktop/push notifications, favicon badge, per-chat settings
  new UnreadMarker(s); // "New messages" divider and "jump to first unread"

  s.addEventListener('change', (e) => {
    const { what, chatId, extra } = /** @type {CustomEvent} */ (e).detail;
    if (what === 'connection') renderConnection(s);
    if (what === 'error' && typeof extra === 'string') toast(extra, 'error');
    if (what === 'removed' && chatId === s.openChatId) navigate(null);
  });
  renderConnection(s);
  setInterval(() => renderConnection(s), 1000);

  $('#btn-new-chat').onclick = () => dialogs.showNewChat();
  $('#btn-new-group').onclick = () => dialogs.showNewGroup();
  $('#btn-devices').onclick = () => dialogs.showDevices();
  $('#btn-sign-out').onclick = () => signOut();
  $('#btn-reconnect').onclick = () => s.socket?.reconnectNow();

  await s.start();
  route();
}

/** @param {ChatStore} s */
function renderConnection(s) {
  const el = $('#connection');
  const state = s.connection;
  el.dataset.state = state;
  let text = 'Connected';
  if (state === 'connecting') {
    const wait = Math.ceil(((s.socket?.nextRetryAt ?? 0) - Date.now()) / 1000);
    text = wait > 1 && s.socket?.state === 'connecting' && !s.socket?.ws ? `Offline. Reconnecting in ${wait} s…` : 'Connecting…';
  } else if (state === 'offline') {
    text = 'Disconnected';
  }
  const t = $('#connection-text');
  if (t.textContent !== text) t.textContent = text;
  $('#btn-reconnect').hidden = state !== 'connecting' || !!s.socket?.ws;
}

function signOut() {
  const s = store;
  if (!s) return;
  // keepalive: the revoke completes even though the page reloads right away. Offline, the token
  // is forgotten here anyway, and the device can be signed out from another one.
  s.api.logout().catch(() => {});
  signedOut('');
}

/** @param {string} reason */
function signedOut(reason) {
  store?.stop();
  store = null;
  saveSession(null);
  // A fresh page drops every listener and piece of state of the old session.
  sessionStorage.setItem('chat.notice', reason === 'revoked' ? 'This device was signed out.' : '');
  location.hash = '';
  location.reload();
}

// ------------------------------------------------------------------ routing

/** The message the next route() opens its chat at (a search hit). @type {{chatId: string, seq: number} | null} */
let openAt = null;

/** @param {string | null} chatId @param {number} [seq] open the chat at this message */
function navigate(chatId, seq) {
  openAt = chatId && seq !== undefined ? { chatId, seq } : null;
  const target = chatId ? `#/chat/${encodeURIComponent(chatId)}` : '#/';
  if (location.hash !== target) location.hash = target;
  else route();
}

function route() {
  const s = store;
  if (!s || !conversation) return;
  const m = /^#\/chat\/(.+)$/.exec(location.hash);
  const chatId = m ? decodeURIComponent(m[1]) : null;
  const at = openAt && openAt.chatId === chatId ? openAt.seq : undefined;
  openAt = null;
  $('#main-view').classList.toggle('chat-open', !!chatId);
  conversation.show(chatId);
  s.openChat(chatId, at).catch((err) => {
    if (err instanceof ApiError && err.status === 404) { toast('That chat does not exist or you are not a member.', 'error'); navigate(null); }
    else toast(/** @type {Error} */ (err).message, 'error');
  });
  if (chatId && at !== undefined) conversation.reveal(chatId, at);
  s.emit('chats');
}

// ------------------------------------------------------------------ boot

function boot() {
  hydrateIcons();
  bindAuth();
  window.addEventListener('hashchange', route);
  // Signing in or out in another tab of this profile switches this one too.
  window.addEventListener('storage', (e) => {
    if (e.key === SESSION_KEY && (e.oldValue ?? '') !== (e.newValue ?? '')) location.reload();
  });
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || !store?.openChatId || document.querySelector('dialog[open]')) return;
    const input = /** @type {HTMLTextAreaElement} */ ($('#message-input'));
    if (document.activeElement === input && input.value) return;
    navigate(null);
  });
  const notice = sessionStorage.getItem('chat.notice') ?? '';
  sessionStorage.removeItem('chat.notice');
  const session = loadSession();
  if (session) startMain(session).catch((err) => toast(/** @type {Error} */ (err).message, 'error'));
  else {
    showAuth(notice);
    void loadRegistration();
  }
}

boot();
