// @ts-check
/**
 * What you can do with a message, and how rich messages look in the conversation:
 *
 * - the actions bar (reply, react, edit, delete, copy): shown on hover or keyboard focus on
 *   desktop, on right-click, and on a long press on touch screens;
 * - the composer's reply and edit modes (a banner above the composer, Escape or × cancels;
 *   ArrowUp in an empty composer edits your last message);
 * - delete with a confirm dialog (your messages; in a group an admin may delete any);
 * - quoted replies that jump to the original and highlight it (ConversationView.reveal loads the
 *   history around it when it is not loaded);
 * - the "edited" label and the tombstone of a deleted message.
 * @module ui/message-actions
 */
import { h, $, toast } from './dom.js';
import { icon } from './icons.js';
import { EmojiPicker } from './reactions.js';
import { plainPreview } from './markdown.js';

/**
 * @typedef {import('../store.js').ChatStore} ChatStore
 * @typedef {import('../api.js').Message} Message
 * @typedef {import('../api.js').ReplyRef} ReplyRef
 * @typedef {import('./conversation.js').ConversationView} ConversationView
 * @typedef {{kind: 'reply' | 'edit', chatId: string, message: Message, draft: string}} ComposerMode
 */

/** A touch held this long opens a message's actions. */
const LONG_PRESS_MS = 500;

export class MessageActions {
  /** @param {ConversationView} view */
  constructor(view) {
    this.view = view;
    this.store = view.store;
    this.picker = new EmojiPicker();
    /** @type {ComposerMode | null} */
    this.mode = null;
    /** @type {HTMLElement | null} the message whose actions are open (touch, right-click) */
    this.opened = null;
    this.banner = $('#composer-context');
    this.bannerLabel = $('#composer-context-label');
    this.bannerPreview = $('#composer-context-preview');
    this.confirm = /** @type {HTMLDialogElement} */ ($('#dlg-delete'));
    /** @type {{chatId: string, messageId: string} | null} */
    this.deleting = null;

    $('#composer-context-cancel').addEventListener('click', () => { this.cancelMode(); view.input.focus(); });
    this.confirm.addEventListener('close', () => this.onConfirmClose());
    this.bindOpen(view.listEl);
  }

  // ------------------------------------------------------------------ rendering

  /** What of a message's rich state shows, for the view's "changed?" signature. @param {string} chatId @param {Message} m */
  sig(chatId, m) {
    const s = this.store;
    const quote = m.reply_to ? s.replyPreview(chatId, m.reply_to) : null;
    return [m.rev ?? 0, m.edited_at ?? 0, !!m.deleted, quote && [quote.content, quote.deleted, s.displayName(quote.from)],
      s.canEdit(chatId, m), s.canDelete(chatId, m)];
  }

  /** The actions bar of one (acknowledged) message. @param {string} chatId @param {Message} m @returns {HTMLElement | null} */
  bar(chatId, m) {
    const s = this.store;
    if (m.deleted || s.convs.get(chatId)?.removed) return null;
    /** @param {string} name @param {string} label @param {string} testid @param {(e: MouseEvent) => void} onClick */
    const button = (name, label, testid, onClick) => h('button', {
      type: 'button', class: 'msg-action', 'aria-label': label, title: label, 'data-testid': testid, onClick,
    }, icon(name));
    return h('div', { class: 'msg-actions', role: 'toolbar', 'aria-label': 'Message actions', 'data-testid': 'message-actions' },
      button('reply', 'Reply', 'action-reply', () => this.startReply(chatId, m)),
      button('smile', 'React', 'action-react', (e) => this.openPicker(chatId, m, /** @type {HTMLElement} */ (e.currentTarget))),
      s.canEdit(chatId, m) && (m.content || !m.attachment) ? button('edit', 'Edit', 'action-edit', () => this.startEdit(chatId, m)) : null,
      m.content ? button('copy', 'Copy text', 'action-copy', () => this.copy(m.content)) : null,
      s.canDelete(chatId, m) ? button('trash', 'Delete', 'action-delete', () => this.askDelete(chatId, m)) : null);
  }

  /** The quote of the replied message (its current state), which jumps to it.
   * @param {string} chatId @param {ReplyRef} ref @returns {HTMLElement} */
  quote(chatId, ref) {
    const s = this.store;
    const cur = s.replyPreview(chatId, ref);
    const name = cur.from === s.me ? 'You' : s.displayName(cur.from);
    const text = cur.deleted ? 'This message was deleted' : plainPreview(cur.content) || 'Attachment';
    return h('button', {
      type: 'button', class: `quote${cur.deleted ? ' deleted' : ''}`, 'data-testid': 'reply-quote', 'data-reply-to': cur.message_id,
      'aria-label': `Reply to ${name}: ${text}. Show the original`,
      onClick: (/** @type {MouseEvent} */ e) => { e.stopPropagation(); this.jumpTo(chatId, cur.message_id, cur.seq); },
    }, h('span', { class: 'quote-from', text: name }), h('span', { class: 'quote-text', 'data-testid': 'reply-quote-text', text }));
  }

  /** @returns {HTMLElement} */
  tombstone() {
    return h('div', { class: 'tombstone', 'data-testid': 'message-deleted' }, 'This message was deleted');
  }

  /** @param {Message} m @returns {HTMLElement | null} */
  editedLabel(m) {
    if (!m.edited_at || m.deleted) return null;
    return h('span', { class: 'edited', 'data-testid': 'edited-label', title: `Edited ${new Date(m.edited_at).toLocaleString()}` }, 'edited');
  }

  // ------------------------------------------------------------------ opening the bar (touch, right-click)

  /** @param {HTMLElement} list */
  bindOpen(list) {
    /** @type {ReturnType<typeof setTimeout> | null} */
    let press = null;
    const cancel = () => { if (press) clearTimeout(press); press = null; };
    list.addEventListener('touchstart', (e) => {
      cancel();
      const msg = this.messageAt(e.target);
      if (!msg || e.touches.length !== 1) return;
      press = setTimeout(() => { press = null; this.openFor(msg); navigator.vibrate?.(10); }, LONG_PRESS_MS);
    }, { passive: true });
    list.addEventListener('touchmove', cancel, { passive: true });
    list.addEventListener('touchend', cancel);
    list.addEventListener('touchcancel', cancel);
    list.addEventListener('contextmenu', (e) => {
      const msg = this.messageAt(e.target);
      // Links and selected text keep the browser's own menu.
      if (!msg || /** @type {Element} */ (e.target).closest('a') || String(window.getSelection() ?? '')) return;
      e.preventDefault();
      this.openFor(msg);
    });
    document.addEventListener('pointerdown', (e) => {
      if (this.opened && !this.opened.contains(/** @type {Node} */ (e.target))) this.closeOpened();
    }, true);
  }

  /** @param {EventTarget | null} target @returns {HTMLElement | null} */
  messageAt(target) {
    const el = /** @type {Element | null} */ (target instanceof Element ? target : null)?.closest('.msg');
    return el instanceof HTMLElement && el.dataset.messageId && el.querySelector('.msg-actions') ? el : null;
  }

  /** @param {HTMLElement} msg */
  openFor(msg) {
    this.closeOpened();
    msg.dataset.actionsOpen = 'true';
    this.opened = msg;
    /** @type {HTMLElement | null} */ (msg.querySelector('.msg-action'))?.focus({ preventScroll: true });
  }

  closeOpened() {
    if (this.opened) delete this.opened.dataset.actionsOpen;
    this.opened = null;
  }

  // ------------------------------------------------------------------ the actions

  /** @param {string} chatId @param {Message} m @param {HTMLElement} anchor */
  openPicker(chatId, m, anchor) {
    const s = this.store;
    this.picker.open(anchor, (emoji) => {
      this.closeOpened();
      try { s.toggleReaction(chatId, m, emoji); } catch (err) { s.report(err); }
    }, (emoji) => !!m.reactions?.some((r) => r.emoji === emoji && r.user_ids.includes(s.me)));
  }

  /** @param {string} text */
  async copy(text) {
    this.closeOpened();
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // No clipboard API (insecure context) or no permission: the old way.
      const area = h('textarea', { class: 'visually-hidden', 'aria-hidden': 'true' });
      /** @type {HTMLTextAreaElement} */ (area).value = text;
      document.body.appendChild(area);
      /** @type {HTMLTextAreaElement} */ (area).select();
      document.execCommand('copy');
      area.remove();
    }
    toast('Copied.');
  }

  /** @param {string} chatId @param {Message} m */
  askDelete(chatId, m) {
    this.closeOpened();
    this.deleting = { chatId, messageId: m.message_id };
    const own = m.from === this.store.me;
    $('#dlg-delete-text').textContent = own
      ? 'It will be deleted for everyone in this chat.'
      : `This deletes ${this.store.displayName(m.from)}’s message for everyone in this group.`;
    this.confirm.returnValue = '';
    this.confirm.showModal();
  }

  onConfirmClose() {
    const target = this.deleting;
    this.deleting = null;
    if (!target || this.confirm.returnValue !== 'delete') return;
    try {
      this.store.deleteMessage(target.chatId, target.messageId);
      if (this.mode?.message.message_id === target.messageId) this.cancelMode();
    } catch (err) {
      this.store.report(err);
    }
  }

  /** @param {string} chatId @param {Message} m */
  startReply(chatId, m) {
    this.closeOpened();
    const draft = this.mode?.kind === 'edit' ? this.mode.draft : this.view.input.value;
    this.setMode({ kind: 'reply', chatId, message: m, draft });
    if (this.view.input.value !== draft) this.view.input.value = draft;
    this.view.input.focus();
  }

  /** @param {string} chatId @param {Message} m */
  startEdit(chatId, m) {
    this.closeOpened();
    const draft = this.mode ? this.mode.draft : this.view.input.value;
    this.setMode({ kind: 'edit', chatId, message: m, draft });
    const input = this.view.input;
    input.value = m.content;
    this.view.autosize();
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }

  /** @param {ComposerMode | null} mode */
  setMode(mode) {
    this.mode = mode;
    this.renderBanner();
  }

  renderBanner() {
    const mode = this.mode;
    this.banner.hidden = !mode;
    if (!mode) { delete this.banner.dataset.mode; return; }
    const s = this.store;
    const m = mode.message;
    this.banner.dataset.mode = mode.kind;
    this.bannerLabel.textContent = mode.kind === 'edit' ? 'Edit message' : `Reply to ${m.from === s.me ? 'yourself' : s.displayName(m.from)}`;
    this.bannerPreview.textContent = plainPreview(m.content) || (m.attachment ? 'Attachment' : '');
  }

  /** Leaves reply or edit mode; an edit gives the composer its draft back. */
  cancelMode() {
    const mode = this.mode;
    if (!mode) return;
    this.setMode(null);
    if (mode.kind === 'edit') {
      this.view.input.value = mode.draft;
      this.view.autosize();
    }
  }

  /** The composer was submitted. An edit is sent here (true: handled); a reply gives back the
   * message id to answer. @param {string} chatId @param {string} text
   * @returns {{handled: boolean, replyTo?: string}} */
  onSubmit(chatId, text) {
    const mode = this.mode;
    if (!mode || mode.chatId !== chatId) return { handled: false };
    if (mode.kind === 'reply') {
      this.setMode(null);
      return { handled: false, replyTo: mode.message.message_id };
    }
    const s = this.store;
    const current = s.convs.get(chatId)?.messages.get(mode.message.seq) ?? mode.message;
    if (text !== current.content) {
      try {
        s.editMessage(chatId, mode.message.message_id, text);
      } catch (err) {
        s.report(err);
        return { handled: true }; // stay in edit mode: nothing was sent
      }
    }
    const draft = mode.draft;
    this.setMode(null);
    this.view.input.value = draft;
    this.view.autosize();
    return { handled: true };
  }

  /** Composer keys: Escape leaves a mode; ArrowUp in an empty composer edits your last message.
   * @param {KeyboardEvent} e @returns {boolean} handled */
  onComposerKey(e) {
    const chatId = this.view.chatId;
    if (!chatId) return false;
    if (e.key === 'Escape' && this.mode) { this.cancelMode(); return true; }
    if (e.key === 'ArrowUp' && !this.view.input.value && !this.mode) {
      const s = this.store;
      const last = s.messagesOf(chatId).filter((m) => s.canEdit(chatId, m) && m.content).pop();
      if (last) { this.startEdit(chatId, last); return true; }
    }
    return false;
  }

  /** Another chat opened (or none): a reply or edit belongs to its chat. */
  reset() {
    this.picker.close();
    this.closeOpened();
    if (this.mode) this.setMode(null);
  }

  /** Scrolls to the replied message and highlights it, loading the history around it when needed
   * (the conversation's `reveal`, as for search hits).
   * @param {string} chatId @param {string} messageId @param {number} seq */
  jumpTo(chatId, messageId, seq) {
    return this.view.reveal(chatId, seq, messageId);
  }
}
