// @ts-check
/**
 * The conversation pane: header (presence, last seen), history with day separators and
 * load-older-on-scroll, ticks, "read by N", group timeline lines, typing indicator, composer, attachments.
 * `reveal` opens the history at one message (search hits, quoted replies): a window around it
 * (store/conversations.js) that loads newer pages on scrolling down and offers "Jump to latest".
 * Message elements are keyed (sender + client_msg_id) and reused, so an optimistic message
 * turns into the acknowledged one in place.
 * @module ui/conversation
 */
import { icon } from './icons.js';
import { h, $, fmtTime, fmtDay, dayKey, fmtLastSeen, fmtSize, initials, hue, safeUrl, batched, toast } from './dom.js';
import { MessageActions } from './message-actions.js';
import { MentionAutocomplete, mentionResolver } from './mentions.js';
import { renderMessageText } from './markdown.js';
import { reactionChips, reactionsSig } from './reactions.js';
import { eventLine, fillEventLine } from './timeline.js';

/**
 * @typedef {import('../store.js').ChatStore} ChatStore
 * @typedef {import('../store.js').Pending} Pending
 * @typedef {import('../api.js').Message} Message
 * @typedef {{key: string, kind: 'day', label: string} |
 *   {key: string, kind: 'event', event: import('../api.js').GroupEvent} |
 *   {key: string, kind: 'msg', msg: Message | null, pending: Pending | null, showSender: boolean}} Item
 */

/** A revealed message stays highlighted this long. */
const HIGHLIGHT_MS = 2500;

const TICKS = {
  pending: { text: '', label: 'Sending' },
  failed: { text: '!', label: 'Not sent' },
  sent: { text: '✓', label: 'Sent' },
  delivered: { text: '✓✓', label: 'Delivered' },
  read: { text: '✓✓', label: 'Read' },
};

export class ConversationView {
  /**
   * @param {ChatStore} store
   * @param {{onBack: () => void, openImage: (url: string, name: string) => void, openGroup: (groupId: string) => void, toggleBlock: (userId: string) => void}} hooks
   */
  constructor(store, hooks) {
    this.store = store;
    this.hooks = hooks;
    /** @type {string | null} */
    this.chatId = null;
    this.section = $('#conversation');
    this.placeholder = $('#placeholder');
    this.nameEl = $('#conv-name');
    this.subEl = $('#conv-sub');
    this.avatarEl = $('#conv-avatar');
    this.scroller = $('#messages');
    this.listEl = $('#message-list');
    this.olderEl = $('#older');
    this.newerEl = $('#newer');
    this.latestBtn = /** @type {HTMLButtonElement} */ ($('#jump-latest'));
    this.typingEl = $('#typing');
    this.form = /** @type {HTMLFormElement} */ ($('#composer'));
    this.input = /** @type {HTMLTextAreaElement} */ ($('#message-input'));
    this.fileInput = /** @type {HTMLInputElement} */ ($('#file-input'));
    this.overlay = $('#drop-overlay');
    this.groupBtn = /** @type {HTMLButtonElement} */ ($('#btn-group-info'));
    this.blockBtn = /** @type {HTMLButtonElement} */ ($('#btn-block'));
    /** @type {Map<string, HTMLElement>} */
    this.elements = new Map();
    /** @type {Map<string, string>} unsent drafts per chat */
    this.drafts = new Map();
    /** Stay scrolled to the newest message while it is in view. */
    this.stick = true;
    /** @type {{height: number, top: number} | null} */
    this.anchor = null;
    this.render = batched(() => this.renderNow());
    this.lastReadCheck = 0;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.readTimer = null;

    store.addEventListener('change', (e) => this.onChange(/** @type {CustomEvent} */ (e).detail));
    this.actions = new MessageActions(this);
    this.mentions = new MentionAutocomplete(store, this.input, this.section, () => this.chatId);
    this.bindComposer();
    this.bindScroll();
    this.bindDrop();
    $('#btn-back').addEventListener('click', () => hooks.onBack());
    this.groupBtn.addEventListener('click', () => { if (this.chatId) hooks.openGroup(this.chatId); });
    this.blockBtn.addEventListener('click', () => {
      const partner = this.chatId ? this.store.directPartner(this.chatId) : null;
      if (partner) hooks.toggleBlock(partner);
    });
    this.latestBtn.addEventListener('click', () => this.jumpToLatest());
    window.addEventListener('focus', () => this.scheduleReadCheck());
    document.addEventListener('visibilitychange', () => this.scheduleReadCheck());
    setInterval(() => { if (this.chatId) this.renderHeader(); }, 30000); // "last seen 5 min ago"
  }

  /** @param {{what: string, chatId?: string, extra?: unknown}} d */
  onChange(d) {
    if (!this.chatId) return;
    if (d.chatId && d.chatId !== this.chatId) return;
    if (d.what === 'older') {
      if (d.extra === 'start') this.anchor = { height: this.scroller.scrollHeight, top: this.scroller.scrollTop };
      else { this.renderNow(); this.restoreAnchor(); }
      return;
    }
    if (d.what === 'removed') {
      toast('You are no longer a member of this group.');
    }
    this.render();
  }

  /** @param {string | null} chatId */
  show(chatId) {
    if (this.chatId === chatId) return;
    if (this.chatId) this.drafts.set(this.chatId, this.actions.mode?.kind === 'edit' ? this.actions.mode.draft : this.input.value);
    this.actions.reset();
    this.mentions.close();
    this.chatId = chatId;
    this.elements.clear();
    this.listEl.replaceChildren();
    this.section.hidden = !chatId;
    this.placeholder.hidden = !!chatId;
    if (!chatId) return;
    this.input.value = this.drafts.get(chatId) ?? '';
    this.autosize();
    this.stick = true;
    this.anchor = null;
    this.renderNow();
    if (matchMedia('(pointer: fine)').matches) this.input.focus({ preventScroll: true });
  }

  renderNow() {
    const chatId = this.chatId;
    if (!chatId) return;
    this.renderHeader();
    this.renderMessages();
    this.renderTyping();
    const removed = this.store.convs.get(chatId)?.removed ?? false;
    this.input.disabled = removed;
    this.input.placeholder = removed ? 'You are not a member of this group.' : 'Message';
    if (this.stick) this.scrollToBottom();
    this.scheduleReadCheck();
  }

  /** Scrolls to a message and highlights it, loading the history around it first when it is not
   * loaded (store `loadAround`). Used for search hits and quoted replies.
   * @param {string} chatId @param {number} seq @param {string} [messageId] */
  async reveal(chatId, seq, messageId) {
    this.stick = false;
    /** @returns {HTMLElement | null} */
    const find = () => this.listEl.querySelector(messageId ? `[data-message-id="${CSS.escape(messageId)}"]` : `[data-seq="${seq}"]`);
    if (!find()) {
      try {
        const loaded = await this.store.loadAround(chatId, seq);
        if (this.chatId !== chatId) return;
        this.stick = false;
        this.renderNow();
        if (!loaded) { toast('That message is no longer available.'); return; }
      } catch (err) {
        toast(/** @type {Error} */ (err).message, 'error');
        return;
      }
    }
    const el = find();
    if (!el) return;
    this.stick = false;
    el.scrollIntoView({ block: 'center' });
    el.dataset.highlighted = 'true';
    setTimeout(() => { delete el.dataset.highlighted; }, HIGHLIGHT_MS);
  }

  /** Leaves a window for the newest page, scrolled to the bottom. */
  async jumpToLatest() {
    const chatId = this.chatId;
    if (!chatId) return;
    this.stick = true;
    try {
      await this.store.loadLatest(chatId);
    } catch (err) {
      toast(/** @type {Error} */ (err).message, 'error');
    }
    if (this.chatId === chatId) { this.stick = true; this.renderNow(); }
  }

  renderHeader() {
    const s = this.store;
    const chatId = /** @type {string} */ (this.chatId);
    const title = s.chatTitle(chatId);
    this.nameEl.textContent = title;
    this.avatarEl.textContent = s.isGroup(chatId) ? '#' : initials(title);
    this.avatarEl.style.setProperty('--h', String(hue(chatId)));
    const partner = s.directPartner(chatId);
    this.groupBtn.hidden = !s.isGroup(chatId) || !!s.convs.get(chatId)?.removed;
    this.blockBtn.hidden = !partner || partner === s.me;
    this.blockBtn.textContent = partner && s.blocked.has(partner) ? 'Unblock' : 'Block';
    let sub = '';
    let state = '';
    if (partner === s.me) {
      sub = 'your own notes';
    } else if (partner) {
      const p = s.presence.get(partner);
      state = p?.status ?? 'offline';
      sub = state === 'online' ? 'online' : state === 'away' ? 'away' : fmtLastSeen(p?.last_seen ?? 0);
      if (s.blocked.has(partner)) sub = 'blocked';
    } else {
      const g = s.convs.get(chatId)?.group;
      const count = g?.members.length ?? s.chats.get(chatId)?.member_count;
      sub = count ? `${count} member${count === 1 ? '' : 's'}` : '';
      if (g) sub += ` · ${g.members.map((id) => (id === s.me ? 'you' : s.displayName(id))).join(', ')}`;
    }
    this.subEl.textContent = sub;
    this.subEl.dataset.status = state;
  }

  renderTyping() {
    const s = this.store;
    const typers = s.typingIn(/** @type {string} */ (this.chatId));
    let text = '';
    if (typers.length === 1) text = `${s.displayName(typers[0])} is typing…`;
    else if (typers.length === 2) text = `${s.displayName(typers[0])} and ${s.displayName(typers[1])} are typing…`;
    else if (typers.length > 2) text = `${typers.length} people are typing…`;
    if (this.typingEl.textContent !== text) this.typingEl.textContent = text;
  }

  // ------------------------------------------------------------------ message list

  /** @returns {Item[]} */
  items() {
    const s = this.store;
    const chatId = /** @type {string} */ (this.chatId);
    const group = s.isGroup(chatId);
    /** @type {Item[]} */
    const out = [];
    let lastDay = '';
    let lastFrom = '';
    /** @param {number} ts */
    const day = (ts) => {
      const k = dayKey(ts);
      if (k !== lastDay) { out.push({ key: `day-${k}`, kind: 'day', label: fmtDay(ts) }); lastDay = k; lastFrom = ''; }
    };
    // Group changes go after the message with seq = after_seq, i.e. before the first message above it.
    const events = s.eventsOf(chatId);
    let next = 0;
    /** @param {number} seq */
    const eventsBefore = (seq) => {
      for (; next < events.length && events[next].after_seq < seq; next++) {
        const ev = events[next];
        day(ev.timestamp);
        out.push({ key: `ev:${ev.event_id}`, kind: 'event', event: ev });
        lastFrom = '';
      }
    };
    for (const m of s.messagesOf(chatId)) {
      eventsBefore(m.seq);
      if (m.kind && m.kind !== 'message') continue; // kinds this client does not know show as nothing
      day(m.timestamp);
      out.push({ key: msgKey(m.from, m.client_msg_id, m.message_id), kind: 'msg', msg: m, pending: null, showSender: group && m.from !== s.me && m.from !== lastFrom });
      lastFrom = m.from;
    }
    eventsBefore(Infinity);
    for (const p of s.pendingOf(chatId)) {
      day(p.timestamp);
      out.push({ key: msgKey(s.me, p.client_msg_id, ''), kind: 'msg', msg: null, pending: p, showSender: false });
      lastFrom = s.me;
    }
    return out;
  }

  renderMessages() {
    const chatId = /** @type {string} */ (this.chatId);
    const conv = this.store.convs.get(chatId);
    const items = this.items();
    const keys = new Set(items.map((i) => i.key));
    for (const [k, el] of this.elements) if (!keys.has(k)) { el.remove(); this.elements.delete(k); }
    let cursor = this.listEl.firstElementChild;
    for (const item of items) {
      let el = this.elements.get(item.key);
      if (!el) {
        el = item.kind === 'day'
          ? h('div', { class: 'day', 'data-testid': 'day-separator', role: 'separator' }, h('span', { text: item.label }))
          : item.kind === 'event' ? eventLine() : h('div', { class: 'msg', 'data-testid': 'message' });
        el.dataset.key = item.key;
        this.elements.set(item.key, el);
      }
      if (item.kind === 'msg') this.fillMessage(el, item);
      else if (item.kind === 'event') fillEventLine(this.store, el, item.event);
      if (el !== cursor) this.listEl.insertBefore(el, cursor);
      else cursor = cursor.nextElementSibling;
    }

    let older = '';
    if (!conv || !conv.loaded) older = 'Loading…';
    else if (conv.loadingOlder) older = 'Loading older messages…';
    else if (!conv.hasMoreBefore) older = items.length ? 'Beginning of the conversation' : 'No messages yet. Say hello!';
    this.olderEl.textContent = older;
    const windowed = !!conv?.loaded && conv.hasMoreAfter;
    this.newerEl.hidden = !windowed;
    this.newerEl.textContent = conv?.loadingNewer ? 'Loading newer messages…' : '';
    this.latestBtn.hidden = !windowed;
    // Not enough to scroll yet: fetch more right away.
    if (conv?.loaded && this.scroller.scrollHeight <= this.scroller.clientHeight + 10) {
      if (conv.hasMoreBefore && !conv.loadingOlder) this.store.loadOlder(chatId).catch((e) => toast(e.message, 'error'));
      else if (conv.hasMoreAfter && !conv.loadingNewer) this.store.loadNewer(chatId).catch((e) => toast(e.message, 'error'));
    }
  }

  /** @param {HTMLElement} el @param {Item & {kind: 'msg'}} item */
  fillMessage(el, item) {
    const s = this.store;
    const chatId = /** @type {string} */ (this.chatId);
    const m = item.msg;
    const p = item.pending;
    const own = m ? m.from === s.me : true;
    const content = m ? m.content : p?.content ?? '';
    /** @type {import('../api.js').Attachment | null} */
    let att = m?.attachment ?? null;
    if (!att && p?.local) att = { file_id: '', ...p.local, thumbnail_url: p.local.type.startsWith('image/') ? p.local.url : undefined };
    const status = m ? (own ? s.statusOf(chatId, m) : '') : p?.state === 'failed' ? 'failed' : 'pending';
    const readBy = m && own && s.isGroup(chatId) ? s.readByCount(chatId, m) : 0;
    const ts = m ? m.timestamp : p?.timestamp ?? Date.now();
    const progress = p?.state === 'uploading' ? Math.round((p.progress ?? 0) * 100) : -1;
    const sender = item.showSender && m ? s.displayName(m.from) : '';

    const deleted = !!m?.deleted;
    if (deleted) att = null;
    const replyRef = m?.reply_to ?? (p?.reply_to ? s.replyRefTo(chatId, p.reply_to) : null);
    const mentionsMe = !!m && m.from !== s.me && !deleted && !!m.mentions?.includes(s.me);
    const sig = JSON.stringify([content, att?.url, att?.thumbnail_url, status, readBy, progress, p?.error, sender, ts,
      m ? this.actions.sig(chatId, m) : replyRef?.message_id, m ? reactionsSig(s, m) : '', mentionsMe]);
    if (el.dataset.sig === sig) return;
    el.dataset.sig = sig;
    el.className = `msg ${own ? 'own' : 'other'}${p ? ' pending' : ''}${deleted ? ' deleted' : ''}${mentionsMe ? ' mentions-me' : ''}`;
    if (deleted) el.dataset.deleted = 'true'; else delete el.dataset.deleted;
    el.dataset.own = String(own);
    el.dataset.status = status;
    if (m) { el.dataset.seq = String(m.seq); el.dataset.messageId = m.message_id; el.dataset.from = m.from; }
    else { delete el.dataset.seq; delete el.dataset.messageId; }
    if (p) el.dataset.pending = p.state; else delete el.dataset.pending;

    const tick = status ? TICKS[/** @type {keyof typeof TICKS} */ (status)] : null;
    const bubble = h('div', { class: 'bubble' },
      sender ? h('div', { class: 'sender', 'data-testid': 'message-sender', style: `--h:${hue(m?.from ?? '')}`, text: sender }) : null,
      att ? this.attachmentView(att) : null,
      progress >= 0 ? h('progress', { class: 'upload', 'data-testid': 'upload-progress', max: '100', value: String(progress), 'aria-label': `Uploading ${progress}%` }) : null,
      replyRef && !deleted ? this.actions.quote(chatId, replyRef) : null,
      deleted ? this.actions.tombstone() : null,
      content && !deleted ? h('div', { class: 'text', 'data-testid': 'message-text' }, renderMessageText(content, { mention: mentionResolver(s, chatId) })) : null,
      m ? reactionChips(s, chatId, m) : null,
      h('div', { class: 'meta' },
        m ? this.actions.editedLabel(m) : null,
        h('time', { datetime: new Date(ts).toISOString(), text: fmtTime(ts) }),
        own && tick ? h('span', { class: `ticks ${status}`, 'data-testid': 'msg-status', 'data-status': status, role: 'img', 'aria-label': tick.label, title: tick.label },
          status === 'pending' ? icon('clock') : status === 'failed' ? icon('alert') : tick.text) : null),
      readBy > 0 ? h('div', { class: 'read-by', 'data-testid': 'read-by', text: `Read by ${readBy}` }) : null,
      p?.state === 'failed' ? h('div', { class: 'failed' },
        h('span', { text: p.error ? `Not sent: ${p.error}` : 'Not sent' }),
        h('button', { type: 'button', class: 'link', 'data-testid': 'retry', onClick: () => s.retry(p.client_msg_id) }, 'Retry'),
        h('button', { type: 'button', class: 'link', 'data-testid': 'discard', onClick: () => s.discard(p.client_msg_id) }, 'Discard')) : null,
    );
    const bar = m && !deleted ? this.actions.bar(chatId, m) : null;
    if (bar) el.replaceChildren(bar, bubble); else el.replaceChildren(bubble);
  }

  /** @param {import('../api.js').Attachment} att */
  attachmentView(att) {
    const url = safeUrl(att.url);
    const thumb = safeUrl(att.thumbnail_url ?? (att.type?.startsWith('image/') ? att.url : null));
    if (thumb && att.type?.startsWith('image/')) {
      const img = /** @type {HTMLImageElement} */ (h('img', { src: thumb, alt: att.file_name, 'data-testid': 'attachment-image', decoding: 'async' }));
      img.addEventListener('load', () => { if (this.stick) this.scrollToBottom(); });
      return h('button', { type: 'button', class: 'thumb', 'aria-label': `Open image ${att.file_name}`,
        onClick: () => this.hooks.openImage(url ?? thumb, att.file_name) }, img);
    }
    return h('a', { class: 'file-card', 'data-testid': 'attachment-file', href: url ?? undefined, download: att.file_name, target: '_blank', rel: 'noopener noreferrer' },
      h('span', { class: 'file-icon' }, icon('file')),
      h('span', { class: 'file-info' },
        h('span', { class: 'file-name', 'data-testid': 'attachment-name', text: att.file_name }),
        h('span', { class: 'file-size', 'data-testid': 'attachment-size', text: fmtSize(att.size ?? 0) })));
  }

  // ------------------------------------------------------------------ scrolling and read state

  bindScroll() {
    this.scroller.addEventListener('scroll', () => {
      const el = this.scroller;
      const fromBottom = el.scrollHeight - el.scrollTop - el.clientHeight;
      const windowed = !!this.chatId && !!this.store.convs.get(this.chatId)?.hasMoreAfter;
      this.stick = fromBottom < 60 && !windowed;
      if (el.scrollTop < 120 && this.chatId) this.store.loadOlder(this.chatId).catch((e) => toast(e.message, 'error'));
      if (fromBottom < 120 && windowed && this.chatId) this.store.loadNewer(this.chatId).catch((e) => toast(e.message, 'error'));
      this.scheduleReadCheck();
    }, { passive: true });
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  restoreAnchor() {
    if (!this.anchor) return;
    const { height, top } = this.anchor;
    this.anchor = null;
    if (this.stick) { this.scrollToBottom(); return; }
    this.scroller.scrollTop = top + (this.scroller.scrollHeight - height);
  }

  scheduleReadCheck() {
    if (this.readTimer) return;
    const wait = Math.max(0, 150 - (Date.now() - this.lastReadCheck));
    this.readTimer = setTimeout(() => { this.readTimer = null; this.lastReadCheck = Date.now(); this.checkRead(); }, wait);
  }

  /** Marks read up to the newest message on screen, only when the tab is visible and focused. */
  checkRead() {
    const chatId = this.chatId;
    if (!chatId || document.visibilityState !== 'visible' || !document.hasFocus()) return;
    const box = this.scroller.getBoundingClientRect();
    if (box.height === 0) return; // hidden pane (narrow layout showing the list)
    let max = 0;
    const els = this.listEl.children;
    for (let i = els.length - 1; i >= 0; i--) {
      const el = /** @type {HTMLElement} */ (els[i]);
      if (!el.dataset.seq) continue;
      const r = el.getBoundingClientRect();
      if (r.bottom < box.top) break;
      if (r.top < box.bottom && r.bottom > box.top) max = Math.max(max, Number(el.dataset.seq));
    }
    if (max > 0) this.store.markRead(chatId, max);
  }

  // ------------------------------------------------------------------ composer

  bindComposer() {
    this.form.addEventListener('submit', (e) => { e.preventDefault(); this.submit(); });
    this.input.addEventListener('keydown', (e) => {
      // The @ suggestions and the reply/edit modes have the first say on keys.
      if (this.mentions.onKey(e) || this.actions.onComposerKey(e)) { e.preventDefault(); e.stopPropagation(); return; }
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); this.submit(); }
    });
    this.input.addEventListener('input', () => {
      this.autosize();
      if (this.chatId && this.input.value.trim()) this.store.userTyping(this.chatId);
      else if (this.chatId) this.store.stopTyping(this.chatId);
    });
    this.input.addEventListener('paste', (e) => {
      const files = [...(e.clipboardData?.files ?? [])];
      if (files.length && this.chatId) { e.preventDefault(); this.sendFiles(files); }
    });
    this.fileInput.addEventListener('change', () => {
      const files = [...(this.fileInput.files ?? [])];
      this.fileInput.value = '';
      this.sendFiles(files);
    });
  }

  submit() {
    const chatId = this.chatId;
    const text = this.input.value.trim();
    if (!chatId || !text || this.input.disabled) return;
    const bytes = new TextEncoder().encode(text).length;
    const max = this.store.limits.max_content_bytes;
    if (bytes > max) { toast(`This message is ${fmtSize(bytes)}; messages can be up to ${fmtSize(max)}. Shorten it or send it as a file.`, 'error'); return; }
    const { handled, replyTo } = this.actions.onSubmit(chatId, text);
    if (handled) { this.render(); return; }
    this.leaveWindow(chatId);
    this.store.sendText(chatId, text, replyTo);
    this.input.value = '';
    this.drafts.delete(chatId);
    this.autosize();
    this.stick = true;
    this.render();
  }

  /** @param {File[]} files */
  sendFiles(files) {
    const chatId = this.chatId;
    if (!chatId || this.input.disabled) return;
    const max = this.store.limits.max_file_bytes;
    const tooLarge = files.filter((f) => f.size > max);
    for (const f of tooLarge) toast(`${f.name || 'This file'} is ${fmtSize(f.size)}; files can be up to ${fmtSize(max)}.`, 'error');
    files = files.filter((f) => f.size <= max);
    if (!files.length) return;
    this.leaveWindow(chatId);
    for (const f of files) this.store.sendFile(chatId, f);
    this.stick = true;
  }

  /** Sending from a window opened at an older message: show the newest page, where the message goes.
   * @param {string} chatId */
  leaveWindow(chatId) {
    if (this.store.convs.get(chatId)?.hasMoreAfter) this.jumpToLatest().catch(() => {});
  }

  autosize() {
    this.input.style.height = 'auto';
    this.input.style.height = `${Math.min(this.input.scrollHeight, 200)}px`;
  }

  bindDrop() {
    let depth = 0;
    /** @param {DragEvent} e */
    const hasFiles = (e) => [...(e.dataTransfer?.types ?? [])].includes('Files');
    this.section.addEventListener('dragenter', (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth++;
      this.overlay.classList.add('visible');
    });
    this.section.addEventListener('dragover', (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    });
    this.section.addEventListener('dragleave', () => {
      depth = Math.max(0, depth - 1);
      if (!depth) this.overlay.classList.remove('visible');
    });
    this.section.addEventListener('drop', (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth = 0;
      this.overlay.classList.remove('visible');
      this.sendFiles([...(e.dataTransfer?.files ?? [])]);
    });
  }
}

/** @param {string} from @param {string | undefined} clientMsgId @param {string} messageId */
function msgKey(from, clientMsgId, messageId) {
  return clientMsgId ? `c:${from}:${clientMsgId}` : `m:${messageId}`;
}
