// @ts-check
/**
 * Group timeline lines: the sentence for one stored group change ("Alice added Dave", "Bob renamed
 * the group to “Trip”", "Carol left"), and its centred line in the conversation. Names come from the
 * store (fetched when unknown, so the line fills in); the text is only ever set as textContent.
 * @module ui/timeline
 */
import { h, fmtTime } from './dom.js';

/** @typedef {import('../store.js').ChatStore} ChatStore @typedef {import('../api.js').GroupEvent} GroupEvent */

/** "A", "A and B", "A, B and C". @param {string[]} names */
export function joinNames(names) {
  if (names.length <= 1) return names[0] ?? 'someone';
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** @param {ChatStore} s @param {GroupEvent} ev @returns {string} */
export function eventText(s, ev) {
  const actor = ev.by === s.me ? 'You' : s.displayName(ev.by);
  /** @param {string} id */
  const named = (id) => (id === s.me ? 'you' : s.displayName(id));
  const targets = joinNames(ev.user_ids.map(named));
  const many = ev.user_ids.length > 1;
  const self = ev.user_ids.length === 1 && ev.user_ids[0] === ev.by;
  switch (ev.action) {
    case 'created': return `${actor} created the group${ev.name ? ` “${ev.name}”` : ''}`;
    case 'updated': return ev.name ? `${actor} renamed the group to “${ev.name}”` : `${actor} changed the group description`;
    case 'member_added': return `${actor} added ${targets}`;
    case 'member_removed': return self ? `${actor} left` : `${actor} removed ${targets}`;
    case 'admin_added': return `${actor} made ${targets} ${many ? 'admins' : 'an admin'}`;
    case 'admin_removed':
      if (self) return `${actor} ${ev.by === s.me ? 'are' : 'is'} no longer an admin`;
      return `${actor} removed ${targets} as ${many ? 'admins' : 'admin'}`;
    default: return `${actor} changed the group`;
  }
}

/** The line's element (filled by {@link fillEventLine}). @returns {HTMLElement} */
export function eventLine() {
  return h('div', { class: 'timeline-event', 'data-testid': 'timeline-event', role: 'note' });
}

/** @param {ChatStore} s @param {HTMLElement} el @param {GroupEvent} ev */
export function fillEventLine(s, el, ev) {
  const text = eventText(s, ev);
  if (el.dataset.sig === text) return;
  el.dataset.sig = text;
  el.dataset.action = ev.action;
  el.dataset.afterSeq = String(ev.after_seq);
  el.replaceChildren(h('span', { text, title: `${fmtTime(ev.timestamp)}` }));
}
