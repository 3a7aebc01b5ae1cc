// The admin API as the panel uses it: JSON over fetch with the sign-in cookie, errors turned
// into translated text, and the events socket (/api/v1/events) that follows one conference
// and reconnects by itself.
import { t, has } from '../i18n.js';

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

// Resolves {status, ok, json, text, error: {code, message}|null}. Never throws: a network
// failure is status 0 with code 'network'.
export async function api(method, path, body) {
  const opts = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) { opts.headers['content-type'] = 'application/json'; opts.body = JSON.stringify(body); }
  let r;
  try { r = await fetch(`/api/v1${path}`, opts); } catch { return { status: 0, ok: false, json: null, error: { code: 'network' } }; }
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* CSV or empty */ }
  const error = r.ok ? null : (json && json.error) || { code: `http_${r.status}` };
  if (r.status === 401 && path !== '/auth/login') onUnauthorized();
  return { status: r.status, ok: r.ok, json, text, error };
}
export const get = (p) => api('GET', p);
export const post = (p, b = {}) => api('POST', p, b);
export const patch = (p, b) => api('PATCH', p, b);
export const del = (p) => api('DELETE', p);

// A person-readable sentence for an API error: the translation of its code when there is
// one, else the server's English message.
export function errorText(err) {
  if (!err) return '';
  if (err.code === 'rate_limited') {
    const s = /(\d+)\s*s/.exec(err.message || '');
    return t('err.rate_limited', { s: s ? s[1] : '60' });
  }
  if (has(`err.${err.code}`)) return t(`err.${err.code}`);
  return err.message || err.code;
}

// The events socket. watch(conf) follows a conference; `onmessage(msg)` gets every event,
// `onstate(open)` the socket's state. It reconnects (0.5 s doubling to 8 s) and watches again.
export class Events {
  constructor(onmessage, onstate = () => {}) {
    this.onmessage = onmessage;
    this.onstate = onstate;
    this.conf = null;
    this.backoff = 500;
    this.closed = false;
    this.open();
  }
  open() {
    if (this.closed) return;
    const ws = this.ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/events`);
    ws.onopen = () => { this.backoff = 500; this.onstate(true); if (this.conf) this.send({ type: 'watch', conference: String(this.conf), id: 'w' }); };
    ws.onmessage = (e) => { let m; try { m = JSON.parse(e.data); } catch { return; } this.onmessage(m); };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.onstate(false);
      if (this.closed) return;
      const d = this.backoff * (0.75 + Math.random() * 0.5);
      this.backoff = Math.min(this.backoff * 2, 8000);
      this.timer = setTimeout(() => this.open(), d);
    };
  }
  send(m) { if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(m)); }
  watch(conf) { this.conf = conf; this.send({ type: 'watch', conference: String(conf), id: 'w' }); }
  close() { this.closed = true; clearTimeout(this.timer); this.ws?.close(); }
}

// ---- cached reference data: the units and sites of the account's scope

let unitsP = null, sitesP = null;
export const ref = {
  units: new Map(),      // code -> unit
  children: new Map(),   // code -> [codes]
  roots: [],             // the top units of the scope
  sites: new Map(),      // id -> site
};

export function loadUnits(force = false) {
  if (!unitsP || force) {
    unitsP = get('/units').then((r) => {
      const list = r.ok ? r.json.units : [];
      ref.units = new Map(list.map((u) => [u.id, u]));
      ref.children = new Map();
      ref.roots = [];
      for (const u of list) {
        if (u.parent && ref.units.has(u.parent)) {
          if (!ref.children.has(u.parent)) ref.children.set(u.parent, []);
          ref.children.get(u.parent).push(u.id);
        } else ref.roots.push(u.id);
      }
      const byName = (a, b) => ref.units.get(a).name.localeCompare(ref.units.get(b).name, 'vi');
      for (const arr of ref.children.values()) arr.sort((a, b) => ref.units.get(a).level - ref.units.get(b).level || byName(a, b));
      return ref.units;
    });
  }
  return unitsP;
}

export function loadSites(force = false) {
  if (!sitesP || force) {
    sitesP = get('/sites').then((r) => {
      ref.sites = new Map((r.ok ? r.json.sites : []).map((s) => [s.id, s]));
      return ref.sites;
    });
  }
  return sitesP;
}

export const unitName = (code) => ref.units.get(code)?.name || code;

// The unit and every unit below it.
export function subtree(code) {
  const out = [];
  const walk = (c) => { out.push(c); for (const k of ref.children.get(c) || []) walk(k); };
  walk(code);
  return out;
}

// Its path from the scope's root: [root, ..., code].
export function unitPath(code) {
  const out = [];
  for (let u = ref.units.get(code); u; u = ref.units.get(u.parent)) out.unshift(u.id);
  return out;
}
