// Helpers for the rooms tests: the admin API as a client sees it, and synthetic meeting rooms
// that speak the endpoint protocol (sign in, wait idle, join when invited, rejoin after a
// drop with backoff) without media: their join carries a recorded Chromium audio offer.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import WebSocket from 'ws';
import { MCU_BIN, ROOT, sleep, startServer } from './lib.mjs';

export const OFFER = readFileSync(path.join(ROOT, 'tests/data/sdp/chromium_audio.sdp'), 'utf8');

export class Api {
  constructor(base) { this.base = base; this.token = null; }
  async call(method, p, body, token = this.token) {
    const headers = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const r = await fetch(`${this.base}/api/v1${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* CSV or empty */ }
    return { status: r.status, json, text, headers: r.headers };
  }
  async login(username, password) {
    const r = await this.call('POST', '/auth/login', { username, password }, null);
    if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${r.text}`);
    this.token = r.json.token;
    return r.json;
  }
  get(p) { return this.call('GET', p); }
  post(p, body = {}) { return this.call('POST', p, body); }
  patch(p, body) { return this.call('PATCH', p, body); }
  del(p) { return this.call('DELETE', p); }
}

// One meeting room. Records every message; joins its conference when invited.
export class Site {
  constructor(url, cred, { autoJoin = true, reconnect = true } = {}) {
    Object.assign(this, { url, cred, autoJoin, reconnect });
    this.id = cred.site;
    this.events = [];
    this.status = 'offline';   // offline, idle, joining, joined
    this.conference = null;
    this.joins = 0;
    this.signins = 0;
    this.backoff = 500;
    this.closed = false;
    this.waiters = [];
  }
  connect() {
    if (this.closed) return;
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.on('open', () => ws.send(JSON.stringify({ type: 'signin', site: this.id, secret: this.cred.secret, id: 's' })));
    ws.on('message', (d) => this.onMessage(JSON.parse(d.toString())));
    ws.on('error', () => {});
    ws.on('close', () => {
      this.status = 'offline';
      this.conference = null;
      if (this.ws === ws && this.reconnect && !this.closed) { // back off 0.5 s doubling to 8 s, +-25 %
        const delay = this.backoff * (0.75 + Math.random() * 0.5);
        this.backoff = Math.min(this.backoff * 2, 8000);
        setTimeout(() => this.connect(), delay);
      }
    });
  }
  send(msg) { if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg)); }
  join(conference) {
    this.status = 'joining';
    this.send({ type: 'join', conference, sdp: OFFER, id: 'j' });
  }
  onMessage(m) {
    this.events.push(m);
    if (m.type === 'signedin') { this.status = 'idle'; this.signins++; this.backoff = 500; }
    if (m.type === 'invite' && this.autoJoin && this.status === 'idle') { this.conference = m.conference.id; this.join(m.conference.id); }
    if (m.type === 'answer') { this.status = 'joined'; this.joins++; }
    if (m.type === 'ended' || m.type === 'removed') { this.status = 'idle'; this.conference = null; }
    if (m.type === 'closed') this.status = 'idle';
    if (m.type === 'closed' && this.conference) { // media dropped: rejoin after a pause
      const conf = this.conference;
      setTimeout(() => { if (this.status === 'idle') this.join(conf); }, 500);
    }
    if (m.type === 'error' && m.id === 'j') this.status = 'idle';
    for (const w of this.waiters.splice(0)) w();
  }
  // The last message of a type (and matching pred), waiting up to ms for one to come.
  async waitFor(type, pred = () => true, ms = 10000) {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = this.events.findLast((e) => e.type === type && pred(e));
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`site ${this.id}: no '${type}' message in ${ms} ms`);
      await new Promise((r) => { this.waiters.push(r); setTimeout(r, 100); });
    }
  }
  // Asks and returns the reply with this id ('ok' or 'error').
  async ask(msg) {
    const id = `q${Math.random()}`;
    this.send({ ...msg, id });
    return until(() => this.events.find((e) => e.id === id), 5000, `reply to ${msg.type}`);
  }
  drop() { this.ws?.terminate(); }   // an abrupt network drop: it reconnects by itself
  close() { this.closed = true; this.ws?.close(); }
}

export async function until(fn, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out: ${typeof what === "function" ? what() : what}`);
    await sleep(100);
  }
}

export const PASSWORD = 'Quang-Truong-2026';
export const UNITS = path.join(ROOT, '..', 'shared', 'data', 'vn-admin-units-2025-03.json');

// A database with An Giang imported by the command line, as an operator would.
export function importedDir() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcu-rooms-'));
  const out = execFileSync(MCU_BIN, ['import-units', '--db', path.join(dir, 'mcu.db'), '--units-file', UNITS, '89'],
    { encoding: 'utf8' });
  return { dir, out };
}

export async function roomsServer({ args = [], ...opts } = {}) {
  const { dir, out } = importedDir();
  const srv = await startServer({ dir, env: { MCU_ADMIN_PASSWORD: PASSWORD },
    args: ['--units-file', UNITS, '--test-conferences', 'false', '--consent-timeout-ms', '600000', ...args], ...opts });
  srv.importOut = out;
  srv.api = new Api(srv.base);
  await srv.api.login('admin', PASSWORD);
  return srv;
}


const LOAD_BIN = process.env.MCU_LOAD_BIN || path.join(ROOT, 'build/mcu-load');

// mcu-load playing the rooms of a credentials file (room mode, talkers with their signature
// tones, VP8 video), with --status-lines; resolves once all n have signed in. st.status is
// its latest status line, st.err its stderr.
export async function loadRooms(srv, credFile, talkers, n, seconds = 120) {
  const load = spawn(LOAD_BIN, ['--url', `ws://127.0.0.1:${srv.port}/ws`, '--credentials', credFile,
    '--talker-sites', talkers.join(','), '--video', '--status-lines', '--seconds', String(seconds), '--quiet'],
  { stdio: ['pipe', 'pipe', 'pipe'] });
  const st = { status: null, err: '' };
  load.stderr.on('data', (d) => { st.err += d; });
  readline.createInterface({ input: load.stdout }).on('line', (l) => {
    try { const m = JSON.parse(l); if (!m.event) st.status = m; } catch { /* not a status line */ }
  });
  await until(() => st.status?.signed_in === n, 20000, () => `mcu-load signed in: ${st.err.slice(-800)}`);
  return { load, st };
}
