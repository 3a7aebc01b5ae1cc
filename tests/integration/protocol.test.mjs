// The endpoint protocol at /ws as a client sees it: a join answered with an ICE-lite SDP
// answer, every error code for bad input (with nothing changed), leave, and a server that
// shuts down cleanly while a session is open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { ROOT, startServer, stopServer, sanitizerReport, sleep, getJson } from './lib.mjs';

const offer = (name) => readFileSync(path.join(ROOT, 'tests/data/sdp', name), 'utf8');

// A WebSocket client that queues what the server says.
async function connect(srv, urlPath = '/ws') {
  const ws = new WebSocket(`ws://127.0.0.1:${srv.port}${urlPath}`);
  const inbox = [];
  let waiter = null;
  ws.on('message', (d) => { inbox.push(JSON.parse(d.toString())); if (waiter) waiter(); });
  ws.closed = new Promise((resolve) => ws.on('close', (code) => resolve({ code })));
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  ws.next = async (ms = 3000) => {
    const deadline = Date.now() + ms;
    while (!inbox.length) {
      if (Date.now() > deadline) throw new Error('no message from the server');
      await new Promise((r) => { waiter = r; setTimeout(r, 50); });
    }
    return inbox.shift();
  };
  ws.ask = async (msg) => { ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg)); return ws.next(); };
  ws.pending = () => inbox.length;
  return ws;
}

test('join echo with a recorded Chromium offer returns an ICE-lite answer', async () => {
  const srv = await startServer({ workers: 2 });
  try {
    const ws = await connect(srv);
    const ans = await ws.ask({ type: 'join', conference: 'echo', sdp: offer('chromium_av.sdp'), id: 7 });
    assert.equal(ans.type, 'answer', JSON.stringify(ans));
    assert.equal(ans.id, 7);
    assert.match(ans.session, /^\d+$/);
    const sdp = ans.sdp;
    assert.match(sdp, /a=ice-lite/);
    assert.match(sdp, /a=setup:passive/);
    assert.match(sdp, /a=fingerprint:sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}/);
    assert.match(sdp, /a=group:BUNDLE/);
    assert.match(sdp, /a=rtpmap:\d+ opus\/48000\/2/);
    assert.match(sdp, /a=rtpmap:\d+ VP8\/90000/);
    const ports = srv.health.workers.map((w) => w.udp_port);
    const cands = [...sdp.matchAll(/a=candidate:\S+ 1 udp \d+ (\S+) (\d+) typ host/g)];
    assert.ok(cands.length >= 2, 'IPv4 and IPv6 host candidates');
    assert.ok(cands.some((c) => c[1] === '127.0.0.1') && cands.some((c) => c[1] === '::1'));
    assert.ok(cands.every((c) => ports.includes(Number(c[2]))), 'candidates name a worker port');
    const health = (await getJson(`${srv.base}/healthz`)).json;
    assert.ok(health.workers.length === 2);
    ws.close();
  } finally {
    assert.equal((await stopServer(srv)).code, 0, srv.stderr);
  }
});

test('offers recorded from Chromium and Firefox are all answered', async () => {
  const srv = await startServer({ workers: 1 });
  try {
    for (const name of ['chromium_av.sdp', 'chromium_simulcast.sdp', 'chromium_audio.sdp',
      'firefox_av.sdp', 'firefox_simulcast.sdp', 'firefox_audio.sdp']) {
      const ws = await connect(srv);
      const r = await ws.ask({ type: 'join', conference: name.includes('audio') ? 'mix' : 'echo', sdp: offer(name) });
      assert.equal(r.type, 'answer', `${name}: ${JSON.stringify(r)}`);
      assert.match(r.sdp, /a=ice-lite/);
      ws.close();
    }
  } finally {
    assert.equal((await stopServer(srv)).code, 0, srv.stderr);
  }
});

test('bad requests get JSON errors with stable codes, and change nothing', async () => {
  const srv = await startServer({ workers: 1 });
  try {
    // Malformed input: the error, then the connection closes cleanly (1007).
    for (const junk of ['{not json', [1, 2]]) {
      const bad = await connect(srv);
      const r = await bad.ask(junk);
      assert.deepEqual([r.type, r.code], ['error', 'bad_json'], JSON.stringify(r));
      assert.equal((await bad.closed).code, 1007);
    }
    let ws = await connect(srv);
    const cases = [
      [{ hello: 1 }, 'bad_request'],
      [{ type: 'dance' }, 'unknown_type'],
      [{ type: 'join', conference: 'echo' }, 'bad_request'],
      [{ type: 'join', conference: 'nowhere', sdp: offer('chromium_av.sdp') }, 'unknown_conference'],
      [{ type: 'join', conference: 'echo', sdp: 'v=0\r\nnonsense' }, 'bad_offer'],
      [{ type: 'join', conference: 'echo', sdp: offer('chromium_av.sdp').replace(/a=group:BUNDLE[^\r\n]*\r?\n/, '') }, 'bad_offer'],
      [{ type: 'join', conference: 'echo', sdp: offer('chromium_av.sdp').replace(/a=fingerprint[^\r\n]*\r?\n/g, '') }, 'bad_offer'],
      [{ type: 'leave' }, 'not_joined'],
      [{ type: 'join', conference: 'mix', sdp: offer('chromium_audio.sdp'), options: { sample_rate: 44100 } }, 'bad_request'],
      [{ type: 'join', conference: 'mix', sdp: offer('chromium_audio.sdp'), options: { agc: 'yes' } }, 'bad_request'],
      [{ type: 'join', conference: 'mix', sdp: offer('chromium_audio.sdp'), options: 7 }, 'bad_request'],
    ];
    for (const [msg, code] of cases) {
      const r = await ws.ask(msg);
      assert.equal(r.type, 'error', JSON.stringify(msg));
      assert.equal(r.code, code, `${JSON.stringify(msg).slice(0, 60)} -> ${JSON.stringify(r)}`);
      assert.ok(r.message.length > 3);
    }
    // None of that created a session.
    const metrics = await (await fetch(`${srv.base}/metrics`)).text();
    assert.match(metrics, /mcu_worker_sessions\{worker="0"\} 0/);
    // An oversized message is refused, then the connection closes cleanly (1009); the
    // requests above, well-formed but wrong, left it open.
    assert.equal((await ws.ask({ type: 'ping', id: 'p' })).type, 'pong');
    const r = await ws.ask(JSON.stringify({ type: 'ping', pad: 'x'.repeat(300 * 1024) }));
    assert.equal(r.code, 'too_large');
    assert.equal((await ws.closed).code, 1009);
    ws = await connect(srv);
    // join, a second join, leave.
    const ans = await ws.ask({ type: 'join', conference: 'echo', sdp: offer('chromium_audio.sdp') });
    assert.equal(ans.type, 'answer');
    assert.equal((await ws.ask({ type: 'join', conference: 'echo', sdp: offer('chromium_audio.sdp') })).code, 'already_joined');
    await sleep(100);
    assert.match(await (await fetch(`${srv.base}/metrics`)).text(), /mcu_worker_sessions\{worker="0"\} 1/);
    assert.equal((await ws.ask({ type: 'leave' })).type, 'left');
    await sleep(100);
    assert.match(await (await fetch(`${srv.base}/metrics`)).text(), /mcu_worker_sessions\{worker="0"\} 0/);
    ws.close();
  } finally {
    assert.equal((await stopServer(srv)).code, 0, srv.stderr);
  }
});

test('audio conferences: one worker per conference, options accepted, members counted', async () => {
  const srv = await startServer({ workers: 2 });
  try {
    const a = await connect(srv), b = await connect(srv), c = await connect(srv);
    const ans = await a.ask({ type: 'join', conference: 'mix-hall', sdp: offer('chromium_audio.sdp'), options: { sample_rate: 16000, agc: true, denoise: true } });
    assert.equal(ans.type, 'answer', JSON.stringify(ans));
    assert.match(ans.sdp, /a=extmap:\d+ urn:ietf:params:rtp-hdrext:ssrc-audio-level/);
    assert.equal((await b.ask({ type: 'join', conference: 'mix-hall', sdp: offer('chromium_av.sdp') })).type, 'answer');
    assert.equal((await c.ask({ type: 'join', conference: 'mix-commune', sdp: offer('chromium_audio.sdp') })).type, 'answer');
    await sleep(150);
    const ms = await (await fetch(`${srv.base}/metrics`)).text();
    const per = [0, 1].map((w) => Number(ms.match(new RegExp(`mcu_worker_sessions\\{worker="${w}"\\} (\\d+)`))[1]));
    assert.deepEqual(per.slice().sort(), [1, 2], `sessions per worker ${per}: both hall members on one worker`);
    for (const ws of [a, b, c]) ws.close();
    await sleep(300);
    assert.match(await (await fetch(`${srv.base}/metrics`)).text(), /mcu_worker_sessions\{worker="0"\} 0/);
  } finally {
    assert.equal((await stopServer(srv)).code, 0, srv.stderr);
  }
});

test('a WebSocket on another path is refused', async () => {
  const srv = await startServer({ workers: 1 });
  try {
    await assert.rejects(connect(srv, '/elsewhere'));
  } finally {
    assert.equal((await stopServer(srv)).code, 0);
  }
});

test('closing the WebSocket ends its session', async () => {
  const srv = await startServer({ workers: 1 });
  try {
    const ws = await connect(srv);
    assert.equal((await ws.ask({ type: 'join', conference: 'echo', sdp: offer('chromium_av.sdp') })).type, 'answer');
    await sleep(100);
    assert.match(await (await fetch(`${srv.base}/metrics`)).text(), /mcu_worker_sessions\{worker="0"\} 1/);
    ws.close();
    await sleep(300);
    assert.match(await (await fetch(`${srv.base}/metrics`)).text(), /mcu_worker_sessions\{worker="0"\} 0/);
  } finally {
    assert.equal((await stopServer(srv)).code, 0);
  }
});

test('SIGTERM with sessions open exits 0 within 2 s and leaks nothing', async () => {
  const srv = await startServer({ workers: 2 });
  const clients = [];
  for (let i = 0; i < 4; i++) {
    const ws = await connect(srv);
    assert.equal((await ws.ask({ type: 'join', conference: 'echo', sdp: offer('chromium_simulcast.sdp') })).type, 'answer');
    clients.push(ws);
  }
  const r = await stopServer(srv, 2000);
  assert.equal(r.signal, null);
  assert.equal(r.code, 0, srv.stderr);
  assert.ok(r.ms < 2000, `took ${r.ms} ms`);
  assert.equal(sanitizerReport(srv.stderr), null, srv.stderr);
  for (const ws of clients) ws.terminate();
});
