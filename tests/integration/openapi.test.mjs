// docs/openapi.yaml against the code: the operations it lists are exactly those of the route
// table in signaling/api.c, with the same least role, and each one answers on a real server
// (401 without credentials, never 404/405), so the document cannot drift from the API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { ROOT, startServer, stopServer, sanitizerReport, getJson } from './lib.mjs';

const METHODS = ['get', 'put', 'post', 'patch', 'delete', 'head', 'options'];

// Just enough YAML for the layout of docs/openapi.yaml: the first server url, then under the
// top-level `paths:` each path (indent 2), its methods (indent 4), and in each method its
// x-min-role and response codes (indent 6 and 8).
function parseOpenApi(text) {
  const doc = { base: null, ops: [] };
  let section = null;
  let pathKey = null;
  let op = null;
  let inResponses = false;
  for (const line of text.split('\n')) {
    if (/^\s*(#.*)?$/.test(line)) continue;
    let m;
    if ((m = line.match(/^(\S[^:]*):/))) {
      section = m[1];
      pathKey = null;
      op = null;
      continue;
    }
    if (section === 'servers' && !doc.base && (m = line.match(/^\s*-\s*url:\s*['"]?([^'"\s]+)/))) {
      doc.base = m[1];
      continue;
    }
    if (section !== 'paths') continue;
    if ((m = line.match(/^ {2}(\S.*?):\s*$/))) {
      pathKey = m[1].replace(/^['"]|['"]$/g, '');
      op = null;
      continue;
    }
    if ((m = line.match(/^ {4}(\S+):/))) {
      op = null;
      if (METHODS.includes(m[1])) {
        op = { path: pathKey, method: m[1].toUpperCase(), role: null, responses: [] };
        doc.ops.push(op);
      }
      continue;
    }
    if (!op) continue;
    if ((m = line.match(/^ {6}(\S+):\s*(.*)$/))) {
      inResponses = m[1] === 'responses';
      if (m[1] === 'x-min-role') op.role = m[2].trim();
      continue;
    }
    if (inResponses && (m = line.match(/^ {8}['"]?(\d{3})['"]?:/))) op.responses.push(Number(m[1]));
  }
  return doc;
}

// The route table of signaling/api.c, read as text: {"METHOD", "pattern", ROLE_X, handler}.
function parseRouteTable(src) {
  const table = src.match(/static const struct route routes\[\] = \{\n([\s\S]*?)\n\};/);
  assert.ok(table, 'signaling/api.c has a `static const struct route routes[]` table');
  const entries = table[1].split('\n').filter((l) => l.trim().startsWith('{'));
  const routes = [];
  for (const e of entries) {
    const m = e.match(/^\s*\{\s*"([A-Z]+)"\s*,\s*"([^"]+)"\s*,\s*ROLE_([A-Z]+)\s*,\s*\w+\s*\},?\s*$/);
    assert.ok(m, `a route entry this test cannot read (keep one entry a line): ${e.trim()}`);
    routes.push({ method: m[1], path: `/${m[2]}`, role: m[3].toLowerCase() });
  }
  return routes;
}

// "/conferences/{id}/start" and "/conferences/*/start" both become "/conferences/{}/start".
const shape = (p) => p.replace(/\{[^}]*\}|\*/g, '{}');
const key = (o) => `${o.method} ${shape(o.path)}`;

// A concrete URL path for a documented one: units are named by code, everything else by id.
const concrete = (p) => p.replace(/\{[^}]*\}/g, () => (p.startsWith('/units') ? '89' : '1'));

// Does the documented path (with {params}) match this concrete one, as the server's '*' does?
function matches(documented, concretePath) {
  const a = documented.split('/');
  const b = concretePath.split('/');
  return a.length === b.length && a.every((s, i) => s === b[i] || /^\{.*\}$/.test(s));
}

const yamlText = readFileSync(path.join(ROOT, 'docs/openapi.yaml'), 'utf8');
const doc = parseOpenApi(yamlText);
const routes = parseRouteTable(readFileSync(path.join(ROOT, 'signaling/api.c'), 'utf8'));
const ADMIN_PASSWORD = 'Openapi-check-2025';

test('docs/openapi.yaml lists exactly the routes of signaling/api.c, with their roles', () => {
  assert.equal(doc.base, '/api/v1');
  assert.ok(routes.length >= 20, `only ${routes.length} routes read from signaling/api.c`);
  assert.ok(doc.ops.length >= 20, `only ${doc.ops.length} operations read from docs/openapi.yaml`);
  const documented = new Map(doc.ops.map((o) => [key(o), o]));
  assert.equal(documented.size, doc.ops.length, 'an operation is documented twice');
  const served = new Map(routes.map((r) => [key(r), r]));
  const undocumented = [...served.keys()].filter((k) => !documented.has(k));
  const unserved = [...documented.keys()].filter((k) => !served.has(k));
  assert.deepEqual(undocumented, [], 'routes of signaling/api.c missing from docs/openapi.yaml');
  assert.deepEqual(unserved, [], 'operations in docs/openapi.yaml that signaling/api.c does not route');
  for (const [k, r] of served) {
    assert.equal(documented.get(k).role, r.role, `x-min-role of ${k}`);
  }
});

test('every documented operation documents its refusals', () => {
  for (const o of doc.ops) {
    const k = `${o.method} ${o.path}`;
    assert.ok(o.responses.some((s) => s >= 200 && s < 300), `${k}: no success response`);
    if (o.role === 'none') continue;
    assert.ok(o.responses.includes(401), `${k}: 401 not documented`);
    if (o.role !== 'viewer') assert.ok(o.responses.includes(403), `${k}: needs ${o.role} but 403 is not documented`);
    if (o.path.includes('{')) assert.ok(o.responses.includes(404) || o.path.startsWith('/auth'), `${k}: 404 not documented`);
  }
});

test('the server answers every documented operation, and only those', async () => {
  const srv = await startServer({ workers: 1, env: { MCU_ADMIN_PASSWORD: ADMIN_PASSWORD } });
  try {
    const api = `${srv.base}${doc.base}`;
    // Without credentials: 401 (the route exists, the sign-in check refused it); login: 400.
    for (const o of doc.ops) {
      const withBody = ['POST', 'PATCH', 'PUT'].includes(o.method);
      const r = await getJson(`${api}${concrete(o.path)}`, {
        method: o.method,
        headers: withBody ? { 'content-type': 'application/json' } : {},
        body: withBody ? '{}' : undefined,
      });
      const what = `${o.method} ${o.path}: ${r.status} ${r.body}`;
      assert.ok(r.status !== 404 && r.status !== 405, `not served: ${what}`);
      if (o.role === 'none') {
        assert.ok([200, 400].includes(r.status), what);
      } else {
        assert.equal(r.status, 401, what);
        assert.equal(r.json?.error?.code, 'unauthorized', what);
      }
    }
    // A method the document lists for no path matching a URL is 405 there (GET
    // /sites/provision is GET /sites/{id}), and a made-up path is 404.
    const paths = [...new Set(doc.ops.map((o) => o.path))];
    for (const p of paths) {
      const url = concrete(p);
      const methods = doc.ops.filter((o) => matches(o.path, url)).map((o) => o.method);
      for (const m of ['GET', 'POST', 'PATCH', 'DELETE', 'PUT'].filter((x) => !methods.includes(x))) {
        const withBody = m !== 'GET' && m !== 'DELETE';
        const r = await getJson(`${api}${url}`, { method: m, body: withBody ? '{}' : undefined });
        assert.equal(r.status, 405, `${m} ${p} is not documented, yet: ${r.status} ${r.body}`);
        assert.equal(r.json?.error?.code, 'method_not_allowed');
      }
    }
    let r = await getJson(`${api}/no-such-thing`);
    assert.equal(r.status, 404);
    assert.equal(r.json?.error?.code, 'not_found');
    // Signed in as the national admin, every documented GET without parameters answers 200.
    r = await getJson(`${api}/auth/login`, {
      method: 'POST', body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    assert.equal(r.status, 200, r.body);
    assert.match(r.json.token, /^[A-Za-z0-9_-]{43}$/);
    assert.match(r.headers.get('set-cookie') || '', /^mcu_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict/);
    const auth = { authorization: `Bearer ${r.json.token}` };
    for (const o of doc.ops.filter((x) => x.method === 'GET' && !x.path.includes('{'))) {
      const g = await getJson(`${api}${o.path}`, { headers: auth });
      assert.equal(g.status, 200, `GET ${o.path}: ${g.body}`);
      assert.ok(g.json && typeof g.json === 'object', `GET ${o.path} returns a JSON object`);
    }
    // The events socket as its section describes it: unauthorized without a sign-in, and
    // with ?token= a watch of an unknown conference is not_found, echoing the id.
    const anon = new WebSocket(`ws://127.0.0.1:${srv.port}/api/v1/events`);
    const first = await new Promise((resolve, reject) => {
      anon.once('message', (d) => resolve(JSON.parse(d.toString())));
      anon.once('error', reject);
    });
    assert.equal(first.type, 'error');
    assert.equal(first.code, 'unauthorized');
    anon.terminate();
    const ev = new WebSocket(`ws://127.0.0.1:${srv.port}/api/v1/events?token=${r.json.token}`);
    await new Promise((resolve, reject) => { ev.once('open', resolve); ev.once('error', reject); });
    const reply = await new Promise((resolve) => {
      ev.once('message', (d) => resolve(JSON.parse(d.toString())));
      ev.send(JSON.stringify({ type: 'watch', conference: '424242', id: 'w1' }));
    });
    assert.deepEqual({ type: reply.type, code: reply.code, id: reply.id }, { type: 'error', code: 'not_found', id: 'w1' });
    ev.close();
  } finally {
    const res = await stopServer(srv);
    assert.equal(sanitizerReport(srv.stderr), null, srv.stderr);
    assert.equal(res.code, 0, srv.stderr);
  }
});
