// @ts-check
/**
 * Dialogs: new direct chat, new group, group info (rename; the members panel with roles and, for admins,
 * make/remove admin and remove; leave), an in-page confirm, devices, image viewer.
 * @module ui/dialogs
 */
import { h, $, fmtListTime, toast } from './dom.js';
import { PeoplePicker } from './people-picker.js';

/** @typedef {import('../store.js').ChatStore} ChatStore */

/** @param {HTMLElement} root @param {string} testid @param {string} message */
function showError(root, testid, message) {
  const el = /** @type {HTMLElement} */ (root.querySelector(`[data-testid="${testid}"]`));
  el.textContent = message;
  el.hidden = !message;
}

/** Closes a dialog from every element with class `cancel`, and empties it on close.
 * @param {HTMLDialogElement} dlg */
function wireClose(dlg) {
  for (const b of dlg.querySelectorAll('.cancel')) b.addEventListener('click', () => dlg.close());
}

/** @param {string} s @returns {string[]} */
function splitNames(s) {
  return s.split(/[\s,;]+/).map((x) => x.trim().replace(/^@/, '')).filter(Boolean);
}

export class Dialogs {
  /** @param {ChatStore} store @param {(chatId: string) => void} openChat @param {() => void} closeChat */
  constructor(store, openChat, closeChat) {
    this.store = store;
    this.openChat = openChat;
    this.closeChat = closeChat;
    /** @type {string | null} */
    this.groupId = null;

    this.newChat = /** @type {HTMLDialogElement} */ ($('#dlg-new-chat'));
    this.newGroup = /** @type {HTMLDialogElement} */ ($('#dlg-new-group'));
    this.group = /** @type {HTMLDialogElement} */ ($('#dlg-group'));
    this.devices = /** @type {HTMLDialogElement} */ ($('#dlg-devices'));
    this.image = /** @type {HTMLDialogElement} */ ($('#dlg-image'));
    this.confirmDlg = /** @type {HTMLDialogElement} */ ($('#dlg-confirm'));
    for (const d of [this.newChat, this.newGroup, this.group, this.devices]) wireClose(d);

    $('#form-new-chat').addEventListener('submit', (e) => this.submitNewChat(e));
    $('#form-new-group').addEventListener('submit', (e) => this.submitNewGroup(e));
    $('#form-rename').addEventListener('submit', (e) => this.submitRename(e));
    $('#form-add-member').addEventListener('submit', (e) => this.submitAddMember(e));
    $('#btn-leave').addEventListener('click', () => this.leave());
    $('#btn-sign-out-others').addEventListener('click', () => this.signOutOthers());
    $('#form-profile').addEventListener('submit', (e) => this.submitProfile(e));
    $('#form-password').addEventListener('submit', (e) => this.submitPassword(e));
    for (const id of ['#privacy-receipts', '#privacy-presence']) $(id).addEventListener('change', () => this.savePrivacy());
    this.image.addEventListener('click', (e) => { if (e.target === this.image) this.image.close(); });
    this.bindPeoplePickers();

    store.addEventListener('change', (e) => {
      const { what, chatId } = /** @type {CustomEvent} */ (e).detail;
      if (this.group.open && (what === 'group' || what === 'users') && (!chatId || chatId === this.groupId)) this.renderGroup();
      if (this.group.open && what === 'removed' && chatId === this.groupId) this.group.close();
    });
  }

  /** People search in the fields that take a username: picking someone starts the chat, adds them
   * to the new group's list, or adds them to the group. */
  bindPeoplePickers() {
    /** @param {string} selector */
    const field = (selector) => /** @type {HTMLInputElement} */ ($(selector));
    const chatInput = field('#form-new-chat input[name=username]');
    new PeoplePicker(this.store, chatInput, { after: /** @type {HTMLElement} */ (chatInput.closest('label')),
      onPick: () => /** @type {HTMLFormElement} */ ($('#form-new-chat')).requestSubmit() });
    const groupInput = field('#form-new-group input[name=members]');
    new PeoplePicker(this.store, groupInput, { after: /** @type {HTMLElement} */ (groupInput.closest('label')), multi: true, onPick: () => {} });
    const addForm = /** @type {HTMLFormElement} */ ($('#form-add-member'));
    new PeoplePicker(this.store, field('#form-add-member input[name=username]'), { after: addForm,
      exclude: () => (this.groupId ? this.store.convs.get(this.groupId)?.group?.members ?? [] : []),
      onPick: () => addForm.requestSubmit() });
  }

  // ---- new direct chat

  showNewChat() {
    const form = /** @type {HTMLFormElement} */ ($('#form-new-chat'));
    form.reset();
    showError(this.newChat, 'new-chat-error', '');
    this.newChat.showModal();
  }

  /** @param {Event} e */
  async submitNewChat(e) {
    e.preventDefault();
    const form = /** @type {HTMLFormElement} */ (e.target);
    const name = String(new FormData(form).get('username') ?? '').trim();
    if (!name) return;
    try {
      const chatId = await this.store.startDirect(name);
      this.newChat.close();
      this.openChat(chatId);
    } catch (err) {
      showError(this.newChat, 'new-chat-error', /** @type {Error} */ (err).message);
    }
  }

  // ---- new group

  showNewGroup() {
    const form = /** @type {HTMLFormElement} */ ($('#form-new-group'));
    form.reset();
    showError(this.newGroup, 'new-group-error', '');
    this.newGroup.showModal();
  }

  /** @param {Event} e */
  async submitNewGroup(e) {
    e.preventDefault();
    const data = new FormData(/** @type {HTMLFormElement} */ (e.target));
    const name = String(data.get('name') ?? '').trim();
    const members = splitNames(String(data.get('members') ?? ''));
    if (!name) { showError(this.newGroup, 'new-group-error', 'Give the group a name.'); return; }
    try {
      const groupId = await this.store.createGroup(name, members);
      this.newGroup.close();
      this.openChat(groupId);
    } catch (err) {
      showError(this.newGroup, 'new-group-error', /** @type {Error} */ (err).message);
    }
  }

  // ---- group info

  /** @param {string} groupId */
  async showGroup(groupId) {
    this.groupId = groupId;
    showError(this.group, 'group-error', '');
    this.renderGroup();
    this.group.showModal();
    try {
      await this.store.loadGroup(groupId);
    } catch (err) {
      showError(this.group, 'group-error', /** @type {Error} */ (err).message);
    }
  }

  renderGroup() {
    const s = this.store;
    const groupId = this.groupId;
    if (!groupId) return;
    const g = s.convs.get(groupId)?.group;
    const isAdmin = !!g?.admins.includes(s.me);
    $('#dlg-group-title').textContent = g?.name ?? s.chatTitle(groupId);
    const nameInput = /** @type {HTMLInputElement} */ ($('#form-rename input[name=name]'));
    if (document.activeElement !== nameInput) nameInput.value = g?.name ?? s.chatTitle(groupId);
    nameInput.disabled = !isAdmin;
    /** @type {HTMLButtonElement} */ ($('[data-testid="group-rename"]')).disabled = !isAdmin;
    /** @type {HTMLElement} */ ($('#form-add-member')).hidden = !isAdmin;
    const members = g?.members ?? [];
    $('#group-members').replaceChildren(...members.map((id) => {
      const admin = !!g?.admins.includes(id);
      const name = s.displayName(id);
      /** @param {string} label @param {string} testid @param {string} aria @param {() => void} onClick @param {boolean} [danger] */
      const action = (label, testid, aria, onClick, danger = false) => h('button', {
        type: 'button', class: danger ? 'link danger' : 'link', 'data-testid': testid, 'aria-label': aria, onClick,
      }, label);
      return h('li', { 'data-testid': 'group-member', 'data-user-id': id, 'data-role': admin ? 'admin' : 'member' },
        h('span', { class: 'grow', 'data-testid': 'member-name', text: `${name}${id === s.me ? ' (you)' : ''}` }),
        admin ? h('span', { class: 'tag', 'data-testid': 'member-admin', text: 'admin' }) : null,
        // Admins act on everyone; an admin may also step down (the server keeps the last one: 409).
        isAdmin ? h('span', { class: 'member-actions' },
          admin
            ? action('Remove admin', 'member-unadmin', `Remove ${name} as admin`, () => this.changeAdmin(id, false))
            : action('Make admin', 'member-make-admin', `Make ${name} an admin`, () => this.changeAdmin(id, true)),
          id !== s.me ? action('Remove', 'group-remove', `Remove ${name}`, () => this.removeMember(id), true) : null) : null);
    }));
  }

  /** @param {Event} e */
  async submitRename(e) {
    e.preventDefault();
    if (!this.groupId) return;
    const name = String(new FormData(/** @type {HTMLFormElement} */ (e.target)).get('name') ?? '').trim();
    if (!name) return;
    try {
      await this.store.renameGroup(this.groupId, name);
      showError(this.group, 'group-error', '');
      toast('Group renamed.');
    } catch (err) {
      showError(this.group, 'group-error', /** @type {Error} */ (err).message);
    }
  }

  /** @param {Event} e */
  async submitAddMember(e) {
    e.preventDefault();
    if (!this.groupId) return;
    const form = /** @type {HTMLFormElement} */ (e.target);
    const name = String(new FormData(form).get('username') ?? '').trim();
    if (!name) return;
    try {
      await this.store.addMember(this.groupId, name);
      form.reset();
      showError(this.group, 'group-error', '');
    } catch (err) {
      showError(this.group, 'group-error', /** @type {Error} */ (err).message);
    }
  }

  /** @param {string} userId @param {boolean} admin */
  async changeAdmin(userId, admin) {
    const groupId = this.groupId;
    if (!groupId) return;
    showError(this.group, 'group-error', '');
    try {
      if (admin) await this.store.makeAdmin(groupId, userId);
      else await this.store.removeAdmin(groupId, userId);
    } catch (err) {
      // e.g. 409 for the last admin: the server's sentence ("A group keeps at least one admin.").
      showError(this.group, 'group-error', /** @type {Error} */ (err).message);
    }
  }

  /** @param {string} userId */
  async removeMember(userId) {
    const groupId = this.groupId;
    if (!groupId) return;
    const name = this.store.displayName(userId);
    const ok = await this.ask(`Remove ${name}?`, `${name} will no longer see new messages in “${this.store.chatTitle(groupId)}”.`, 'Remove');
    if (!ok || this.groupId !== groupId) return;
    showError(this.group, 'group-error', '');
    try {
      await this.store.removeMember(groupId, userId);
    } catch (err) {
      showError(this.group, 'group-error', /** @type {Error} */ (err).message);
    }
  }

  async leave() {
    const groupId = this.groupId;
    if (!groupId) return;
    const ok = await this.ask('Leave this group?', `You will no longer receive the messages of “${this.store.chatTitle(groupId)}”.`, 'Leave');
    if (!ok || this.groupId !== groupId) return;
    try {
      await this.store.leaveGroup(groupId);
      this.group.close();
      this.closeChat();
    } catch (err) {
      showError(this.group, 'group-error', /** @type {Error} */ (err).message);
    }
  }

  // ---- confirm

  /** Asks in a dialog of the page (not window.confirm, which blocks the page and cannot be styled).
   * Text only, as textContent. @param {string} title @param {string} text @param {string} okLabel
   * @returns {Promise<boolean>} whether the user confirmed */
  ask(title, text, okLabel) {
    const dlg = this.confirmDlg;
    $('#dlg-confirm-title').textContent = title;
    $('#dlg-confirm-text').textContent = text;
    $('#dlg-confirm-ok').textContent = okLabel;
    dlg.returnValue = '';
    if (dlg.open) dlg.close(); // an earlier question, unanswered: that is a no
    dlg.showModal();
    return new Promise((resolve) => dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), { once: true }));
  }

  // ---- blocking and privacy

  /** Blocks after asking, or unblocks at once. @param {string} userId */
  async toggleBlock(userId) {
    const name = this.store.displayName(userId);
    const blocked = this.store.blocked.has(userId);
    if (!blocked && !await this.ask(`Block ${name}?`,
      `${name} will not be able to send you messages here, and will see you offline and not typing. Groups are unaffected.`, 'Block')) return;
    try {
      await this.store.setBlocked(userId, !blocked);
      toast(blocked ? `${name} is unblocked.` : `${name} is blocked.`);
    } catch (err) {
      toast(/** @type {Error} */ (err).message);
    }
  }

  renderBlocks() {
    const ids = [...this.store.blocked];
    $('#block-list').replaceChildren(...(ids.length ? ids.map((id) => h('li', { 'data-testid': 'blocked-user' },
      h('span', { class: 'grow', text: this.store.displayName(id) }),
      h('button', { type: 'button', class: 'link', 'data-testid': 'unblock', onClick: async () => { await this.toggleBlock(id); this.renderBlocks(); } }, 'Unblock')))
      : [h('li', { class: 'muted', text: 'Nobody.' })]));
  }

  async savePrivacy() {
    showError(this.devices, 'devices-error', '');
    const receipts = /** @type {HTMLInputElement} */ ($('#privacy-receipts'));
    const presence = /** @type {HTMLInputElement} */ ($('#privacy-presence'));
    try {
      const me = await this.store.api.updateMe({ settings: { send_read_receipts: receipts.checked, share_presence: presence.checked } });
      receipts.checked = me.settings.send_read_receipts;
      presence.checked = me.settings.share_presence;
      toast('Privacy settings saved.');
    } catch (err) {
      showError(this.devices, 'devices-error', /** @type {Error} */ (err).message);
    }
  }

  // ---- devices

  async showDevices() {
    showError(this.devices, 'devices-error', '');
    /** @type {HTMLInputElement} */ ($('#profile-name')).value = this.store.session.display_name || '';
    /** @type {HTMLFormElement} */ ($('#form-password')).reset();
    $('#device-list').replaceChildren(h('li', { class: 'muted', text: 'Loading…' }));
    this.devices.showModal();
    this.renderBlocks();
    this.store.api.me().then((me) => {
      /** @type {HTMLInputElement} */ ($('#privacy-receipts')).checked = me.settings.send_read_receipts;
      /** @type {HTMLInputElement} */ ($('#privacy-presence')).checked = me.settings.share_presence;
    }, (err) => showError(this.devices, 'devices-error', /** @type {Error} */ (err).message));
    await this.renderDevices();
  }

  async renderDevices() {
    try {
      const { devices } = await this.store.api.devices();
      const mine = this.store.session.device_id;
      devices.sort((a, b) => (a.device_id === mine ? -1 : b.device_id === mine ? 1 : b.last_active - a.last_active));
      /** @type {HTMLButtonElement} */ ($('#btn-sign-out-others')).disabled = devices.length <= 1;
      $('#device-list').replaceChildren(...devices.map((d) => h('li', { 'data-testid': 'device', 'data-device-id': d.device_id },
        h('span', { class: `presence-dot inline ${d.online ? 'online' : 'offline'}`, 'aria-label': d.online ? 'online' : 'offline', role: 'img' }),
        h('span', { class: 'grow' },
          h('span', { class: 'device-name', text: d.device_name || 'Unnamed device' }),
          // Sign-in time tells apart devices with the same browser and OS.
          h('span', { class: 'muted small', 'data-testid': 'device-meta', text: ` · signed in ${fmtListTime(d.created_at)} · active ${fmtListTime(d.last_active)} · last used ${fmtListTime(d.last_used_at ?? d.last_active)}` })),
        h('button', { type: 'button', class: 'link', 'data-testid': 'device-rename', 'aria-label': `Rename ${d.device_name}`,
          onClick: () => this.renameDevice(d.device_id, d.device_name) }, 'Rename'),
        d.device_id === mine
          ? h('span', { class: 'tag', 'data-testid': 'this-device', text: 'this device' })
          : h('button', { type: 'button', class: 'link danger', 'data-testid': 'device-sign-out', 'aria-label': `Sign out ${d.device_name}`,
            onClick: () => this.revoke([d.device_id]) }, 'Sign out'))));
    } catch (err) {
      showError(this.devices, 'devices-error', /** @type {Error} */ (err).message);
    }
  }

  /** @param {string[]} ids */
  async revoke(ids) {
    try {
      for (const id of ids) await this.store.api.revokeDevice(id);
    } catch (err) {
      showError(this.devices, 'devices-error', /** @type {Error} */ (err).message);
    }
    await this.renderDevices();
  }

  async signOutOthers() {
    try {
      await this.store.api.signOutOthers();
      toast('Other devices were signed out.');
    } catch (err) {
      showError(this.devices, 'devices-error', /** @type {Error} */ (err).message);
    }
    await this.renderDevices();
  }

  /** @param {string} deviceId @param {string} current */
  async renameDevice(deviceId, current) {
    const name = prompt('Device name', current);
    if (name === null || name.trim() === '' || name === current) return;
    try {
      await this.store.api.renameDevice(deviceId, name);
    } catch (err) {
      showError(this.devices, 'devices-error', /** @type {Error} */ (err).message);
    }
    await this.renderDevices();
  }

  /** @param {Event} e */
  async submitProfile(e) {
    e.preventDefault();
    showError(this.devices, 'devices-error', '');
    const input = /** @type {HTMLInputElement} */ ($('#profile-name'));
    try {
      const me = await this.store.api.updateMe({ display_name: input.value });
      input.value = me.display_name;
      // app.js keeps the session and the header in step.
      window.dispatchEvent(new CustomEvent('profile-changed', { detail: { display_name: me.display_name } }));
      toast('Display name saved.');
    } catch (err) {
      showError(this.devices, 'devices-error', /** @type {Error} */ (err).message);
    }
  }

  /** @param {Event} e */
  async submitPassword(e) {
    e.preventDefault();
    showError(this.devices, 'devices-error', '');
    const form = /** @type {HTMLFormElement} */ (e.target);
    const data = new FormData(form);
    try {
      await this.store.api.changePassword(String(data.get('current_password') ?? ''), String(data.get('new_password') ?? ''));
      form.reset();
      toast('Password changed; your other devices were signed out.');
    } catch (err) {
      showError(this.devices, 'devices-error', /** @type {Error} */ (err).message);
      // 401 is usually the wrong current password; if the session itself was revoked, this call signs out as usual.
      if (/** @type {{status?: number}} */ (err).status === 401) await this.store.api.me().catch(() => undefined);
    }
    await this.renderDevices();
  }

  // ---- image viewer

  /** @param {string} url @param {string} name */
  showImage(url, name) {
    const img = /** @type {HTMLImageElement} */ ($('#lightbox-img'));
    img.src = url;
    img.alt = name;
    const link = /** @type {HTMLAnchorElement} */ ($('#lightbox-link'));
    link.href = url;
    link.download = name;
    this.image.showModal();
  }
}
