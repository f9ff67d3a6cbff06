// @ts-check
/**
 * Line icons as inline SVG built with DOM calls (no icon font, no emoji: they render the same on
 * every machine, including a bare Linux without colour-emoji fonts).
 * @module ui/icons
 */

/** @type {Record<string, string[]>} path data, 24×24 viewBox, stroked */
const PATHS = {
  edit: ['M12 20h9', 'M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4Z'],
  users: ['M9 3a4 4 0 1 1 0 8a4 4 0 1 1 0-8Z', 'M1 21v-2a4 4 0 0 1 4-4h8a4 4 0 0 1 4 4v2', 'M16 3.1a4 4 0 0 1 0 7.8', 'M23 21v-2a4 4 0 0 0-3-3.9'],
  devices: ['M3 4h18v12H3Z', 'M8 20h8', 'M12 16v4'],
  logout: ['M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4', 'M16 17l5-5-5-5', 'M21 12H9'],
  attach: ['M21.4 11.1l-9.2 9.2a6 6 0 0 1-8.5-8.5l9.2-9.2a4 4 0 0 1 5.7 5.7l-9.2 9.2a2 2 0 0 1-2.8-2.8l8.5-8.5'],
  send: ['M22 2L11 13', 'M22 2l-7 20-4-9-9-4Z'],
  back: ['M19 12H5', 'M12 19l-7-7 7-7'],
  info: ['M12 2a10 10 0 1 1 0 20a10 10 0 1 1 0-20Z', 'M12 16v-4', 'M12 8h.01'],
  close: ['M18 6L6 18', 'M6 6l12 12'],
  file: ['M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8Z', 'M14 2v6h6'],
  clock: ['M12 3a9 9 0 1 1 0 18a9 9 0 1 1 0-18Z', 'M12 7v5l3 2'],
  alert: ['M12 3a9 9 0 1 1 0 18a9 9 0 1 1 0-18Z', 'M12 8v5', 'M12 16h.01'],
  reply: ['M9 14L4 9l5-5', 'M20 20v-7a4 4 0 0 0-4-4H4'],
  smile: ['M12 2a10 10 0 1 1 0 20a10 10 0 1 1 0-20Z', 'M8 14s1.5 2 4 2 4-2 4-2', 'M9 9h.01', 'M15 9h.01'],
  trash: ['M3 6h18', 'M8 6V4h8v2', 'M19 6l-1 14H6L5 6'],
  copy: ['M9 9h11v11H9Z', 'M5 15H4V4h11v1'],
};

const NS = 'http://www.w3.org/2000/svg';

/** @param {keyof typeof PATHS | string} name @returns {SVGSVGElement} */
export function icon(name) {
  const svg = /** @type {SVGSVGElement} */ (document.createElementNS(NS, 'svg'));
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', `svg-icon icon-${name}`);
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  for (const d of PATHS[name] ?? []) {
    const path = document.createElementNS(NS, 'path');
    path.setAttribute('d', d);
    svg.appendChild(path);
  }
  return svg;
}

/** Replaces every `<span data-icon="name">` placeholder under `root` with its SVG. @param {ParentNode} root */
export function hydrateIcons(root = document) {
  for (const el of root.querySelectorAll('[data-icon]')) {
    el.replaceWith(icon(/** @type {HTMLElement} */ (el).dataset.icon ?? ''));
  }
}
