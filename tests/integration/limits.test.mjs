// Hostile input against the real server: a 10 MB WebSocket frame, JSON nested 10,000 deep and
// invalid UTF-8 on /ws, on /api/v1/events and as HTTP API bodies each get a clear error (and,
// where the issue asks, a clean close) while a joined endpoint and the API keep answering, and
// the server's memory stays flat. Then the limits themselves: per-type message length, HTTP
// body size, requests and WebSocket messages per connection, and connections per address.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import WebSocket from 'ws';
import { ROOT, startServer, stopServer, sanitizerReport, sleep } from './lib.mjs';

const OFFER = readFileSync(path.join(ROOT, 'tests/data/sdp/chromium_audio.sdp'), 'utf8');
const PASSWORD = 'Long-Xuyen-2026';
const TEN_MB = 10 * 1024 * 1024;
const DEEP = '['.repeat(10000) + ']'.repeat(10000);
const BAD_UTF8 = Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]); // {"t":"\xff\xfe\xc3(" }

// A WebSocket client that queues what the server says and remembers how it closed.
async function connect(url, opts = {}) {
  const ws = new WebSocket(url, opts);
  const inbox = [];
  let wake = null;
  ws.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on('message', (d) => { inbox.push(JSON.parse(d.toString())); if (wake) wake(); });
  ws.on('error', () => {});
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); ws.once('unexpected-response', (_, res) => reject(new Error(`HTTP ${res.statusCode}`))); });
  ws.next = async (ms = 5000) => {
    const deadline = Date.now() + ms;
    while (!inbox.length) {
      if (Date.now() > deadline) throw new Error('no message from the server');
      await new Promise((r) => { wake = r; setTimeout(r, 50); });
    }
    return inbox.shift();
  };
  ws.ask = async (msg) => { ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg)); return ws.next(); };
  return ws;
}

function rssKb(pid) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return Number(m[1]);
}

// One HTTP request on its own connection; the body may be a Buffer of any size.
function request(port, { method = 'GET', path: p = '/healthz', headers = {}, body = null, agent = false } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, agent,
      headers: { ...(body ? { 'content-type': 'application/json', 'content-length': body.length } : {}), ...headers } },
    (res) => {
      let d = '';
      res.on('data', (c) => { d += c; });
      res.on('end', () => { let json = null; try { json = JSON.parse(d); } catch { /* not JSON */ } resolve({ status: res.statusCode, json, headers: res.headers }); });
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

async function login(port) {
  const r = await request(port, { method: 'POST', path: '/api/v1/auth/login', body: Buffer.from(JSON.stringify({ username: 'admin', password: PASSWORD })) });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json.token;
}

test('a 10 MB frame, JSON 10,000 deep and invalid UTF-8 get errors; others are not disturbed; memory stays flat', { timeout: 120000 }, async (t) => {
  const srv = await startServer({ workers: 1, env: { MCU_ADMIN_PASSWORD: PASSWORD } });
  const port = srv.port;
  try {
    const token = await login(port);
    // The bystanders: an endpoint in an echo session, and the admin API.
    const by = await connect(`ws://127.0.0.1:${port}/ws`);
    assert.equal((await by.ask({ type: 'join', conference: 'echo', sdp: OFFER, id: 'j' })).type, 'answer');
    let pings = 0;
    const bystanderFine = async (after) => {
      const t0 = Date.now();
      const r = await by.ask({ type: 'ping', id: ++pings });
      assert.deepEqual([r.type, r.id], ['pong', pings], `bystander after ${after}`);
      assert.ok(Date.now() - t0 < 2000, `bystander answered in ${Date.now() - t0} ms after ${after}`);
      const me = await request(port, { path: '/api/v1/auth/me', headers: { authorization: `Bearer ${token}` } });
      assert.equal(me.status, 200, `API after ${after}`);
    };

    const socketAttacks = async (url) => {
      // 10 MB in one frame: too_large, then a clean close with 1009 (message too big).
      let ws = await connect(url);
      ws.send('x'.repeat(TEN_MB));
      const big = await ws.next();
      assert.deepEqual([big.type, big.code], ['error', 'too_large'], JSON.stringify(big));
      assert.equal((await ws.closed).code, 1009);
      await bystanderFine(`10 MB frame on ${url}`);
      // 10,000 deep: bad_json, then a clean close with 1007 (invalid payload).
      ws = await connect(url);
      const deep = await ws.ask(DEEP);
      assert.deepEqual([deep.type, deep.code], ['error', 'bad_json']);
      assert.match(deep.message, /nested deeper than 32/);
      assert.equal((await ws.closed).code, 1007);
      await bystanderFine(`deep JSON on ${url}`);
      // Not JSON at all: the same.
      ws = await connect(url);
      const junk = await ws.ask('{"type":');
      assert.deepEqual([junk.type, junk.code], ['error', 'bad_json']);
      assert.equal((await ws.closed).code, 1007);
      await bystanderFine(`malformed JSON on ${url}`);
      // Invalid UTF-8 in a text frame: closed with 1007 (invalid frame payload data).
      ws = await connect(url);
      ws.send(BAD_UTF8, { binary: false });
      assert.equal((await ws.closed).code, 1007);
      await bystanderFine(`invalid UTF-8 on ${url}`);
    };

    const httpAttacks = async () => {
      const big = await request(port, { method: 'POST', path: '/api/v1/sites', headers: { authorization: `Bearer ${token}` },
        body: Buffer.alloc(TEN_MB, 0x20) });
      assert.equal(big.status, 413);
      assert.equal(big.json.error.code, 'body_too_large');
      await bystanderFine('10 MB HTTP body');
      const deep = await request(port, { method: 'POST', path: '/api/v1/sites', headers: { authorization: `Bearer ${token}` },
        body: Buffer.from(`{"unit":${DEEP}}`) });
      assert.equal(deep.status, 400);
      assert.equal(deep.json.error.code, 'bad_json');
      assert.match(deep.json.error.message, /nested deeper than 32/);
      await bystanderFine('deep JSON body');
      const bad = await request(port, { method: 'POST', path: '/api/v1/auth/login', body: BAD_UTF8 });
      assert.equal(bad.status, 400);
      assert.equal(bad.json.error.code, 'bad_json');
      await bystanderFine('invalid UTF-8 body');
    };

    const round = async () => {
      await socketAttacks(`ws://127.0.0.1:${port}/ws`);
      await socketAttacks(`ws://127.0.0.1:${port}/api/v1/events?token=${token}`);
      await httpAttacks();
    };
    await round(); // the first round warms up allocator pools and lws buffers
    const before = rssKb(srv.child.pid);
    for (let i = 0; i < 3; i++) await round();
    const after = rssKb(srv.child.pid);
    t.diagnostic(`server RSS ${before} kB after the first round, ${after} kB after three more`);
    // 3 more rounds pushed 60 MB of frames and 30 MB of bodies through; none of it may stay.
    assert.ok(after - before < 32 * 1024, `RSS grew from ${before} kB to ${after} kB`);
    await bystanderFine('all rounds');
    by.close();
  } finally {
    const res = await stopServer(srv);
    assert.equal(res.code, 0, srv.stderr.slice(-2000));
    assert.equal(sanitizerReport(srv.stderr), null);
  }
});

test('message length per type, HTTP body size and requests per connection', { timeout: 60000 }, async () => {
  const srv = await startServer({ workers: 1, env: { MCU_ADMIN_PASSWORD: PASSWORD } });
  const port = srv.port;
  try {
    // A ping may be 4 KiB; a join may carry 64 KiB (an SDP offer). An oversize message gets
    // its error (keeping the id), then a clean close with 1009 (message too big).
    let ws = await connect(`ws://127.0.0.1:${port}/ws`);
    const r = await ws.ask({ type: 'ping', id: 'big', pad: 'x'.repeat(8000) });
    assert.deepEqual([r.type, r.code, r.id], ['error', 'too_large', 'big']);
    assert.equal((await ws.closed).code, 1009);
    ws = await connect(`ws://127.0.0.1:${port}/ws`);
    const j = await ws.ask({ type: 'join', id: 'j', conference: 'echo', sdp: OFFER + 'a=x-pad:'.padEnd(30000, 'y') + '\r\n' });
    assert.notEqual(j.code, 'too_large', JSON.stringify(j).slice(0, 200));
    ws.close();
    // Over 256 KiB: the same.
    ws = await connect(`ws://127.0.0.1:${port}/ws`);
    assert.equal((await ws.ask(JSON.stringify({ type: 'ping', pad: 'x'.repeat(300 * 1024) }))).code, 'too_large');
    assert.equal((await ws.closed).code, 1009);

    // A body declared larger than the limit is refused before it is read.
    const t0 = Date.now();
    const declared = await new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/api/v1/auth/login', agent: false,
        headers: { 'content-type': 'application/json', 'content-length': 100 * 1024 * 1024 } }, (res) => {
        let d = ''; res.on('data', (c) => { d += c; }); res.on('end', () => { resolve({ status: res.statusCode, json: JSON.parse(d) }); req.destroy(); });
      });
      req.on('error', reject);
      req.write('{"username":');
    });
    assert.equal(declared.status, 413);
    assert.equal(declared.json.error.code, 'body_too_large');
    assert.ok(Date.now() - t0 < 3000);
    // 1 MiB exactly is read (and then judged by the API: not a JSON object), 1 MiB + 1 is not.
    const exact = await request(port, { method: 'POST', path: '/api/v1/auth/login', body: Buffer.alloc(1 << 20, 0x20) });
    assert.equal(exact.status, 400);
    const over = await request(port, { method: 'POST', path: '/api/v1/auth/login', body: Buffer.alloc((1 << 20) + 1, 0x20) });
    assert.equal(over.status, 413);

    // One keep-alive connection: a burst of 200, then about 50 requests a second.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const statuses = [];
    for (let i = 0; i < 300; i++) statuses.push((await request(port, { path: '/healthz', agent })).status);
    const limited = statuses.filter((s) => s === 429).length;
    assert.ok(statuses.slice(0, 200).every((s) => s === 200), 'the first 200 pass');
    assert.ok(limited >= 50, `${limited} of 300 rate-limited`);
    agent.destroy();
    // Another connection is not affected.
    assert.equal((await request(port, { path: '/healthz' })).status, 200);
  } finally {
    const res = await stopServer(srv);
    assert.equal(res.code, 0, srv.stderr.slice(-2000));
    assert.equal(sanitizerReport(srv.stderr), null);
  }
});

test('messages per connection: a burst past 200 gets rate_limited, the connection stays, others are undisturbed', { timeout: 60000 }, async (t) => {
  const srv = await startServer({ workers: 1 });
  try {
    const flood = await connect(`ws://127.0.0.1:${srv.port}/ws`);
    const by = await connect(`ws://127.0.0.1:${srv.port}/ws`);
    // 400 pings at once: about the first 200 (the burst) get their pong; past the budget each
    // is dropped with a rate_limited error without an id (docs/protocol.md).
    for (let i = 1; i <= 400; i++) flood.send(JSON.stringify({ type: 'ping', id: i }));
    const t0 = Date.now();
    const mid = await by.ask({ type: 'ping', id: 'by' }); // while the flood is being answered
    assert.deepEqual([mid.type, mid.id], ['pong', 'by']);
    assert.ok(Date.now() - t0 < 2000, `bystander answered in ${Date.now() - t0} ms`);
    let pongs = 0, limited = 0;
    for (let i = 0; i < 400; i++) {
      const m = await flood.next();
      if (m.type === 'pong') pongs++;
      else {
        assert.deepEqual([m.type, m.code, m.id], ['error', 'rate_limited', undefined], JSON.stringify(m));
        assert.match(m.message, /too many messages/);
        limited++;
      }
    }
    t.diagnostic(`${pongs} pongs, ${limited} rate_limited`);
    assert.ok(limited >= 1, 'at least one message was rate-limited');
    assert.ok(pongs >= 200, `the burst of 200 passes (${pongs} pongs)`);
    assert.equal(flood.readyState, WebSocket.OPEN, 'rate-limited, not closed');
    // A second later (50 messages a second come back) the connection is served again.
    await sleep(1000);
    const after = await flood.ask({ type: 'ping', id: 'after' });
    assert.deepEqual([after.type, after.id], ['pong', 'after']);
    // The bystander was never limited: 100 pings in a row all answered.
    for (let i = 0; i < 100; i++) by.send(JSON.stringify({ type: 'ping', id: i }));
    for (let i = 0; i < 100; i++) assert.deepEqual([(await by.next()).type], ['pong']);
    flood.close();
    by.close();
  } finally {
    const res = await stopServer(srv);
    assert.equal(res.code, 0, srv.stderr.slice(-2000));
    assert.equal(sanitizerReport(srv.stderr), null);
  }
});

test('connections per address: over the limit an error and a close, at twice it a refusal at accept', { timeout: 60000 }, async () => {
  const srv = await startServer({ workers: 1, args: ['--max-conns-per-addr', '8', '--conn-limit-exempt', 'none'] });
  const port = srv.port;
  const url = `ws://127.0.0.1:${port}/ws`;
  try {
    await sleep(5500); // the start-up probe's keep-alive connection times out: only ours count
    const open = [];
    for (let i = 0; i < 8; i++) open.push(await connect(url));
    // The 9th WebSocket: an error message, then close 1008 (policy violation).
    const ninth = await connect(url);
    const err = await ninth.next();
    assert.deepEqual([err.type, err.code], ['error', 'too_many_connections']);
    const closed = await ninth.closed;
    assert.equal(closed.code, 1008);
    assert.match(closed.reason, /too many connections/);
    // An HTTP request on a new connection: 429 with the same code.
    const h = await request(port);
    assert.equal(h.status, 429);
    assert.equal(h.json.error.code, 'too_many_connections');
    // The 8 still work.
    for (const ws of open) assert.equal((await ws.ask({ type: 'ping' })).type, 'pong');
    // 8 more idle sockets reach twice the limit; then a new socket is closed at once, unanswered.
    const idle = [];
    for (let i = 0; i < 8; i++) {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => {});
      await new Promise((r) => s.once('connect', r));
      idle.push(s);
    }
    await sleep(200);
    const dropped = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      let data = '';
      s.on('data', (d) => { data += d; });
      s.on('error', () => {});
      s.on('close', () => resolve(data));
      s.on('connect', () => s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
      setTimeout(() => { s.destroy(); resolve('still open'); }, 3000);
    });
    assert.equal(dropped, '');
    for (const s of idle) s.destroy();
    // Closing connections makes room again.
    open.pop().close();
    await sleep(300);
    const again = await connect(url);
    assert.equal((await again.ask({ type: 'ping' })).type, 'pong');
    again.close();
    for (const ws of open) ws.close();
  } finally {
    const res = await stopServer(srv);
    assert.equal(res.code, 0, srv.stderr.slice(-2000));
    assert.equal(sanitizerReport(srv.stderr), null);
    assert.match(srv.stderr, /127\.0\.0\.1 has 8 connections open \(max_conns_per_addr\)/);
  }
});
