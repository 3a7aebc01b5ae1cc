// Helpers for the role × scope matrix (rooms_scope.test.mjs): an API client that opens a
// new connection for every request, the admin events socket's `watch` as a request, and
// snapshots of what a refused request must leave unchanged.
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { Api } from './rooms_lib.mjs';

// The server allows 50 requests a second on one connection (burst 200); the matrix sends
// more than that, so each request gets its own connection.
export class ScopeApi extends Api {
  async call(method, p, body, token = this.token) {
    const headers = { 'content-type': 'application/json', connection: 'close' };
    if (token) headers.authorization = `Bearer ${token}`;
    const r = await fetch(`${this.base}/api/v1${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* CSV, a file or empty */ }
    return { status: r.status, json, text, headers: r.headers };
  }
}

// `watch` on the admin events socket, answered like an HTTP call: 200 with the `watching`
// message, or the error's code as {error: {code}} with 403 for `forbidden`.
export async function watch(srv, token, conference) {
  const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/api/v1/events?token=${token}`);
  try {
    const m = await new Promise((resolve, reject) => {
      ws.once('error', reject);
      ws.once('open', () => ws.send(JSON.stringify({ type: 'watch', conference: String(conference), id: 1 })));
      ws.once('message', (d) => resolve(JSON.parse(d.toString())));
    });
    const status = m.type === 'watching' ? 200 : m.code === 'forbidden' ? 403 : 400;
    return { status, json: m.type === 'error' ? { error: { code: m.code } } : m, text: JSON.stringify(m) };
  } finally {
    ws.close();
  }
}

// Everything a request could change, as the national admin sees it: the lists of
// conferences, sites, users and recordings, the object at objPath (or null), and the id of
// the newest audit entry.
export async function snapshot(api, objPath) {
  const get = async (p) => {
    const r = await api.get(p);
    assert.equal(r.status, 200, `snapshot ${p}: ${r.text}`);
    return r.json;
  };
  const [conferences, sites, users, recordings, audit, obj] = await Promise.all([
    get('/conferences'), get('/sites'), get('/users'), get('/recordings'), get('/audit?limit=5'),
    objPath ? get(objPath) : null]);
  return { state: { conferences, sites, users, recordings, obj }, auditTop: audit.entries[0]?.id ?? 0, audit: audit.entries };
}

// A refusal changed nothing, and was audited once: one new entry, by actor, `forbidden`.
export function assertUnchanged(before, after, actor, label) {
  assert.deepEqual(after.state, before.state, `${label}: a refused request changed something`);
  const added = after.audit.filter((e) => e.id > before.auditTop);
  assert.equal(added.length, 1, `${label}: one audit entry per refusal: ${JSON.stringify(added)}`);
  assert.equal(added[0].actor, actor, `${label}: audit actor`);
  assert.equal(added[0].result, 'forbidden', `${label}: audit result`);
}
