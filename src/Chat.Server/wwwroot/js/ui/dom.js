// @ts-check
/**
 * Tiny DOM helpers. User content only ever becomes text nodes / textContent: there is no
 * innerHTML anywhere in this client.
 * @module ui/dom
 */

/**
 * @typedef {Node | string | number | null | undefined | false} Child
 * @typedef {Record<string, any>} Props
 */

/**
 * Creates an element. `text` sets textContent; `class` the class list; `on…` functions become
 * listeners; `style` goes through the CSSOM (the page's CSP refuses style attributes); `data-*`/`aria-*`/other
 * keys become attributes (booleans add/remove them).
 * @param {string} tag
 * @param {Props} [props]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElement}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') el.textContent = String(v);
    else if (k === 'class') el.className = String(v);
    else if (k === 'style') el.style.cssText = String(v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === 'value' || k === 'checked' || k === 'disabled' || k === 'hidden') /** @type {any} */ (el)[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

/** @param {Element} el @param {(Child | Child[])[]} children */
function append(el, children) {
  for (const c of children) {
    if (Array.isArray(c)) append(el, c);
    else if (c === null || c === undefined || c === false) continue;
    else if (typeof c === 'string' || typeof c === 'number') el.appendChild(document.createTextNode(String(c)));
    else el.appendChild(c);
  }
}

/**
 * @template {Element} [T=HTMLElement]
 * @param {string} selector
 * @param {ParentNode} [root]
 * @returns {T}
 */
export function $(selector, root = document) {
  const el = root.querySelector(selector);
  if (!el) throw new Error(`missing element ${selector}`);
  return /** @type {T} */ (el);
}

/** Only http(s), blob and same-origin relative URLs may become href/src. @param {string | undefined | null} url
 * @returns {string | null} */
export function safeUrl(url) {
  if (!url) return null;
  try {
    const u = new URL(url, location.href);
    return u.protocol === 'http:' || u.protocol === 'https:' || u.protocol === 'blob:' ? u.href : null;
  } catch {
    return null;
  }
}

// ---- formatting

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const weekdayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short' });
const dateFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
const longDayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });

/** @param {number} ts */
export function fmtTime(ts) { return timeFmt.format(ts); }

/** Local calendar day, e.g. "2024-5-1". @param {number} ts */
export function dayKey(ts) {
  const d = new Date(ts);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

/** @param {number} ts @returns {number} days between that day and today (0 = today) */
function daysAgo(ts) {
  const a = new Date(ts); a.setHours(0, 0, 0, 0);
  const b = new Date(); b.setHours(0, 0, 0, 0);
  return Math.round((b.getTime() - a.getTime()) / 86400000);
}

/** Day separator label. @param {number} ts */
export function fmtDay(ts) {
  const n = daysAgo(ts);
  if (n === 0) return 'Today';
  if (n === 1) return 'Yesterday';
  return longDayFmt.format(ts);
}

/** Chat list time: time today, weekday this week, date before. @param {number} ts */
export function fmtListTime(ts) {
  const n = daysAgo(ts);
  if (n === 0) return fmtTime(ts);
  if (n === 1) return 'Yesterday';
  if (n < 7) return weekdayFmt.format(ts);
  return dateFmt.format(ts);
}

/** @param {number} ts */
export function fmtLastSeen(ts) {
  if (!ts) return 'offline';
  const ago = Date.now() - ts;
  if (ago < 60000) return 'last seen just now';
  if (ago < 3600000) return `last seen ${Math.floor(ago / 60000)} min ago`;
  const n = daysAgo(ts);
  if (n === 0) return `last seen today at ${fmtTime(ts)}`;
  if (n === 1) return `last seen yesterday at ${fmtTime(ts)}`;
  return `last seen ${dateFmt.format(ts)}`;
}

/** @param {number} bytes */
export function fmtSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** First letter(s) for an avatar. @param {string} name */
export function initials(name) {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const s = parts.length > 1 ? parts[0][0] + parts[1][0] : (parts[0] ?? '?').slice(0, 1);
  return s.toUpperCase();
}

/** A stable pleasant colour per id. @param {string} id */
export function hue(id) {
  let x = 0;
  for (let i = 0; i < id.length; i++) x = (x * 31 + id.charCodeAt(i)) >>> 0;
  return x % 360;
}

/** Coalesces synchronous bursts of calls into one run (a microtask later). Unlike
 * requestAnimationFrame it also runs in background tabs. @param {() => void} fn */
export function batched(fn) {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    queueMicrotask(() => { queued = false; fn(); });
  };
}

/** @param {string} message @param {'info' | 'error'} [kind] */
export function toast(message, kind = 'info') {
  const host = document.getElementById('toasts');
  if (!host) return;
  const el = h('div', { class: `toast ${kind}`, 'data-testid': 'toast', role: kind === 'error' ? 'alert' : 'status', text: message });
  host.appendChild(el);
  setTimeout(() => el.remove(), 5000);
}
