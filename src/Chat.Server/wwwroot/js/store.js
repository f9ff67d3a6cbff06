// @ts-check
/**
 * Client-side state of one signed-in user, fed by the REST API and the WebSocket. No DOM here:
 * the UI modules read the state and call the actions; every change is announced with a
 * `change` event whose `detail` is `{what, chatId?}`.
 *
 * This file holds the state (the constructor below) and puts the store together; the actions
 * live in one module per concern under `store/`, each an object of methods whose `this` is the
 * store, mixed into its prototype. They call each other through `this`, so a method may live in
 * any section; see docs/web-client.md for which is where.
 * @module store
 */
import { ApiClient } from './api.js';
import { Outbox } from './socket.js';
import { lifecycle } from './store/lifecycle.js';
import { chatList } from './store/chat-list.js';
import { usersAndPresence } from './store/users.js';
import { conversations } from './store/conversations.js';
import { sending } from './store/sending.js';
import { typingAndRead } from './store/typing-read.js';
import { incomingFrames } from './store/frames.js';
import { otherTabs } from './store/tabs.js';
import { management } from './store/management.js';
import { revisions } from './store/revisions.js';
import { richMessages } from './store/rich-messages.js';
import { groupTimeline } from './store/group-timeline.js';

/**
 * @typedef {import('./api.js').ChatSummary} ChatSummary
 * @typedef {import('./api.js').Message} Message
 * @typedef {import('./api.js').Group} Group
 * @typedef {import('./api.js').GroupEvent} GroupEvent
 * @typedef {import('./api.js').User} User
 * @typedef {import('./api.js').Limits} Limits
 * @typedef {import('./api.js').Attachment} Attachment
 * @typedef {import('./api.js').PresenceStatus} PresenceStatus
 * @typedef {import('./socket.js').Frame} Frame
 * @typedef {import('./socket.js').OutgoingMessage} OutgoingMessage
 *
 * @typedef {{user_id: string, username: string, display_name: string, device_id: string, token: string}} Session
 *
 * @typedef {{
 *   chat_id: string,
 *   messages: Map<number, Message>,
 *   ids: Set<string>,
 *   minSeq: number, maxSeq: number,
 *   loaded: boolean, loading: Promise<void> | null,
 *   hasMoreBefore: boolean, loadingOlder: boolean,
 *   hasMoreAfter: boolean, loadingNewer: boolean, epoch: number,
 *   catchingUp: Promise<void> | null, stale: boolean,
 *   receipts: Map<string, {delivered_seq: number, read_seq: number}>,
 *   group: Group | null,
 *   removed: boolean,
 *   events: Map<string, GroupEvent>, eventsLow: number
 * }} Conversation `events`: group timeline events by `event_id`, loaded for `after_seq >= eventsLow` (store/group-timeline.js)
 *
 * @typedef {{
 *   client_msg_id: string, chat_id: string, content: string, timestamp: number,
 *   attachment?: {file_id: string}, reply_to?: string,
 *   state: 'uploading' | 'sending' | 'failed',
 *   progress?: number, error?: string, sentAt?: number,
 *   file?: File, local?: {file_name: string, type: string, size: number, url: string}
 * }} Pending
 *
 * @typedef {{onSignedOut?: (reason: string) => void}} StoreHooks
 *
 * @typedef {'chats' | 'conversation' | 'older' | 'newer' | 'typing' | 'presence' | 'users' | 'connection' | 'pending' | 'group' | 'removed' | 'blocks' | 'error'} ChangeKind
 */
/** @import { ChatSocket } from './socket.js' */

/** The state of the store: every field, with its type. The methods come from the sections (below). */
class StoreState extends EventTarget {
  /** @param {Session} session @param {StoreHooks} [hooks] */
  constructor(session, hooks = {}) {
    super();
    // Constructed only as a ChatStore (below), so the sections' methods are there for the callbacks.
    const store = /** @type {ChatStore} */ (/** @type {unknown} */ (this));
    this.session = session;
    this.me = session.user_id;
    this.hooks = hooks;
    /** @type {ApiClient} */
    this.api = new ApiClient({ token: session.token, onUnauthorized: () => store.signedOut('revoked') });
    /** @type {ChatSocket | null} */
    this.socket = null;
    this.outbox = new Outbox(`chat.outbox.v1.${session.user_id}`);
    /** The server's limits (GET /api/limits); the defaults until they arrive. @type {Limits} */
    this.limits = { max_content_bytes: 16384, max_file_bytes: 52428800 };

    /** @type {Map<string, ChatSummary>} */
    this.chats = new Map();
    this.chatsHasMore = false;
    this.chatsLoaded = false;
    /** @type {Map<string, Conversation>} */
    this.convs = new Map();
    /** @type {Map<string, Pending>} by client_msg_id */
    this.pending = new Map();
    /** @type {Map<string, Map<string, ReturnType<typeof setTimeout>>>} chat → typing user → expiry */
    this.typing = new Map();
    /** The users you blocked (GET /api/users/me/blocks). @type {Set<string>} */
    this.blocked = new Set();
    /** last_seen is null where the user's privacy hides it. @type {Map<string, {status: PresenceStatus, last_seen: number | null}>} */
    this.presence = new Map();
    /** @type {Map<string, User>} */
    this.users = new Map();
    /** @type {Map<string, Promise<User | null>>} */
    this.userFetches = new Map();
    /** @type {Set<string>} */
    this.presenceSubs = new Set();
    /** @type {string | null} */
    this.openChatId = null;
    /** The open chat's read pointer when it was opened, before anything is marked read: where the unread divider
     * goes (ui/unread.js). null while the chat list does not know the chat yet. @type {number | null} */
    this.openedReadSeq = null;
    /** @type {Map<string, {lastStart: number, idle: ReturnType<typeof setTimeout> | null}>} */
    this.myTyping = new Map();
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.chatsReload = null;
    /** Recent live messages per chat (seq → message), so a chat-list snapshot fetched while
     * messages stream in can be brought up to date. @type {Map<string, Map<number, Message>>} */
    this.liveSeen = new Map();
    /** The last chat revision known per chat (store/revisions.js). @type {Map<string, number>} */
    this.revs = new Map();
    /** Running change catch-ups per chat. @type {Map<string, {again: boolean, done: Promise<void>}>} */
    this.revFetches = new Map();
    /** Action frames sent by this tab, by `request_id`, for their errors. @type {Map<string, string>} */
    this.actionRequests = new Map();
    this.stopped = false;

    this.users.set(session.user_id, {
      user_id: session.user_id, username: session.username, display_name: session.display_name,
    });

    /** Tabs of the same browser profile share one token (one device): the server does not echo
     * a device's own sends or reads back to it, and delivers a message to the device (not to
     * every tab), so tabs pass messages and reads to each other. */
    /** @type {BroadcastChannel | null} */
    this.tabs = typeof BroadcastChannel === 'function' ? new BroadcastChannel(`chat.tabs.${session.user_id}`) : null;
    if (this.tabs) this.tabs.onmessage = (e) => store.onTabMessage(e.data);

    /** @type {() => void} */
    this.onVisibility = () => store.sendStatus();
    document.addEventListener('visibilitychange', this.onVisibility);
    /** @type {ReturnType<typeof setInterval>} */
    this.resendTimer = setInterval(() => store.resendStale(), 4000);
  }
}

/**
 * `StoreState` as seen with every section's methods on it: the base class of {@link ChatStore}.
 * (A class, not a typedef, so that the sections can name it in `@this` without a circular type.)
 * @type {new (session: Session, hooks?: StoreHooks) => StoreState & typeof lifecycle & typeof chatList & typeof usersAndPresence
 *   & typeof conversations & typeof sending & typeof typingAndRead & typeof incomingFrames & typeof otherTabs & typeof management
 *   & typeof revisions & typeof richMessages & typeof groupTimeline}
 */
const WithSections = /** @type {any} */ (StoreState);

/** The store: its state (`StoreState`) and the methods of every section under `store/`. */
export class ChatStore extends WithSections {}

const sections = [lifecycle, chatList, usersAndPresence, conversations, sending, typingAndRead, incomingFrames, otherTabs, management, revisions, richMessages, groupTimeline];
for (const section of sections) {
  for (const name of Object.keys(section)) {
    if (Object.hasOwn(ChatStore.prototype, name)) throw new Error(`ChatStore.${name} is defined in two sections`);
  }
  // Descriptors, not Object.assign: it would call the `connection` getter instead of copying it.
  Object.defineProperties(ChatStore.prototype, Object.getOwnPropertyDescriptors(section));
}
