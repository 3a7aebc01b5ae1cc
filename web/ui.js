// Small DOM helpers shared by the room client and the admin panel: element building that
// never parses data as HTML (so site names cannot inject markup), and a line-icon set drawn
// for this project as SVG paths on a 24-unit grid.

const SVG = 'http://www.w3.org/2000/svg';

// h('div', {class: 'x', text: 'y', onclick: f, 'data-id': 3}, child, [children], null)
export function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked' || k === 'disabled' || k === 'selected' || k === 'hidden') el[k] = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, kids);
  return el;
}

function append(el, kids) {
  for (const k of kids) {
    if (k === null || k === undefined || k === false) continue;
    if (Array.isArray(k)) append(el, k);
    else el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];
export function clear(el) { while (el.firstChild) el.firstChild.remove(); return el; }
export function replace(el, ...kids) { clear(el); append(el, kids); return el; }

// Each icon is a list of path data strings, stroked with currentColor.
const ICONS = {
  mic: ['M12 3a3 3 0 0 1 3 3v6a3 3 0 0 1-6 0V6a3 3 0 0 1 3-3z', 'M5 11a7 7 0 0 0 14 0', 'M12 18v3', 'M8 21h8'],
  'mic-off': ['M9 9V6a3 3 0 0 1 5.9-.8', 'M15 10v2a3 3 0 0 1-4.6 2.5', 'M5 11a7 7 0 0 0 11.3 5.5', 'M19 11a7 7 0 0 1-.6 2.8',
    'M12 18v3', 'M8 21h8', 'M3 3l18 18'],
  camera: ['M3 7h12a1 1 0 0 1 1 1v8a1 1 0 0 1-1 1H3a1 1 0 0 1-1-1V8a1 1 0 0 1 1-1z', 'M16 10.5l5-3v9l-5-3'],
  hand: ['M8 13V5.5a1.5 1.5 0 0 1 3 0V11', 'M11 11V4a1.5 1.5 0 0 1 3 0v7', 'M14 11V5.5a1.5 1.5 0 0 1 3 0V13',
    'M17 13v-2a1.5 1.5 0 0 1 3 0v4a7 7 0 0 1-7 7h-1a7 7 0 0 1-5.6-2.8L4 17.5a1.6 1.6 0 0 1 2.4-2.1L8 17'],
  expand: ['M4 9V4h5', 'M20 9V4h-5', 'M4 15v5h5', 'M20 15v5h-5'],
  shrink: ['M9 4v5H4', 'M15 4v5h5', 'M9 20v-5H4', 'M15 20v-5h5'],
  settings: ['M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6z',
    'M19.4 13a7.6 7.6 0 0 0 0-2l2-1.6-2-3.4-2.4 1a7.5 7.5 0 0 0-1.7-1L15 3.5h-4L10.7 6a7.5 7.5 0 0 0-1.7 1l-2.4-1-2 3.4 2 1.6a7.6 7.6 0 0 0 0 2l-2 1.6 2 3.4 2.4-1a7.5 7.5 0 0 0 1.7 1l.3 2.5h4l.3-2.5a7.5 7.5 0 0 0 1.7-1l2.4 1 2-3.4z'],
  users: ['M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z', 'M2 21v-1a6 6 0 0 1 6-6h2a6 6 0 0 1 6 6v1', 'M16 3.5a4 4 0 0 1 0 7',
    'M19 14.5a6 6 0 0 1 3 5.5v1'],
  lock: ['M6 11h12v10H6z', 'M8.5 11V7.5a3.5 3.5 0 0 1 7 0V11'],
  unlock: ['M6 11h12v10H6z', 'M8.5 11V7.5a3.5 3.5 0 0 1 6.8-1.2'],
  star: ['M12 3l2.7 5.6 6.1.9-4.4 4.3 1 6.1L12 17l-5.4 2.9 1-6.1-4.4-4.3 6.1-.9z'],
  volume: ['M4 9h4l5-4v14l-5-4H4z', 'M16.5 8.5a5 5 0 0 1 0 7', 'M19 6a8.5 8.5 0 0 1 0 12'],
  logout: ['M15 4h4v16h-4', 'M10 8l-4 4 4 4', 'M6 12h10'],
  check: ['M5 12.5l4.5 4.5L19 7'],
  x: ['M6 6l12 12', 'M18 6L6 18'],
  alert: ['M12 3l10 18H2z', 'M12 10v5', 'M12 18v.5'],
  clock: ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z', 'M12 7v5l3 2'],
  calendar: ['M4 6h16v15H4z', 'M4 10h16', 'M8 3v5', 'M16 3v5'],
  wifi: ['M2 8.5a15 15 0 0 1 20 0', 'M5.5 12a10 10 0 0 1 13 0', 'M9 15.5a5 5 0 0 1 6 0', 'M12 19v.5'],
  chevron: ['M9 6l6 6-6 6'],
  'chevron-down': ['M6 9l6 6 6-6'],
  play: ['M7 4l13 8-13 8z'],
  stop: ['M6 6h12v12H6z'],
  record: ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z', 'M12 15.5a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7z'],
  download: ['M12 4v11', 'M7 10l5 5 5-5', 'M4 20h16'],
  refresh: ['M20 11a8 8 0 1 0-2.3 5.7', 'M20 4v7h-7'],
  plus: ['M12 5v14', 'M5 12h14'],
  search: ['M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14z', 'M16 16l5 5'],
  tree: ['M4 4h6v5H4z', 'M14 15h6v5h-6z', 'M14 4h6v5h-6z', 'M7 9v8.5h7', 'M10 6.5h4'],
  video: ['M3 6h12a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H3a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1z', 'M16 10l6-3.5v11L16 14'],
  chart: ['M4 20V4', 'M4 20h16', 'M7 15l4-5 3 3 5-7'],
  list: ['M8 6h13', 'M8 12h13', 'M8 18h13', 'M3.5 6h.5', 'M3.5 12h.5', 'M3.5 18h.5'],
  server: ['M4 4h16v6H4z', 'M4 14h16v6H4z', 'M8 7h.5', 'M8 17h.5'],
  broadcast: ['M12 14a2 2 0 1 0 0-4 2 2 0 0 0 0 4z', 'M7.8 16.2a6 6 0 0 1 0-8.4', 'M16.2 7.8a6 6 0 0 1 0 8.4',
    'M5 19a10 10 0 0 1 0-14', 'M19 5a10 10 0 0 1 0 14'],
  pin: ['M9 3h6l-1 6 4 4H6l4-4z', 'M12 13v8'],
  signin: ['M9 4H5v16h4', 'M14 8l4 4-4 4', 'M18 12H8'],
  door: ['M5 21V3h10v18', 'M15 5h4v16', 'M11.5 12h.5'],
  roll: ['M9 5h11', 'M9 12h11', 'M9 19h11', 'M3 5l1.5 1.5L7 4', 'M3 12l1.5 1.5L7 11', 'M3.5 19h3'],
  tour: ['M20 12a8 8 0 1 1-2.3-5.7', 'M20 4v5h-5'],
  lecture: ['M3 4h18v11H3z', 'M12 15v5', 'M8 20h8'],
  mute: ['M4 9h4l5-4v14l-5-4H4z', 'M17 9l5 6', 'M22 9l-5 6'],
  trash: ['M4 7h16', 'M9 7V4h6v3', 'M6 7l1 13h10l1-13'],
  key: ['M8 15a4 4 0 1 0 0-8 4 4 0 0 0 0 8z', 'M12 11h9', 'M18 11v3', 'M21 11v2'],
  link: ['M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1', 'M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1'],
  copy: ['M8 8h12v12H8z', 'M16 8V4H4v12h4'],
  globe: ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z', 'M3 12h18', 'M12 3c3 3.5 3 14.5 0 18', 'M12 3c-3 3.5-3 14.5 0 18'],
  phone: ['M5 4h4l2 5-2.5 1.5a11 11 0 0 0 5 5L15 13l5 2v4a1 1 0 0 1-1 1A16 16 0 0 1 4 5a1 1 0 0 1 1-1z'],
  'phone-off': ['M5 4h4l2 5-2.5 1.5a11 11 0 0 0 5 5L15 13l5 2v4a1 1 0 0 1-1 1A16 16 0 0 1 4 5a1 1 0 0 1 1-1z', 'M3 3l18 18'],
};

export function icon(name, cls = '') {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', `icon ${cls}`.trim());
  svg.setAttribute('aria-hidden', 'true');
  for (const d of ICONS[name] || ICONS.x) {
    const p = document.createElementNS(SVG, 'path');
    p.setAttribute('d', d);
    svg.append(p);
  }
  return svg;
}

// Two letters for an avatar: the first letters of the last two words of a place name
// ("Điểm cầu Phường Mỹ Bình" -> "MB").
export function initials(name) {
  const words = String(name || '?').trim().split(/\s+/).filter(Boolean);
  const last = words.slice(-2);
  return last.map((w) => w[0]).join('').toUpperCase();
}

// A stable hue for a site, so its avatar keeps its colour across screens.
export function hue(id) { return (Number(id) * 137) % 360; }

// Closes a <dialog> when its backdrop is clicked.
export function dismissOnBackdrop(dialog) {
  dialog.addEventListener('click', (e) => { if (e.target === dialog) dialog.close(); });
}
