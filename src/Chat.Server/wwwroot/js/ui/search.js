// @ts-check
// Message search in the sidebar (PROTOCOL.md v1.1, "Search"): a box above the chat list; while it holds a query the
// list shows results instead, each with its matched words highlighted. "this chat" limits it to the open chat
// (`chat_id`); clicking a result opens its chat at that message (ConversationView.reveal). Everything is built as DOM nodes (h()), never
// innerHTML, so message text can contain anything.
import { h, $, fmtListTime } from './dom.js';

/** @typedef {import('../store.js').ChatStore} ChatStore */
/** @typedef {{message_id: string, chat_id: string, seq: number, from: string, content: string, timestamp: number}} SearchHit */

/** Folded as the server folds for matching: no diacritics, lower case. @param {string} s */
function fold(s) { return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase(); }

/** The query's words as the server splits them: runs of letters and digits. @param {string} q */
export function queryWords(q) { return (q.match(/[\p{L}\p{Nd}]+/gu) ?? []).map(fold); }

/**
 * The content as text nodes and <mark>s: every word that starts with a query word is marked.
 * @param {string} content @param {string[]} words @returns {(string | HTMLElement)[]}
 */
export function highlight(content, words) {
  /** @type {(string | HTMLElement)[]} */
  const parts = [];
  let last = 0;
  for (const m of content.matchAll(/[\p{L}\p{N}\p{M}]+/gu)) {
    const at = m.index ?? 0;
    const w = fold(m[0]);
    if (!words.some((q) => w.startsWith(q))) continue;
    if (at > last) parts.push(content.slice(last, at));
    parts.push(h('mark', { text: m[0] }));
    last = at + m[0].length;
  }
  if (last < content.length) parts.push(content.slice(last));
  return parts;
}

export class SearchView {
  /** @param {ChatStore} store @param {(chatId: string, seq: number) => void} openAt */
  constructor(store, openAt) {
    this.store = store;
    this.openAt = openAt;
    /** @type {HTMLInputElement} */
    this.input = $('#search-input');
    /** @type {HTMLInputElement} */
    this.scope = $('#search-this-chat');
    this.results = $('#search-results');
    this.list = $('#chat-list');
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    this.generation = 0;
    /** The chat the shown results are scoped to (null: all chats). @type {string | null} */
    this.scopedTo = null;
    this.input.addEventListener('input', () => this.schedule());
    // Scoped to the open chat: another chat opened means other results; no chat open, nothing to scope to.
    store.addEventListener('change', () => {
      const open = store.openChatId;
      this.scope.disabled = !open;
      this.scope.title = open ? `Only in ${store.chatTitle(open)}` : 'Open a chat to search only in it';
      if (this.scope.checked && this.input.value.trim() && open !== this.scopedTo) this.schedule();
    });
    this.scope.addEventListener('change', () => this.schedule());
    this.input.addEventListener('keydown', (e) => { if (e.key === 'Escape') { this.input.value = ''; this.schedule(); } });
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.run().catch(() => {}); }, 200);
  }

  async run() {
    const q = this.input.value.trim();
    const generation = ++this.generation;
    const words = queryWords(q);
    const searching = words.length > 0;
    this.results.hidden = !searching;
    this.list.hidden = searching;
    if (!searching) return;
    const chatId = this.scope.checked ? this.store.openChatId : null;
    this.scopedTo = chatId;
    const params = new URLSearchParams({ q: q.slice(0, 200), limit: '50' });
    if (chatId) params.set('chat_id', chatId);
    /** @type {{results: SearchHit[], has_more: boolean}} */
    const page = await this.store.api.request('GET', `/api/search?${params}`);
    if (generation !== this.generation) return; // a newer query is under way
    this.results.replaceChildren(...(page.results.length === 0
      ? [h('li', { class: 'empty', 'data-testid': 'search-empty', text: 'No messages found.' })]
      : page.results.map((m) => this.row(m, words))));
  }

  /** @param {SearchHit} m @param {string[]} words */
  row(m, words) {
    const title = this.store.chatTitle(m.chat_id);
    return h('li', {},
      h('button', { type: 'button', class: 'search-hit', 'data-testid': 'search-result', 'data-chat-id': m.chat_id, 'data-seq': m.seq,
        onclick: () => this.openAt(m.chat_id, m.seq) },
        h('span', { class: 'search-chat', text: title }),
        h('time', { class: 'search-time', text: fmtListTime(m.timestamp) }),
        h('span', { class: 'search-text', 'data-testid': 'search-result-text' }, highlight(m.content, words))));
  }
}
