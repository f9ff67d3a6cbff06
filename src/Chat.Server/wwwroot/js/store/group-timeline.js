// @ts-check
/**
 * Group timeline: the stored group changes (created, renamed, members added or removed, admins)
 * that show in a group's conversation as centred lines, each placed after the message with
 * `seq = after_seq` (PROTOCOL.md v1.1, "People, groups, privacy"). They take no `seq`, so they
 * live beside the messages: live from `group_update` frames, and from `GET /api/groups/{id}/events`
 * for the history range that is loaded (first page, older pages, catch-up after a reconnect).
 * Methods of {@link ChatStore} (mixed into it by store.js; `this` is the store).
 * @module store/group-timeline
 */
/** @import { ChatStore, Conversation } from '../store.js' */
/** @import { GroupEvent } from '../api.js' */
/** @import { GroupUpdateFrame } from '../socket.js' */

/** Events per request (the endpoint's maximum). */
const EVENTS_PAGE = 100;
/** At most this many pages per load: a group with thousands of changes does not stall a chat. */
const EVENTS_MAX_PAGES = 20;

export const groupTimeline = {
  /** The lowest `after_seq` whose events belong with the loaded history: an event after the
   * message just before the oldest loaded one shows above it; with the whole history loaded, all.
   * @param {Conversation} conv @returns {number} @this {ChatStore} */
  eventsFloor(conv) {
    return conv.hasMoreBefore && Number.isFinite(conv.minSeq) ? conv.minSeq - 1 : 0;
  },

  /** The loaded range's events in timeline order. @param {string} chatId @returns {GroupEvent[]} @this {ChatStore} */
  eventsOf(chatId) {
    const conv = this.convs.get(chatId);
    if (!conv || !conv.events.size) return [];
    const floor = this.eventsFloor(conv);
    return [...conv.events.values()].filter((e) => e.after_seq >= floor)
      .sort((a, b) => a.after_seq - b.after_seq || a.timestamp - b.timestamp);
  },

  /** A live `group_update` that carries its stored event. @param {GroupUpdateFrame} f @this {ChatStore} */
  addLiveEvent(f) {
    const conv = this.convs.get(f.group_id);
    if (!conv || !f.event_id || f.after_seq === undefined) return;
    if (conv.events.has(f.event_id)) return;
    conv.events.set(f.event_id, {
      event_id: f.event_id, action: f.action, user_ids: f.user_ids ?? [], by: f.by, name: f.name ?? null,
      timestamp: f.timestamp ?? Date.now(), after_seq: f.after_seq,
    });
    this.emit('conversation', f.group_id);
  },

  /**
   * Loads the events placed after a `seq` of at least `low` and below `before` (exclusive; none:
   * up to the newest), newest first, page by page. With `untilKnown` it stops at the first event
   * it already had (a catch-up only needs what came after). Errors: the lines stay as they are.
   * @param {Conversation} conv @param {{low: number, before?: number, untilKnown?: boolean}} range @this {ChatStore}
   */
  async loadEvents(conv, { low, before, untilKnown = false }) {
    const known = untilKnown ? new Set(conv.events.keys()) : null;
    let cursor = before;
    try {
      for (let i = 0; i < EVENTS_MAX_PAGES; i++) {
        const page = await this.api.groupEvents(conv.chat_id, { limit: EVENTS_PAGE, before_seq: cursor });
        let fresh = 0;
        let done = !page.has_more || !page.events.length;
        for (const ev of page.events) {
          if (ev.after_seq < low) { done = true; break; }
          if (known?.has(ev.event_id)) { done = true; break; }
          if (!conv.events.has(ev.event_id)) { conv.events.set(ev.event_id, ev); fresh++; }
        }
        if (done) break;
        // `before_seq` is exclusive: ask again from the oldest page entry's seq (duplicates are skipped),
        // moving past it only when a whole page brought nothing new.
        const oldest = page.events[page.events.length - 1].after_seq;
        cursor = fresh ? oldest + 1 : oldest;
        if (cursor <= 0) break;
      }
    } catch {
      // Decoration only: the messages are what matter; the next load or catch-up tries again.
    }
  },

  /** After the first history page: the events of its range. @param {Conversation} conv @this {ChatStore} */
  async loadFirstEvents(conv) {
    if (!this.isGroup(conv.chat_id)) return;
    const floor = this.eventsFloor(conv);
    await this.loadEvents(conv, { low: floor });
    conv.eventsLow = Math.min(conv.eventsLow, floor);
  },

  /** After an older page: the events of the newly loaded range. @param {Conversation} conv @this {ChatStore} */
  async loadOlderEvents(conv) {
    if (!this.isGroup(conv.chat_id)) return;
    const floor = this.eventsFloor(conv);
    if (floor >= conv.eventsLow) return;
    await this.loadEvents(conv, { low: floor, before: Number.isFinite(conv.eventsLow) ? conv.eventsLow : undefined });
    conv.eventsLow = floor;
  },

  /** After a reconnect: the events missed while away. @param {Conversation} conv @this {ChatStore} */
  async catchUpEvents(conv) {
    if (!this.isGroup(conv.chat_id) || !Number.isFinite(conv.eventsLow)) return;
    await this.loadEvents(conv, { low: conv.eventsLow, untilKnown: true });
    this.emit('conversation', conv.chat_id);
  },
};
