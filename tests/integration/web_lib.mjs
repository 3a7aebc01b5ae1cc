// Helpers for the web front-end tests: a server with An Giang imported and a site for every
// unit, browser pages for a meeting room and for the admin panel, screenshots into
// build/screenshots/, and two checks that read the page as a person would: what text is
// visible (for the language test) and what is cut off or overlapping (for the screenshots).
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, stopServer, sanitizerReport } from './lib.mjs';
import { roomsServer, PASSWORD } from './rooms_lib.mjs';
import { STRINGS } from '../../web/i18n.js';

export const SHOTS = process.env.MCU_SCREENSHOTS || path.join(ROOT, 'build', 'screenshots');
export { PASSWORD };

// A server with An Giang (89): 167 units, one site each. Returns srv with creds by unit code.
// The end of a browser test file: the browser, the sound file and the server go; the
// server must exit cleanly with no sanitizer report, and the pages must have raised no error.
export async function closeWebTest({ browser, wav, srv, errors }) {
  await browser?.cleanup();
  if (wav) rmSync(wav, { force: true });
  if (!srv) return;
  const res = await stopServer(srv);
  assert.equal(sanitizerReport(srv.stderr), null);
  assert.equal(res.code, 0);
  assert.deepEqual(errors, []);
}

export async function provinceServer(opts = {}) {
  const srv = await roomsServer(opts);
  const prov = await srv.api.post('/sites/provision', { unit: '89', subtree: true });
  if (prov.status !== 201) throw new Error(`provision: ${prov.status} ${prov.text}`);
  srv.creds = prov.json.sites;
  srv.byUnit = Object.fromEntries(srv.creds.map((c) => [c.unit, c]));
  return srv;
}

// A 48 kHz mono WAV that sounds like someone speaking to a microphone: bursts of a voiced
// tone at changing loudness with short pauses, so level meters move as they do for speech.
export function speechWav(file, seconds = 12) {
  const rate = 48000, n = rate * seconds, data = Buffer.alloc(n * 2);
  let amp = 0, target = 0, next = 0, seed = 7;
  const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
  for (let i = 0; i < n; i++) {
    if (i >= next) { // a new syllable or pause every 120..420 ms
      target = rnd() < 0.25 ? 0 : 2000 + rnd() * 14000;
      next = i + Math.round(rate * (0.12 + rnd() * 0.3));
    }
    amp += (target - amp) * 0.002;
    const ph = 2 * Math.PI * i / rate;
    const v = amp * (0.6 * Math.sin(ph * 180) + 0.3 * Math.sin(ph * 360) + 0.1 * Math.sin(ph * 720));
    data.writeInt16LE(Math.max(-32767, Math.min(32767, Math.round(v))), i * 2);
  }
  const hd = Buffer.alloc(44);
  hd.write('RIFF', 0); hd.writeUInt32LE(36 + data.length, 4); hd.write('WAVE', 8); hd.write('fmt ', 12);
  hd.writeUInt32LE(16, 16); hd.writeUInt16LE(1, 20); hd.writeUInt16LE(1, 22); hd.writeUInt32LE(rate, 24);
  hd.writeUInt32LE(rate * 2, 28); hd.writeUInt16LE(2, 32); hd.writeUInt16LE(16, 34); hd.write('data', 36); hd.writeUInt32LE(data.length, 40);
  writeFileSync(file, Buffer.concat([hd, data]));
  return file;
}

export function provisioningLink(srv, cred) {
  return `${srv.base}/room/#site=${cred.site}&secret=${encodeURIComponent(cred.secret)}`;
}

// Signs in on the panel's sign-in page; resolves once the shell shows.
export async function adminLogin(page, srv, username = 'admin', password = PASSWORD) {
  await page.goto(`${srv.base}/admin/`);
  await page.waitForSelector('body[data-auth="in"], body[data-auth="out"] #login-form');
  if (await page.evaluate(() => document.body.dataset.auth === 'in')) return; // the browser is signed in already
  await page.fill('#login-user', username);
  await page.fill('#login-pass', password);
  await page.click('#login-submit');
  await page.waitForSelector('body[data-auth="in"]');
}

export async function shot(page, name, { width = 1280, height = 720 } = {}) {
  mkdirSync(SHOTS, { recursive: true });
  const vp = page.viewportSize();
  if (!vp || vp.width !== width || vp.height !== height) await page.setViewportSize({ width, height });
  await page.waitForTimeout(350); // let transitions and meters settle
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

// Visible text of the page: each visible text node's trimmed text, and the placeholders,
// titles and aria-labels of visible elements. Data (site and unit names, conference titles)
// is in it too: the language test compares against the translation table, not a dictionary.
export async function visibleTexts(page) {
  return page.evaluate(pageTexts);
}

// In the page: see visibleTexts. Standalone so other drivers (firefox.mjs) can run it too.
export function pageTexts() {
  {
    const out = [];
    const docLang = document.documentElement.lang;
    const visible = (el) => {
      if (!el || !el.isConnected) return false;
      // Text marked as another language on purpose (a language's own name in the switch).
      const l = el.closest('[lang]');
      if (l && l !== document.documentElement && l.lang !== docLang) return false;
      if (el.closest('[hidden], template, script, style')) return false;
      if (typeof el.checkVisibility === 'function' && !el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) return false;
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0;
    };
    const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const s = n.textContent.replace(/\s+/g, ' ').trim();
      if (s && visible(n.parentElement)) out.push(s);
    }
    for (const el of document.querySelectorAll('[placeholder], [title], [aria-label]')) {
      if (!visible(el)) continue;
      for (const a of ['placeholder', 'title', 'aria-label']) if (el.getAttribute(a)) out.push(el.getAttribute(a).trim());
    }
    for (const o of document.querySelectorAll('select')) if (visible(o) && o.selectedOptions[0]) out.push(o.selectedOptions[0].textContent.trim());
    out.push(document.title);
    return out;
  }
}

// The strings of `lang` that the other language translates differently, as patterns that
// match a visible text made from them ({name} parameters match anything).
export function foreignPatterns(strings, foreign, other) {
  const pats = [];
  for (const [k, v] of Object.entries(strings[foreign])) {
    if (v === strings[other][k] || v.replace(/\{\w+\}/g, '').trim().length < 3) continue;
    const rx = v.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{\w+\\?\}/g, '.*');
    pats.push({ key: k, text: v, rx: new RegExp(`^${rx}$`) });
  }
  return pats;
}

export function foreignLeft(texts, pats) {
  const left = [];
  for (const s of texts) for (const p of pats) if (p.rx.test(s)) left.push(`${p.key}: "${s}"`);
  return left;
}

// Elements whose text is cut off without an ellipsis, or that stick out of the window, or
// text blocks that overlap one another. Returns descriptions (empty when the page is clean).
export async function layoutProblems(page) {
  return page.evaluate(pageLayoutProblems);
}

// In the page: see layoutProblems.
export function pageLayoutProblems() {
  {
    const probs = [];
    const W = document.documentElement.clientWidth, H = document.documentElement.clientHeight;
    const vis = (el) => {
      if (el.closest('[hidden]')) return false;
      if (typeof el.checkVisibility === 'function' && !el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) return false;
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0;
    };
    const name = (el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.trim().split(/\s+/).join('.')}` : ''}`;
    // The part of an element that can be seen through its clipping ancestors; `cut` when a
    // clipping ancestor hides some of it sideways (a table wider than its card).
    const clipped = (el) => {
      const r = el.getBoundingClientRect();
      let L = r.left, R = r.right, T = r.top, B = r.bottom, cut = false;
      for (let a = el.parentElement; a && a !== document.documentElement; a = a.parentElement) {
        const cs = getComputedStyle(a);
        if (cs.overflowX === 'visible' && cs.overflowY === 'visible') continue;
        const ar = a.getBoundingClientRect();
        if (cs.overflowX !== 'visible') {
          if ((r.right > ar.right + 1 || r.left < ar.left - 1) && cs.textOverflow !== 'ellipsis') cut = true;
          L = Math.max(L, ar.left); R = Math.min(R, ar.right);
        }
        if (cs.overflowY !== 'visible') { T = Math.max(T, ar.top); B = Math.min(B, ar.bottom); }
      }
      return { left: L, right: R, top: T, bottom: B, cut, empty: R - L < 1 || B - T < 1 };
    };
    const leaves = [];
    // Behind an open modal dialog the page is inert: only the dialog counts.
    const root = document.querySelector('dialog[open]') || document.body;
    for (const el of root.querySelectorAll('*')) {
      if (!vis(el) || ['SCRIPT', 'STYLE', 'svg', 'path', 'OPTION'].includes(el.tagName)) continue;
      const ownText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
      if (!ownText) continue;
      const cs = getComputedStyle(el);
      const r = el.getBoundingClientRect();
      const c = clipped(el);
      // Sticks out of the window sideways (vertical overflow is a scroll, and fine).
      if (r.right > W + 1 || r.left < -1) probs.push(`${name(el)} "${el.textContent.trim().slice(0, 40)}" leaves the window`);
      else if (c.cut && !c.empty) probs.push(`${name(el)} "${el.textContent.trim().slice(0, 40)}" is hidden sideways by a scrolling box`);
      // Cut off: the text is wider than its box, the box hides it, and no ellipsis says so.
      if (el.scrollWidth > el.clientWidth + 1 && cs.overflowX !== 'visible' && cs.textOverflow !== 'ellipsis' &&
          !['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName) && cs.overflowX !== 'auto' && cs.overflowX !== 'scroll')
        probs.push(`${name(el)} "${el.textContent.trim().slice(0, 40)}" is cut off`);
      // Text that runs out of its own box into whatever is next to it.
      if (cs.display !== 'inline' && cs.overflowX === 'visible' && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1)
        probs.push(`${name(el)} "${el.textContent.trim().slice(0, 40)}" runs out of its box`);
      if (!cs.webkitLineClamp || cs.webkitLineClamp === 'none') {
        if (el.scrollHeight > el.clientHeight + 2 && cs.overflowY === 'hidden' && cs.textOverflow !== 'ellipsis' && el.clientHeight > 0)
          probs.push(`${name(el)} "${el.textContent.trim().slice(0, 40)}" is cut off at the bottom`);
      }
      if (!c.empty) leaves.push({ el, r: c });
    }
    // Text boxes overlapping each other (by more than a few pixels), unless one contains
    // the other or they sit on different layers on purpose (an overlay on a video tile).
    for (let i = 0; i < leaves.length; i++) {
      for (let j = i + 1; j < leaves.length; j++) {
        const a = leaves[i], b = leaves[j];
        if (a.el.contains(b.el) || b.el.contains(a.el)) continue;
        const x = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
        const y = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
        if (x > 4 && y > 4) {
          if (a.el.closest('.overlay-ok') || b.el.closest('.overlay-ok')) continue;
          probs.push(`"${a.el.textContent.trim().slice(0, 30)}" (${name(a.el)}) overlaps "${b.el.textContent.trim().slice(0, 30)}" (${name(b.el)})`);
        }
      }
    }
    return [...new Set(probs)].slice(0, 25);
  }
}

// Fails the test when the page has overlapping, cut-off or placeholder content.
export async function assertCleanLayout(page, name) {
  const probs = await layoutProblems(page);
  assert.deepEqual(probs, [], `${name}: ${probs.join('; ')}`);
}

// Opens an admin panel route and waits for what shows it is drawn.
export async function goAdmin(page, srv, route, ready) {
  await page.goto(`${srv.base}/admin/#${route}`);
  await page.waitForSelector(ready, { timeout: 15000 });
}

// "Điểm cầu {id}" would match every site's name, which is data.
const SKIP_KEYS = new Set(['room.site.n']);
const LANG_PATTERNS = {
  vi: foreignPatterns(STRINGS, 'vi', 'en').filter((p) => !SKIP_KEYS.has(p.key)),
  en: foreignPatterns(STRINGS, 'en', 'vi').filter((p) => !SKIP_KEYS.has(p.key)),
};

// Switches the page to English and back: no string of the other language may be left
// visible either way. Saves the English screenshot as en-<name>.
export async function switchLanguageAndCheck(page, name) {
  for (const [to, from] of [['en', 'vi'], ['vi', 'en']]) {
    await page.locator(`.lang-switch [data-lang="${to}"]:visible`).first().click();
    await page.waitForFunction((l) => document.documentElement.lang === l, to);
    await page.waitForTimeout(900);
    const left = foreignLeft(await visibleTexts(page), LANG_PATTERNS[from]);
    assert.deepEqual(left, [], `${name} in ${to}: ${left.join('; ')}`);
    if (to === 'en') await shot(page, `en-${name}`);
  }
}
