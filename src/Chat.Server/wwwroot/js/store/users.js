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
        if (u.status && !this.presence.has(userId)) this.presence.set(userId, { status: u.status, last_seen: u.last_seen ?? null });
        this.emit('users');
        return u;
      }, () => null);
      this.userFetches.set(userId, p);
    }
    return p;
  },

  /** @this {ChatStore} */
  async loadBlocks() {
    try {
      const { users } = await this.api.blocks();
      this.blocked = new Set(users.map((u) => u.user_id));
      for (const u of users) this.users.set(u.user_id, { ...this.users.get(u.user_id), ...u });
      this.emit('blocks');
    } catch (err) {
      this.report(err);
    }
  },

  /** Blocks or unblocks a user (the server refuses their direct messages and hides your presence and typing from them).
   * @param {string} userId @param {boolean} block @this {ChatStore} */
  async setBlocked(userId, block) {
    if (block) await this.api.block(userId);
    else await this.api.unblock(userId);
    if (block) this.blocked.add(userId);
    else this.blocked.delete(userId);
    this.emit('blocks');
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
