// @ts-check
/**
 * Other tabs of this profile: they share one device, so they pass each other messages and reads
 * over a BroadcastChannel (see the constructor in store.js).
 * Methods of {@link ChatStore} (mixed into it by store.js; `this` is the store).
 * @module store/tabs
 */
/** @import { ChatStore } from '../store.js' */
/** @import { Message } from '../api.js' */

export const otherTabs = {
  /** Tells the other tabs of this profile about a message. They share this device: the server
   * does not echo the device's own sends to it, and once one tab acked a message the device has
   * it, so another tab's socket may never be sent it. @param {Message} m @this {ChatStore} */
  tabsPost(m) {
    this.tabs?.postMessage({ type: 'message', message: m });
  },

  /** @param {any} data @this {ChatStore} */
  onTabMessage(data) {
    if (!data || typeof data !== 'object') return;
    if (data.type === 'message' && data.message) {
      const m = /** @type {Message} */ (data.message);
      if (m.attachment?.url?.startsWith('blob:')) return; // the other tab's local preview
      this.ingest(m, false);
      const conv = this.convs.get(m.chat_id);
      const known = conv?.messages.get(m.seq);
      if (known && m.attachment && !known.attachment?.url) known.attachment = m.attachment;
    } else if (data.type === 'updated') {
      this.applyUpdate(data.frame);
    } else if (data.type === 'read') {
      this.applyRead(data.chat_id, data.seq);
    }
  },
};
