// @ts-check
/**
 * Users and presence: display names (fetched once per user), presence subscriptions and your own status.
 * Methods of {@link ChatStore} (mixed into it by store.js; `this` is the store).
 * @module store/users
 */
/** @import { ChatStore } from '../store.js' */
/** @import { User } from '../api.js' */

export const usersAndPresence = {
  /** @param {string} userId @returns {string} @this {ChatStore} */
  displayName(userId) {
    const u = this.users.get(userId);
    if (u) return u.display_name || u.username;
    this.fetchUser(userId);
    return '…';
  },

  /** @param {string} userId @returns {Promise<User | null>} @this {ChatStore} */
  fetchUser(userId) {
    let p = this.userFetches.get(userId);
    if (!p) {
      p = this.api.user(userId).then((u) => {
        this.users.set(userId, u);
        if (u.status && !this.presence.has(userId)) this.presence.set(userId, { status: u.status, last_seen: u.last_seen ?? 0 });
        this.emit('users');
        return u;
      }, () => null);
      this.userFetches.set(userId, p);
    }
    return p;
  },

  /** @param {string[]} userIds @this {ChatStore} */
  subscribePresence(userIds) {
    const fresh = userIds.filter((id) => id !== this.me && !this.presenceSubs.has(id));
    if (!fresh.length) return;
    for (const id of fresh) this.presenceSubs.add(id);
    this.socket?.send({ type: 'presence_subscribe', user_ids: fresh });
  },

  /** @this {ChatStore} */
  sendStatus() {
    this.socket?.send({ type: 'set_status', status: document.visibilityState === 'hidden' ? 'away' : 'online' });
  },
};
