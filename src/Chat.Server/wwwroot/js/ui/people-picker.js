// @ts-check
/**
 * People search under a text field (PROTOCOL.md v1.1 "Search", `GET /api/users/search`): typing a few
 * letters lists the people whose username or a word of whose display name starts with them (display
 * name and @username); ArrowUp/ArrowDown move, Enter or a click picks, Escape closes. Shared by the
 * new-direct-chat, new-group and add-member dialogs.
 *
 * In `multi` mode the field holds several usernames (separated by commas or spaces): the word at the
 * caret is the query, and a pick replaces it with `username, `. Otherwise the pick is handed over as is.
 * @module ui/people-picker
 */
import { h } from './dom.js';

/** @typedef {import('../store.js').ChatStore} ChatStore */
/** @typedef {import('../api.js').User} User */

/** Wait this long after the last keystroke before asking the server. */
const DEBOUNCE_MS = 150;
/** At most this many people in the list. */
const MAX_PEOPLE = 8;

let pickers = 0;

export class PeoplePicker {
  /**
   * @param {ChatStore} store
   * @param {HTMLInputElement} input
   * @param {{after: HTMLElement, onPick: (u: User) => void, exclude?: () => Iterable<string>, multi?: boolean}} opts
   *   `after`: the list is placed right after this element; `exclude`: user ids not to offer (you are never offered)
   */
  constructor(store, input, opts) {
    this.store = store;
    this.input = input;
    this.opts = opts;
    /** @type {User[]} */
    this.options = [];
    this.active = 0;
    this.generation = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    const id = `people-list-${++pickers}`;
    this.id = id;
    this.list = h('ul', { class: 'people-list', id, role: 'listbox', 'aria-label': 'People', 'data-testid': 'people-options', hidden: true });
    opts.after.after(this.list);
    input.setAttribute('role', 'combobox');
    input.setAttribute('aria-controls', id);
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-expanded', 'false');
    input.autocomplete = 'off';
    input.addEventListener('input', () => this.schedule());
    input.addEventListener('keydown', (e) => this.onKey(e));
    input.addEventListener('blur', () => setTimeout(() => this.close(), 150));
  }

  /** The word being typed: the whole field, or in `multi` mode the one at the caret.
   * @returns {{query: string, start: number, end: number}} */
  token() {
    const v = this.input.value;
    if (!this.opts.multi) return { query: v.trim().replace(/^@/, ''), start: 0, end: v.length };
    const caret = this.input.selectionStart ?? v.length;
    const start = v.slice(0, caret).search(/[^\s,;]*$/);
    const end = caret + (v.slice(caret).match(/^[^\s,;]*/)?.[0].length ?? 0);
    return { query: v.slice(start, end).replace(/^@/, ''), start, end };
  }

  schedule() {
    clearTimeout(this.timer);
    const generation = ++this.generation;
    if (!this.token().query) { this.close(); return; }
    this.timer = setTimeout(() => { this.search(generation).catch(() => this.close()); }, DEBOUNCE_MS);
  }

  /** @param {number} generation */
  async search(generation) {
    const { query } = this.token();
    if (!query) { this.close(); return; }
    const res = await this.store.api.searchUsers(query.slice(0, 200), MAX_PEOPLE + 5);
    if (generation !== this.generation || document.activeElement !== this.input) return; // typed on, or left
    const skip = new Set([this.store.me, ...(this.opts.exclude?.() ?? [])]);
    /** @type {Set<string>} */
    const listed = new Set();
    if (this.opts.multi) for (const w of this.input.value.toLowerCase().split(/[\s,;]+/)) listed.add(w.replace(/^@/, ''));
    const q = query.toLowerCase();
    const users = res.users.filter((u) => !skip.has(u.user_id) && (u.username.toLowerCase() === q || !listed.has(u.username.toLowerCase())));
    // The exact username first: Enter after typing it in full picks that person.
    users.sort((a, b) => Number(b.username.toLowerCase() === q) - Number(a.username.toLowerCase() === q));
    for (const u of users) if (!this.store.users.has(u.user_id)) this.store.users.set(u.user_id, u);
    this.options = users.slice(0, MAX_PEOPLE);
    this.active = 0;
    this.render(query);
  }

  /** @param {string} query */
  render(query) {
    this.list.hidden = false;
    this.input.setAttribute('aria-expanded', 'true');
    if (!this.options.length) {
      this.list.replaceChildren(h('li', { class: 'people-empty muted', 'data-testid': 'people-empty', text: `Nobody found for “${query}”.` }));
      this.input.removeAttribute('aria-activedescendant');
      return;
    }
    this.list.replaceChildren(...this.options.map((u, i) => h('li', {
      role: 'option', id: `${this.id}-${i}`, class: `people-option${i === this.active ? ' active' : ''}`,
      'aria-selected': String(i === this.active), 'data-testid': 'people-option', 'data-username': u.username,
      // mousedown, not click: the field keeps its focus.
      onMousedown: (/** @type {MouseEvent} */ e) => { e.preventDefault(); this.pick(u); },
    }, h('span', { class: 'people-name', text: u.display_name || u.username }), h('span', { class: 'muted small', text: ` @${u.username}` }))));
    this.input.setAttribute('aria-activedescendant', `${this.id}-${this.active}`);
    this.list.children[this.active]?.scrollIntoView({ block: 'nearest' });
  }

  /** @param {KeyboardEvent} e */
  onKey(e) {
    if (this.list.hidden) return;
    const n = this.options.length;
    if ((e.key === 'ArrowDown' || e.key === 'ArrowUp') && n) {
      e.preventDefault();
      this.active = (this.active + (e.key === 'ArrowDown' ? 1 : n - 1)) % n;
      this.render(this.token().query);
    } else if (e.key === 'Enter' && !e.isComposing && n) {
      e.preventDefault(); // picks instead of submitting the form
      this.pick(this.options[this.active]);
    } else if (e.key === 'Escape') {
      e.preventDefault(); // closes the list, not the dialog
      this.close();
    }
  }

  /** @param {User | undefined} u */
  pick(u) {
    if (!u) return;
    if (this.opts.multi) {
      const { start, end } = this.token();
      const v = this.input.value;
      const rest = v.slice(end).replace(/^[\s,;]+/, '');
      const insert = `${u.username}, `;
      this.input.value = v.slice(0, start) + insert + rest;
      const caret = start + insert.length;
      this.input.setSelectionRange(caret, caret);
    } else {
      this.input.value = u.username;
    }
    this.generation++;
    this.close();
    this.opts.onPick(u);
  }

  close() {
    clearTimeout(this.timer);
    if (this.list.hidden) return;
    this.list.hidden = true;
    this.list.replaceChildren();
    this.options = [];
    this.active = 0;
    this.input.setAttribute('aria-expanded', 'false');
    this.input.removeAttribute('aria-activedescendant');
  }
}
