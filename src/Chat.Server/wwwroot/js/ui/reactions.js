// @ts-check
/**
 * Reactions: the chips under a message (emoji, count, who reacted in the tooltip; click toggles
 * yours) and the small picker of common emoji opened from a message's actions.
 * @module ui/reactions
 */
import { h } from './dom.js';

/** @typedef {import('../store.js').ChatStore} ChatStore */
/** @typedef {import('../api.js').Message} Message */

/** The picker's emoji: the common reactions of the big messengers. */
export const COMMON_EMOJI = ['👍', '❤️', '😂', '😮', '😢', '🙏', '🎉', '👀'];

/** "Alice, Bob and you" @param {ChatStore} store @param {string[]} userIds */
export function reactorNames(store, userIds) {
  const names = userIds.filter((id) => id !== store.me).map((id) => store.displayName(id));
  if (userIds.includes(store.me)) names.push('you');
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** The chips of one message, or null without reactions. @param {ChatStore} store @param {string} chatId @param {Message} m
 * @returns {HTMLElement | null} */
export function reactionChips(store, chatId, m) {
  const reactions = m.reactions ?? [];
  if (m.deleted || !reactions.length) return null;
  return h('div', { class: 'reactions', 'data-testid': 'reactions' }, reactions.map((r) => {
    const mine = r.user_ids.includes(store.me);
    const who = reactorNames(store, r.user_ids);
    return h('button', {
      type: 'button', class: `reaction${mine ? ' mine' : ''}`, 'data-testid': 'reaction', 'data-emoji': r.emoji,
      'data-count': String(r.count), 'aria-pressed': String(mine), title: who,
      'aria-label': `${r.emoji} ${r.count}: ${who}. ${mine ? 'Remove your reaction' : 'React with this too'}`,
      onClick: () => act(store, () => store.toggleReaction(chatId, m, r.emoji)),
    }, h('span', { class: 'reaction-emoji', text: r.emoji }), h('span', { class: 'reaction-count', text: String(r.count) }));
  }));
}

/** Who reacted, for a signature of the rendered message (names change when users load).
 * @param {ChatStore} store @param {Message} m */
export function reactionsSig(store, m) {
  return (m.reactions ?? []).map((r) => `${r.emoji}:${r.count}:${reactorNames(store, r.user_ids)}`).join('|');
}

/** @param {ChatStore} store @param {() => void} fn */
function act(store, fn) {
  try { fn(); } catch (err) { store.report(err); }
}

/** The floating emoji picker; one at a time. */
export class EmojiPicker {
  constructor() {
    /** @type {HTMLElement | null} */
    this.el = null;
    /** @type {HTMLElement | null} */
    this.returnFocus = null;
    this.onDocDown = (/** @type {Event} */ e) => { if (this.el && !this.el.contains(/** @type {Node} */ (e.target))) this.close(); };
    this.onKey = (/** @type {KeyboardEvent} */ e) => { if (e.key === 'Escape') { e.stopPropagation(); this.close(); } };
  }

  /** Opens next to `anchor`. @param {HTMLElement} anchor @param {(emoji: string) => void} onPick
   * @param {(emoji: string) => boolean} isMine */
  open(anchor, onPick, isMine) {
    this.close();
    const el = h('div', { class: 'emoji-picker', role: 'menu', 'aria-label': 'React with', 'data-testid': 'emoji-picker' },
      COMMON_EMOJI.map((e) => h('button', {
        type: 'button', role: 'menuitemcheckbox', class: 'emoji-option', 'data-testid': 'emoji-option', 'data-emoji': e,
        'aria-checked': String(isMine(e)), 'aria-label': `React with ${e}`,
        onClick: () => { this.close(); onPick(e); },
      }, e)));
    document.body.appendChild(el);
    const r = anchor.getBoundingClientRect();
    const w = el.offsetWidth;
    el.style.left = `${Math.max(8, Math.min(window.innerWidth - w - 8, r.left + r.width / 2 - w / 2))}px`;
    el.style.top = `${r.top - el.offsetHeight - 6 < 8 ? r.bottom + 6 : r.top - el.offsetHeight - 6}px`;
    this.el = el;
    this.returnFocus = anchor;
    /** @type {HTMLElement | null} */ (el.querySelector('button'))?.focus();
    document.addEventListener('pointerdown', this.onDocDown, true);
    document.addEventListener('keydown', this.onKey, true);
  }

  close() {
    if (!this.el) return;
    this.el.remove();
    this.el = null;
    document.removeEventListener('pointerdown', this.onDocDown, true);
    document.removeEventListener('keydown', this.onKey, true);
    if (this.returnFocus?.isConnected) this.returnFocus.focus({ preventScroll: true });
    this.returnFocus = null;
  }
}
