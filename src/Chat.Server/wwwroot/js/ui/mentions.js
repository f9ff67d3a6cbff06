// @ts-check
/**
 * Mentions: `@` autocomplete of the chat's members in the composer, and telling the message
 * renderer which `@username` names you or another member.
 *
 * Typing `@` after the start or a space opens a list of members whose username or display name
 * starts with what follows; ArrowUp/ArrowDown move, Enter or Tab inserts `@username `, Escape
 * closes. The server decides who is mentioned (PROTOCOL.md v1.1 "Mentions"); this only helps type it.
 * @module ui/mentions
 */
import { h } from './dom.js';

/** @typedef {import('../store.js').ChatStore} ChatStore */
/** @typedef {import('../api.js').User} User */

/** At most this many suggestions. */
const MAX_SUGGESTIONS = 8;

export class MentionAutocomplete {
  /** @param {ChatStore} store @param {HTMLTextAreaElement} input @param {HTMLElement} host where the list is placed
   * @param {() => string | null} chatId */
  constructor(store, input, host, chatId) {
    this.store = store;
    this.input = input;
    this.chatId = chatId;
    /** @type {User[]} */
    this.options = [];
    this.active = 0;
    /** @type {{start: number, end: number} | null} the `@query` being completed */
    this.range = null;
    this.list = h('ul', { class: 'mention-list', id: 'mention-list', role: 'listbox', 'aria-label': 'Members', 'data-testid': 'mention-suggestions', hidden: true });
    host.appendChild(this.list);
    input.setAttribute('aria-controls', 'mention-list');
    input.setAttribute('aria-autocomplete', 'list');
    input.addEventListener('input', () => this.update());
    input.addEventListener('click', () => this.update());
    input.addEventListener('blur', () => setTimeout(() => this.close(), 150));
  }

  /** Keys while the list is open. @param {KeyboardEvent} e @returns {boolean} handled */
  onKey(e) {
    if (this.list.hidden || !this.options.length) return false;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      const n = this.options.length;
      this.active = (this.active + (e.key === 'ArrowDown' ? 1 : n - 1)) % n;
      this.render();
      return true;
    }
    if ((e.key === 'Enter' && !e.shiftKey && !e.isComposing) || e.key === 'Tab') {
      this.choose(this.options[this.active]);
      return true;
    }
    if (e.key === 'Escape') { this.close(); return true; }
    return false;
  }

  /** Finds the `@query` before the caret and lists the matching members. */
  update() {
    const chatId = this.chatId();
    const caret = this.input.selectionStart ?? 0;
    if (!chatId || caret !== this.input.selectionEnd) { this.close(); return; }
    const before = this.input.value.slice(0, caret);
    const m = /(?:^|\s)@([a-z0-9._-]{0,32})$/i.exec(before);
    if (!m) { this.close(); return; }
    const query = m[1].toLowerCase();
    const s = this.store;
    const users = s.mentionable(chatId).map((id) => s.users.get(id)).filter((u) => !!u);
    const options = /** @type {User[]} */ (users).filter((u) => u.username.toLowerCase().startsWith(query)
      || (u.display_name ?? '').toLowerCase().split(/\s+/).some((w) => w.startsWith(query)));
    options.sort((a, b) => a.username.localeCompare(b.username));
    this.options = options.slice(0, MAX_SUGGESTIONS);
    this.range = { start: caret - m[1].length - 1, end: caret };
    if (this.active >= this.options.length) this.active = 0;
    if (!this.options.length) { this.close(); return; }
    this.render();
  }

  render() {
    this.list.hidden = false;
    this.list.replaceChildren(...this.options.map((u, i) => h('li', {
      role: 'option', id: `mention-option-${i}`, class: `mention-option${i === this.active ? ' active' : ''}`,
      'aria-selected': String(i === this.active), 'data-testid': 'mention-option', 'data-username': u.username,
      // mousedown, not click: the textarea keeps its focus and caret.
      onMousedown: (/** @type {MouseEvent} */ e) => { e.preventDefault(); this.choose(u); },
    }, h('span', { class: 'mention-name', text: u.display_name || u.username }), h('span', { class: 'muted small', text: ` @${u.username}` }))));
    this.input.setAttribute('aria-activedescendant', `mention-option-${this.active}`);
  }

  /** Replaces the `@query` with `@username `. @param {User | undefined} u */
  choose(u) {
    const r = this.range;
    if (!u || !r) return;
    const v = this.input.value;
    const insert = `@${u.username} `;
    this.input.value = v.slice(0, r.start) + insert + v.slice(r.end).replace(/^ /, '');
    const caret = r.start + insert.length;
    this.input.setSelectionRange(caret, caret);
    this.close();
    this.input.dispatchEvent(new Event('input', { bubbles: true }));
  }

  close() {
    if (this.list.hidden) return;
    this.list.hidden = true;
    this.list.replaceChildren();
    this.options = [];
    this.active = 0;
    this.range = null;
    this.input.removeAttribute('aria-activedescendant');
  }
}

/** Who `@name` names in a chat: you, another member, or nobody (then it is plain text).
 * @param {ChatStore} store @param {string} chatId @returns {(username: string) => 'me' | 'other' | null} */
export function mentionResolver(store, chatId) {
  const me = store.session.username.toLowerCase();
  /** @type {Set<string>} */
  const others = new Set();
  for (const id of store.mentionable(chatId)) {
    const u = store.users.get(id);
    if (u) others.add(u.username.toLowerCase());
  }
  return (name) => (name === me ? 'me' : others.has(name) ? 'other' : null);
}
