// @ts-check
/**
 * Chats and groups management: starting a direct chat by username, creating a group, renaming,
 * adding and removing members, making and unmaking admins, leaving.
 * Methods of {@link ChatStore} (mixed into it by store.js; `this` is the store).
 * @module store/management
 */
/** @import { ChatStore } from '../store.js' */

export const management = {
  /** Finds a user by exact username and opens (or creates) the direct chat. @param {string} username
   * @returns {Promise<string>} chat id @this {ChatStore} */
  async startDirect(username) {
    const res = await this.api.findUsers(username.trim());
    const u = res.users[0];
    if (!u) throw new Error(`No user named “${username.trim()}”.`);
    this.users.set(u.user_id, u);
    const { chat_id } = await this.api.directChat(u.user_id);
    if (!this.chats.has(chat_id)) {
      this.chats.set(chat_id, {
        chat_id, type: 'direct',
        other_user: { user_id: u.user_id, username: u.username, display_name: u.display_name, status: this.presence.get(u.user_id)?.status ?? 'offline' },
        last_message: null, unread_count: 0, last_read_seq: 0, updated_at: Date.now(),
      });
      this.afterChatsChanged();
    }
    return chat_id;
  },

  /** @param {string[]} usernames @returns {Promise<string[]>} user ids @this {ChatStore} */
  async resolveUsernames(usernames) {
    const ids = [];
    for (const name of usernames) {
      const res = await this.api.findUsers(name);
      const u = res.users[0];
      if (!u) throw new Error(`No user named “${name}”.`);
      this.users.set(u.user_id, u);
      ids.push(u.user_id);
    }
    return ids;
  },

  /** @param {string} name @param {string[]} usernames @returns {Promise<string>} group id @this {ChatStore} */
  async createGroup(name, usernames) {
    const members = await this.resolveUsernames(usernames);
    const g = await this.api.createGroup({ name, members });
    this.conv(g.group_id).group = g;
    if (!this.chats.has(g.group_id)) {
      this.chats.set(g.group_id, {
        chat_id: g.group_id, type: 'group', name: g.name, member_count: g.members.length,
        last_message: null, unread_count: 0, last_read_seq: 0, updated_at: g.created_at,
      });
    }
    this.afterChatsChanged();
    return g.group_id;
  },

  /** @param {string} groupId @param {string} name @this {ChatStore} */
  async renameGroup(groupId, name) {
    const g = await this.api.updateGroup(groupId, { name });
    this.conv(groupId).group = g;
    const c = this.chats.get(groupId);
    if (c) c.name = g.name;
    this.emit('group', groupId);
    this.emit('chats');
  },

  /** @param {string} groupId @param {string} username @this {ChatStore} */
  async addMember(groupId, username) {
    const ids = await this.resolveUsernames([username.trim()]);
    const g = await this.api.addMembers(groupId, ids);
    this.conv(groupId).group = g;
    const c = this.chats.get(groupId);
    if (c) c.member_count = g.members.length;
    this.emit('group', groupId);
    this.emit('chats');
  },

  /** @param {string} groupId @param {string} userId @this {ChatStore} */
  async removeMember(groupId, userId) {
    await this.api.removeMember(groupId, userId);
    const conv = this.conv(groupId);
    if (conv.group) conv.group.members = conv.group.members.filter((id) => id !== userId);
    const c = this.chats.get(groupId);
    if (c && conv.group) c.member_count = conv.group.members.length;
    this.emit('group', groupId);
    this.emit('chats');
  },

  /** @param {string} groupId @param {string} userId @this {ChatStore} */
  async makeAdmin(groupId, userId) {
    this.adoptGroup(await this.api.addAdmins(groupId, [userId]));
  },

  /** The last admin cannot step down: the server answers 409 with a sentence to show.
   * @param {string} groupId @param {string} userId @this {ChatStore} */
  async removeAdmin(groupId, userId) {
    this.adoptGroup(await this.api.removeAdmin(groupId, userId));
  },

  /** Takes the server's copy of a group after a change. @param {import('../api.js').Group} g @this {ChatStore} */
  adoptGroup(g) {
    this.conv(g.group_id).group = g;
    const c = this.chats.get(g.group_id);
    if (c) { c.name = g.name; c.member_count = g.members.length; }
    this.emit('group', g.group_id);
    this.emit('chats');
  },

  /** @param {string} groupId @this {ChatStore} */
  async leaveGroup(groupId) {
    await this.api.removeMember(groupId, this.me);
    this.chats.delete(groupId);
    this.conv(groupId).removed = true;
    this.emit('chats');
    this.emit('removed', groupId);
  },
};
