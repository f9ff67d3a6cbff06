// @ts-check
/**
 * The unread divider and "jump to first unread" (docs/push.md, web client): when a chat is opened, the read pointer it
 * had then marks where the new messages start; the divider stays there while the chat is open, and a button scrolls
 * to it while it is above the visible part.
 * @module ui/unread
 */
import { h } from './dom.js';

/** @typedef {import('../store.js').ChatStore} ChatStore */

export class UnreadMarker {
  /** @param {ChatStore} store */
  constructor(store) {
    this.store = store;
    this.list = /** @type {HTMLElement} */ (document.querySelector('#message-list'));
    this.scroller = /** @type {HTMLElement} */ (document.querySelector('#messages'));
    this.divider = h('div', { class: 'day unread-divider', 'data-testid': 'unread-divider', role: 'separator' }, h('span', { text: 'New messages' }));
    this.jump = /** @type {HTMLButtonElement} */ (h('button', {
      type: 'button', class: 'jump-unread', 'data-testid': 'jump-to-unread', hidden: true,
      onclick: () => { this.divider.scrollIntoView({ block: 'start' }); this.update(); },
    }, 'Jump to first unread ↑'));
    this.scroller?.before(this.jump);
    store.addEventListener('change', () => requestAnimationFrame(() => this.place()));
    this.scroller?.addEventListener('scroll', () => this.update());
  }

  place() {
    const chatId = this.store.openChatId;
    // The read pointer when the chat was opened (messages after it, not mine, are "new"); the store takes it before
    // the visible messages are marked read.
    const readSeq = this.store.openedReadSeq;
    if (!chatId || readSeq === null || !this.list) { this.divider.remove(); this.update(); return; }
    /** @type {HTMLElement | null} */
    let first = null;
    for (const el of /** @type {HTMLCollectionOf<HTMLElement>} */ (this.list.children)) {
      if (el === this.divider || !el.dataset.seq || el.dataset.from === this.store.me) continue;
      if (Number(el.dataset.seq) > readSeq) { first = el; break; }
    }
    if (!first) this.divider.remove();
    else if (first.previousElementSibling !== this.divider) first.before(this.divider);
    this.update();
  }

  /** Shows the jump button while the divider is above the visible part of the list. */
  update() {
    const shown = this.divider.isConnected && !!this.scroller
      && this.divider.getBoundingClientRect().bottom < this.scroller.getBoundingClientRect().top;
    this.jump.hidden = !shown;
  }
}
