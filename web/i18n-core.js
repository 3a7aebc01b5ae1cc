// Language machinery for both apps: the current language (Vietnamese by default, the choice
// kept in localStorage), lookup with {name} parameters, and formatting of times and numbers.
// Pages mark static text with data-i18n (text), data-i18n-ph (placeholder), data-i18n-title
// and data-i18n-aria (aria-label); applyI18n() fills them. The strings live in i18n.js.

const KEY = 'mcu.lang';
export const LANGS = ['vi', 'en'];
const LOCALE = { vi: 'vi-VN', en: 'en-GB' };
let table = { vi: {}, en: {} };
let current = 'vi';
try { if (LANGS.includes(localStorage.getItem(KEY))) current = localStorage.getItem(KEY); } catch { /* storage off */ }

export function setTable(t) { table = t; }
export function lang() { return current; }
export function locale() { return LOCALE[current]; }

// t('room.joined', {n: 3}): the string in the current language. With a numeric `n` equal
// to 1, a 'key.one' variant wins when it exists (English singulars).
export function t(key, params) {
  const tab = table[current];
  let s = params && params.n === 1 && tab[`${key}.one`] !== undefined ? tab[`${key}.one`] : tab[key];
  if (s === undefined) {
    console.warn(`i18n: no '${key}' in ${current}`);
    s = key;
  }
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (params[k] === undefined ? m : String(params[k])));
  return s;
}

export function has(key) { return table[current][key] !== undefined; }

export function applyI18n(root = document) {
  document.documentElement.lang = current;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-ph]')) el.placeholder = t(el.dataset.i18nPh);
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll('[data-i18n-aria]')) el.setAttribute('aria-label', t(el.dataset.i18nAria));
  if (document.body?.dataset.i18nDoctitle) document.title = t(document.body.dataset.i18nDoctitle);
}

export function setLang(l) {
  if (!LANGS.includes(l) || l === current) return;
  current = l;
  try { localStorage.setItem(KEY, l); } catch { /* storage off */ }
  applyI18n();
  window.dispatchEvent(new CustomEvent('langchange', { detail: l }));
}

export function onLang(fn) { window.addEventListener('langchange', fn); }

// A VI | EN switch inside `el` (a container element).
export function langSwitch(el) {
  el.classList.add('lang-switch');
  el.setAttribute('role', 'group');
  el.setAttribute('data-i18n-aria', 'lang.choose');
  const render = () => {
    el.textContent = '';
    for (const l of LANGS) {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = l.toUpperCase();
      b.lang = l;
      b.title = table[l]['lang.name'] || l;
      b.dataset.lang = l;
      b.setAttribute('aria-pressed', String(l === current));
      b.addEventListener('click', () => setLang(l));
      el.append(b);
    }
    el.setAttribute('aria-label', t('lang.choose'));
  };
  render();
  onLang(render);
}

const fmtCache = new Map();
function fmt(kind, opts) {
  const k = `${current}|${kind}`;
  if (!fmtCache.has(k)) fmtCache.set(k, kind.startsWith('n:') ? new Intl.NumberFormat(locale(), opts)
    : new Intl.DateTimeFormat(locale(), opts));
  return fmtCache.get(k);
}

export const fmtTime = (ms) => (ms ? fmt('time', { hour: '2-digit', minute: '2-digit' }).format(ms) : '');
export const fmtTimeSec = (ms) => (ms ? fmt('times', { hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(ms) : '');
export const fmtDate = (ms) => (ms ? fmt('date', { day: '2-digit', month: '2-digit', year: 'numeric' }).format(ms) : '');
export const fmtDateTime = (ms) => (ms ? `${fmtTime(ms)} ${fmtDate(ms)}` : '');
export const fmtLongDate = (ms) => fmt('ldate', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }).format(ms);
export const fmtNum = (n, digits = 0) => fmt(`n:${digits}`, { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(n);
export const fmtPct = (x, digits = 0) => `${fmtNum(x * 100, digits)} %`;

// 3725 s -> "1 giờ 2 phút" / "1 h 2 min"; under a minute, seconds.
export function fmtDuration(s) {
  s = Math.max(0, Math.round(s));
  const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60);
  if (hh) return t('dur.hm', { h: hh, m: mm });
  if (mm) return t('dur.m', { m: mm });
  return t('dur.s', { s });
}

// "in 5 minutes" / "3 hours ago", coarse, for schedules and last-seen times.
export function fmtRelative(ms, now = Date.now()) {
  const d = Math.round((ms - now) / 60000);
  const a = Math.abs(d);
  let key, n;
  if (a < 1) return t('rel.now');
  if (a < 60) { key = 'min'; n = a; } else if (a < 48 * 60) { key = 'hour'; n = Math.round(a / 60); } else { key = 'day'; n = Math.round(a / 1440); }
  return t(d > 0 ? `rel.in.${key}` : `rel.ago.${key}`, { n });
}
