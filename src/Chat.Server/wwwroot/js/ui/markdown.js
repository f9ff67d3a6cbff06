// @ts-check
/**
 * Message text as DOM: a small, safe markdown subset, links and mentions.
 *
 * - ```code blocks``` (an optional language word after the opening fence), `inline code`,
 *   **bold**, *italics* and _italics_;
 * - http and https URLs become links (`target=_blank`, `rel="noopener noreferrer"`); nothing else
 *   does (`javascript:`, `data:` … stay text);
 * - `@username` (after the start or whitespace) is marked as a mention; `@you` stands out.
 *
 * Everything is built with createElement and text nodes: user text never goes through innerHTML,
 * so `<script>` or any markup in a message shows as the characters it is. No nesting beyond
 * bold/italics containing each other, links and mentions; code is always literal.
 * @module ui/markdown
 */

/**
 * @typedef {{
 *   mention?: (username: string) => 'me' | 'other' | null
 * }} RenderOptions `mention` says whether `@username` names you, another member, or no one
 */

const FENCE = /```([^\n`]*\n)?([\s\S]*?)```/g;

// One alternative per inline form, tried left to right at each position:
// 1 inline code · 2 URL · 3 **bold** · 4 *italics* · 5 _italics_ (not inside words) · 6 @mention
const INLINE = new RegExp([
  '`([^`\\n]+)`',
  '(https?:\\/\\/[^\\s<>"`]+)',
  '\\*\\*(?=\\S)([\\s\\S]*?\\S)\\*\\*',
  '\\*(?=[^\\s*])([\\s\\S]*?[^\\s*])\\*(?!\\*)',
  '(?<![\\p{L}\\p{N}_])_(?=[^\\s_])([\\s\\S]*?[^\\s_])_(?![\\p{L}\\p{N}_])',
  '(?<!\\S)@([a-z0-9._-]{3,32})',
].join('|'), 'giu');

/** Characters a URL does not end with when it stands in a sentence ("see https://x.org."). */
const TRAILING = /[.,;:!?'")\]}]+$/;

/** @param {string} text @param {RenderOptions} [options] @returns {Node[]} */
export function renderMessageText(text, options = {}) {
  /** @type {Node[]} */
  const out = [];
  let last = 0;
  for (const m of text.matchAll(FENCE)) {
    const at = m.index ?? 0;
    // A block starts and ends its own line: drop one newline on each side of it.
    if (at > last) out.push(...inline(text.slice(last, at).replace(/\n$/, ''), options));
    // "```js\n…": a language word alone on the fence line; "```text…\n…" is all code.
    const isLang = m[1] !== undefined && /^[\w+#.-]*\n$/.test(m[1]);
    const pre = document.createElement('pre');
    pre.className = 'code-block';
    const code = document.createElement('code');
    if (isLang && m[1].trim()) code.dataset.lang = m[1].trim();
    code.textContent = (m[1] !== undefined && !isLang ? m[1] : '') + m[2].replace(/\n$/, '');
    pre.appendChild(code);
    out.push(pre);
    last = at + m[0].length;
    if (text[last] === '\n') last++;
  }
  if (last < text.length) out.push(...inline(text.slice(last), options));
  return out;
}

/** @param {string} text @param {RenderOptions} options @returns {Node[]} */
function inline(text, options) {
  /** @type {Node[]} */
  const out = [];
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    const at = m.index ?? 0;
    if (at < last) continue;
    if (at > last) out.push(document.createTextNode(text.slice(last, at)));
    last = at + m[0].length;
    if (m[1] !== undefined) {
      out.push(el('code', 'inline-code', [document.createTextNode(m[1])]));
    } else if (m[2] !== undefined) {
      let url = m[2];
      const trail = TRAILING.exec(url)?.[0] ?? '';
      // Keep a closing parenthesis that belongs to the URL (Wikipedia-style links).
      const keep = trail.startsWith(')') && url.slice(0, -trail.length).includes('(') ? 1 : 0;
      const cut = trail.length - keep;
      if (cut > 0) url = url.slice(0, -cut);
      const href = httpUrl(url);
      out.push(href ? link(href, url) : document.createTextNode(url));
      if (cut > 0) out.push(document.createTextNode(m[2].slice(url.length)));
    } else if (m[3] !== undefined) {
      out.push(el('strong', '', inline(m[3], options)));
    } else if (m[4] !== undefined || m[5] !== undefined) {
      out.push(el('em', '', inline(m[4] ?? m[5], options)));
    } else if (m[6] !== undefined) {
      out.push(...mention(m[6], options));
    }
  }
  if (last < text.length) out.push(document.createTextNode(text.slice(last)));
  return out;
}

/** @param {string} name @param {RenderOptions} options @returns {Node[]} */
function mention(name, options) {
  // Usernames may contain dots, a sentence may end with one: try the name without trailing dots too.
  const bare = name.replace(/\.+$/, '');
  for (const candidate of bare !== name ? [name, bare] : [name]) {
    const who = options.mention?.(candidate.toLowerCase()) ?? null;
    if (!who) continue;
    const span = el('span', who === 'me' ? 'mention me' : 'mention', [document.createTextNode(`@${candidate}`)]);
    span.dataset.testid = 'mention';
    if (who === 'me') span.dataset.me = 'true';
    const rest = name.slice(candidate.length);
    return rest ? [span, document.createTextNode(rest)] : [span];
  }
  return [document.createTextNode(`@${name}`)];
}

/** @param {string} href @param {string} text */
function link(href, text) {
  const a = document.createElement('a');
  a.href = href;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  a.className = 'msg-link';
  a.dataset.testid = 'message-link';
  a.textContent = text;
  return a;
}

/** @param {string} url @returns {string | null} the URL when it is http(s) and well formed */
export function httpUrl(url) {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

/** @param {string} tag @param {string} className @param {Node[]} children */
function el(tag, className, children) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  for (const c of children) e.appendChild(c);
  return e;
}

/** Markdown markers removed, for one-line previews (chat list, reply quotes). @param {string} text */
export function plainPreview(text) {
  return text.replace(/```[^\n`]*\n?/g, '').replace(/\*\*(\S[\s\S]*?)\*\*/g, '$1').replace(/`([^`\n]+)`/g, '$1').replace(/\s+/g, ' ').trim();
}
