// @ts-check
/**
 * The chat list (left pane): newest first, preview, time, unread badge, presence dot, typing.
 * Rows are keyed by chat id and reused, so keyboard focus survives live updates.
 * @module ui/chatlist
 */
import { h, $, fmtListTime, initials, hue, batched } from './dom.js';

/** @typedef {import('../store.js').ChatStore} ChatStore */

export class ChatListView {
  /** @param {ChatStore} store @param {(chatId: string) => void} onOpen */
  constructor(store, onOpen) {
    this.store = store;
    this.onOpen = onOpen;
    this.list = /** @type {HTMLUListElement} */ ($('#chat-list'));
    this.empty = $('#chat-list-empty');
    /** @type {Map<string, HTMLLIElement>} */
    this.rows = new Map();
    this.render = batched(() => this.renderNow());
    store.addEventListener('change', (e) => {
      const { what } = /** @type {CustomEvent} */ (e).detail;
      if (['chats', 'typing', 'presence', 'users', 'conversation', 'group'].includes(what)) this.render();
    });
    this.list.addEventListener('scroll', () => {
      if (this.list.scrollTop + this.list.clientHeight > this.list.scrollHeight - 40) {
        this.store.loadMoreChats().catch(() => {});
      }
    });
    this.list.addEventListener('keydown', (e) => this.onKey(e));
  }

  renderNow() {
    const chats = this.store.sortedChats();
    this.empty.hidden = chats.length > 0 || !this.store.chatsLoaded;
    const keep = new Set(chats.map((c) => c.chat_id));
    for (const [id, row] of this.rows) if (!keep.has(id)) { row.remove(); this.rows.delete(id); }
    let cursor = this.list.firstElementChild;
    for (const c of chats) {
      let row = this.rows.get(c.chat_id);
      if (!row) {
        const button = h('button', { type: 'button', class: 'chat-item', 'data-testid': 'chat-item', 'data-chat-id': c.chat_id,
          onClick: () => this.onOpen(c.chat_id) });
        row = /** @type {HTMLLIElement} */ (h('li', {}, button));
        this.rows.set(c.chat_id, row);
      }
      this.fill(/** @type {HTMLButtonElement} */ (row.firstElementChild), c);
      if (row !== cursor) this.list.insertBefore(row, cursor);
      else cursor = cursor.nextElementSibling;
    }
    let total = 0;
    for (const c of chats) total += c.unread_count;
    document.title = total ? `(${total}) Chat` : 'Chat';
  }

  /** @param {HTMLButtonElement} button @param {import('../api.js').ChatSummary} c */
  fill(button, c) {
    const s = this.store;
    const title = s.chatTitle(c.chat_id);
    const partner = c.type === 'direct' ? s.directPartner(c.chat_id) : null;
    const status = partner && partner !== s.me ? (s.presence.get(partner)?.status ?? c.other_user?.status ?? 'offline') : null;
    const typers = s.typingIn(c.chat_id);
    const lm = c.last_message;

    /** @type {HTMLElement} */
    let preview;
    if (typers.length) {
      const who = c.type === 'group'
        ? (typers.length === 1 ? `${s.displayName(typers[0])} is typing…` : `${typers.length} people are typing…`)
        : 'typing…';
      preview = h('span', { class: 'preview typing-text', 'data-testid': 'chat-preview', text: who });
    } else if (lm) {
      const prefix = lm.from === s.me ? 'You: ' : c.type === 'group' ? `${s.displayName(lm.from)}: ` : '';
      const text = lm.deleted ? 'This message was deleted' : (lm.content || 'Attachment').replace(/\s+/g, ' ');
      preview = h('span', { class: `preview${lm.deleted ? ' deleted' : ''}`, 'data-testid': 'chat-preview', text: prefix + text });
    } else {
      preview = h('span', { class: 'preview muted', 'data-testid': 'chat-preview', text: c.type === 'group' ? `${c.member_count ?? ''} members` : 'No messages yet' });
    }

    const unread = c.unread_count > 0;
    const mentions = unread ? c.mention_count ?? 0 : 0;
    const key = JSON.stringify([title, status, preview.textContent, lm?.timestamp ?? c.updated_at, c.unread_count, mentions,
      this.store.openChatId === c.chat_id, c.type]);
    button.classList.toggle('active', s.openChatId === c.chat_id);
    button.toggleAttribute('aria-current', s.openChatId === c.chat_id);
    if (button.dataset.key === key) return;
    button.dataset.key = key;
    button.dataset.unread = String(c.unread_count);
    button.setAttribute('aria-label',
      `${c.type === 'group' ? 'Group' : 'Chat with'} ${title}${status ? `, ${status}` : ''}${unread ? `, ${c.unread_count} unread` : ''}`);

    const avatar = h('span', { class: 'avatar', style: `--h:${hue(c.chat_id)}`, 'aria-hidden': 'true' },
      c.type === 'group' ? '#' : initials(title));
    if (status) avatar.appendChild(h('span', { class: `presence-dot ${status}`, 'data-testid': 'presence-dot', 'data-status': status }));
    const ts = lm?.timestamp ?? c.updated_at;
    button.replaceChildren(
      avatar,
      h('span', { class: 'chat-main' },
        h('span', { class: 'chat-top' },
          h('span', { class: 'chat-title', 'data-testid': 'chat-title', text: title }),
          ts ? h('time', { class: 'chat-time', 'data-testid': 'chat-time', datetime: new Date(ts).toISOString(), text: lm ? fmtListTime(ts) : '' }) : null),
        h('span', { class: 'chat-bottom' },
          preview,
          mentions > 0 ? h('span', { class: 'badge mention', 'data-testid': 'mention-badge', title: `${mentions} unread mention${mentions === 1 ? '' : 's'}`, text: '@' }) : null,
          unread ? h('span', { class: 'badge', 'data-testid': 'unread-badge', 'aria-hidden': 'true', text: c.unread_count > 99 ? '99+' : String(c.unread_count) }) : null)),
    );
  }

  /** Arrow keys move between chats. @param {KeyboardEvent} e */
  onKey(e) {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const buttons = /** @type {HTMLButtonElement[]} */ ([...this.list.querySelectorAll('button.chat-item')]);
    const i = buttons.indexOf(/** @type {HTMLButtonElement} */ (document.activeElement));
    if (i < 0) return;
    e.preventDefault();
    buttons[Math.max(0, Math.min(buttons.length - 1, i + (e.key === 'ArrowDown' ? 1 : -1)))]?.focus();
  }
}
