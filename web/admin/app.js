// The admin panel's shell: sign-in, the sidebar and top bar, the hash router that mounts
// one page at a time (pages/*.js), and the dialogs and toasts every page uses. A page is
// {title, crumbs?, mount(el, params, ctx) -> cleanup}.
import { t, applyI18n, langSwitch, onLang } from '../i18n.js';
import { h, $, icon, replace, dismissOnBackdrop } from '../ui.js';
import { api, get, post, errorText, setUnauthorizedHandler, loadUnits, loadSites, unitName } from './api.js';
import conferences from './pages/conferences.js';
import conferenceForm from './pages/conference_form.js';
import conference from './pages/conference.js';
import sites from './pages/sites.js';
import monitoring from './pages/monitoring.js';
import audit from './pages/audit.js';
import recordings from './pages/recordings.js';
import status from './pages/status.js';

const ROLES = { viewer: 1, operator: 2, admin: 3 };

const ctx = {
  user: null,
  can(role) { return (ROLES[ctx.user?.role] || 0) >= ROLES[role]; },
  toast, confirm: confirmDialog, dialog: formDialog, navigate,
};
window.admin = ctx; // the browser tests read it

// route patterns, first match wins
const ROUTES = [
  [/^\/conferences\/new$/, conferenceForm, () => ({})],
  [/^\/conferences\/(\d+)\/edit$/, conferenceForm, (m) => ({ id: m[1] })],
  [/^\/conferences\/(\d+)$/, conference, (m) => ({ id: m[1] })],
  [/^\/conferences$/, conferences, () => ({})],
  [/^\/sites(?:\/([\w-]+))?$/, sites, (m) => ({ unit: m[1] })],
  [/^\/monitoring(?:\/([\w-]+))?$/, monitoring, (m) => ({ unit: m[1] })],
  [/^\/recordings(?:\?conference=(\d+))?$/, recordings, (m) => ({ conference: m[1] })],
  [/^\/audit$/, audit, () => ({})],
  [/^\/status$/, status, () => ({})],
];

const NAV = [
  ['#/conferences', 'video', 'nav.conferences', 'viewer'],
  ['#/sites', 'tree', 'nav.sites', 'viewer'],
  ['#/monitoring', 'chart', 'nav.monitoring', 'viewer'],
  ['#/recordings', 'record', 'nav.recordings', 'viewer'],
  ['#/audit', 'list', 'nav.audit', 'admin'],
  ['#/status', 'server', 'nav.status', 'viewer'],
];

let cleanup = null;
let current = null;
let routeGen = 0;

function navigate(hash) { if (location.hash === hash) route(); else location.hash = hash; }

async function route() {
  if (!ctx.user) return;
  const path = location.hash.replace(/^#/, '') || '/conferences';
  let found = null;
  for (const [rx, page, params] of ROUTES) { const m = rx.exec(path); if (m) { found = [page, params(m)]; break; } }
  if (!found) { location.hash = '#/conferences'; return; }
  if (cleanup) { try { cleanup(); } catch { /* page already gone */ } }
  cleanup = null;
  const [page, params] = found;
  current = { page, params };
  ctx.crumbs = [];
  ctx.pageTitle = null;
  // A fresh #page for each route: a page still loading when the operator moves on finishes
  // into the old, detached element, and its cleanup runs as soon as it returns.
  const my = ++routeGen;
  const old = $('#page'), el = old.cloneNode(false);
  old.replaceWith(el);
  el.className = `page page-${page.name || 'x'}`;
  renderNav();
  renderCrumbs();
  const done = await page.mount(el, params, ctx) || null;
  if (my !== routeGen) {
    if (done) try { done(); } catch { /* gone */ }
    return;
  }
  cleanup = done;
  renderCrumbs();
}

function renderNav() {
  const hash = location.hash || '#/conferences';
  replace($('#nav'), NAV.filter(([, , , role]) => ctx.can(role)).map(([href, ic, key]) =>
    h('a', { href, class: `nav-item ${hash.startsWith(href) ? 'active' : ''}`, 'data-nav': href.slice(2) }, icon(ic), h('span', {}, t(key)))));
}

// The page title, with its trail; a page may set ctx.crumbs = [[text, href], ...] after mounting.
function renderCrumbs() {
  if (!current) return;
  const { page } = current;
  const trail = ctx.crumbs || [];
  const el = $('#crumbs');
  const title = ctx.pageTitle || t(typeof page.title === 'function' ? page.title(current.params) : page.title);
  replace(el, ...trail.map(([text, href]) => [h('a', { href }, text), h('span', { class: 'sep' }, icon('chevron'))]).flat(),
    h('h1', { id: 'page-title' }, title));
  document.title = `${title} — ${t('admin.brand')}`;
}
ctx.setCrumbs = (trail, title) => { ctx.crumbs = trail; if (title) ctx.pageTitle = title; renderCrumbs(); };

function renderUser() {
  const u = ctx.user;
  $('#side-scope').textContent = u.unit ? unitName(u.unit) : t('admin.scope.national');
  replace($('#side-user'),
    h('div', { class: 'user-card' }, h('div', { class: 'avatar user' }, (u.username[0] || '?').toUpperCase()),
      h('div', { class: 'user-text' }, h('div', { class: 'user-name', title: u.username }, u.username),
        h('div', { class: 'user-role' }, t(`role.${u.role}`)))),
    h('button', { type: 'button', class: 'btn ghost signout', id: 'btn-signout', onclick: signOut }, icon('logout'), t('admin.signout')));
}

async function signOut() {
  await post('/auth/logout');
  showLogin();
}

function showLogin(err) {
  if (cleanup) { try { cleanup(); } catch { /* gone */ } cleanup = null; }
  ctx.user = null;
  document.body.dataset.auth = 'out';
  $('#login-error').hidden = !err;
  if (err) $('#login-error').textContent = err;
  setTimeout(() => $('#login-user').focus(), 0);
}

async function signedIn(user) {
  ctx.user = user;
  await Promise.all([loadUnits(true), loadSites(true)]);
  document.body.dataset.auth = 'in';
  renderUser();
  pollAlarms();
  route();
}

// The alarm counter in the top bar, from the monitoring API (quiet when it is absent).
async function pollAlarms() {
  if (!ctx.user) return;
  const r = await get('/monitoring/alarms');
  const pill = $('#alarm-pill');
  const n = r.ok && Array.isArray(r.json?.alarms) ? r.json.alarms.length : 0;
  pill.hidden = n === 0;
  if (n) replace(pill, icon('alert'), t('admin.alarms', { n }));
  clearTimeout(pollAlarms.timer);
  pollAlarms.timer = setTimeout(pollAlarms, 60000);
}

// ---- dialogs and toasts

export function toast(text, kind = '') {
  const el = h('div', { class: `toast ${kind}` }, text);
  $('#toasts').append(el);
  setTimeout(() => el.remove(), 5000);
}

function frame(titleText, body, foot) {
  const dlg = $('#dialog');
  replace(dlg, h('div', { class: 'dlg-head' }, h('h2', {}, titleText),
    h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('common.close'), onclick: () => dlg.close() }, icon('x'))),
  h('div', { class: 'dlg-body' }, body), h('div', { class: 'dlg-foot' }, foot));
  if (!dlg.open) dlg.showModal();
  return dlg;
}

// Asks yes or no; resolves true on yes.
function confirmDialog(titleText, text, okText, danger = true) {
  return new Promise((resolve) => {
    const dlg = frame(titleText, h('p', {}, text), [
      h('button', { type: 'button', class: 'btn', onclick: () => dlg.close() }, t('common.cancel')),
      h('button', { type: 'button', class: `btn ${danger ? 'danger' : 'primary'}`, id: 'dlg-ok', onclick: () => { dlg.close('ok'); } }, okText)]);
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), { once: true });
    dlg.returnValue = '';
  });
}

// A dialog with custom content. submit(close) runs on the primary button; it may return an
// error text to keep the dialog open. Returns the dialog.
function formDialog(titleText, body, { okText, submit, cancelText, wide } = {}) {
  const err = h('div', { class: 'form-error', hidden: true });
  const buttons = [];
  if (cancelText !== false) buttons.push(h('button', { type: 'button', class: 'btn', onclick: () => dlg.close() }, cancelText || t('common.cancel')));
  if (submit) {
    const ok = h('button', { type: 'button', class: 'btn primary', id: 'dlg-ok', onclick: async () => {
      ok.disabled = true;
      const e = await submit(() => dlg.close());
      ok.disabled = false;
      err.hidden = !e;
      if (e) err.textContent = e;
    } }, okText || t('common.save'));
    buttons.push(ok);
  }
  const dlg = frame(titleText, [body, err], buttons);
  dlg.classList.toggle('wide', !!wide);
  return dlg;
}

// ---- start

async function init() {
  applyI18n();
  langSwitch($('#lang'));
  langSwitch($('#login-lang'));
  dismissOnBackdrop($('#dialog'));
  onLang(() => { if (ctx.user) { renderUser(); route(); pollAlarms(); } });
  setUnauthorizedHandler(() => { if (ctx.user) showLogin(t('admin.login.expired')); });
  $('#login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const b = $('#login-submit');
    b.disabled = true;
    const r = await api('POST', '/auth/login', { username: $('#login-user').value.trim(), password: $('#login-pass').value });
    b.disabled = false;
    if (!r.ok) { showLogin(errorText(r.error)); return; }
    $('#login-pass').value = '';
    signedIn(r.json.user);
  });
  window.addEventListener('hashchange', route);
  const me = await get('/auth/me');
  if (me.ok) signedIn(me.json.user);
  else showLogin();
}

init();
