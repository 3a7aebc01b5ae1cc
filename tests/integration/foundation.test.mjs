// The daemon as an operator meets it: starts, reports health and metrics, counts garbage,
// refuses bad configuration clearly, and stops cleanly on SIGTERM while busy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import {
  MCU_BIN, startServer, stopServer, sanitizerReport, getJson, metrics, metricSum, freePort, sleep,
} from './lib.mjs';

test('healthz round-trips a ping through every worker', async () => {
  const srv = await startServer({ workers: 3 });
  try {
    const { status, json } = await getJson(`${srv.base}/healthz`);
    assert.equal(status, 200);
    assert.equal(json.status, 'ok');
    assert.match(json.version, /\S/);
    assert.ok(json.uptime_s >= 0);
    assert.equal(json.workers.length, 3);
    for (const w of json.workers) {
      assert.equal(w.alive, true);
      assert.ok(w.ping_rtt_ms > 0 && w.ping_rtt_ms < 500, `ping rtt ${w.ping_rtt_ms}`);
      assert.ok(w.last_tick_age_ms < 1000);
      assert.ok(w.udp_port > 0);
    }
  } finally {
    const r = await stopServer(srv);
    assert.equal(r.code, 0);
  }
});

test('metrics expose process, loop, queue, UDP and drop families', async () => {
  const srv = await startServer({ workers: 2 });
  try {
    await sleep(150);
    const ms = await metrics(srv);
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes',
      'mcu_worker_loop_lag_seconds', 'mcu_worker_tick_jitter_seconds', 'mcu_queue_depth',
      'mcu_udp_packets_total', 'mcu_udp_bytes_total', 'mcu_drops_total', 'mcu_worker_ticks_total']) {
      assert.ok(ms[name], `missing ${name}`);
    }
    assert.ok(metricSum(ms, 'mcu_worker_ticks_total') >= 4, 'workers tick');
    assert.ok(metricSum(ms, 'process_resident_memory_bytes') > 1e6);
    assert.equal(ms.mcu_queue_depth.length, 4);
  } finally {
    assert.equal((await stopServer(srv)).code, 0);
  }
});

test('garbage to a media port is dropped, counted by reason, and harms nothing', async () => {
  const srv = await startServer({ workers: 1 });
  try {
    const port = srv.health.workers[0].udp_port;
    const sock = dgram.createSocket('udp4');
    const send = (buf) => new Promise((r) => sock.send(buf, port, '127.0.0.1', r));
    await send(Buffer.from([0xff, 1, 2, 3]));                          // no RFC 7983 kind
    await send(Buffer.from([0x00, 0x01, 0x00]));                       // truncated STUN
    await send(Buffer.concat([Buffer.from([0x80, 0x6f]), Buffer.alloc(30)])); // RTP, unknown peer
    await send(Buffer.from([22, 0xfe, 0xfd, 0, 0]));                   // DTLS from nobody
    for (let i = 0; i < 200; i++) await send(Buffer.from(Array.from({ length: 1 + (i % 300) }, () => Math.random() * 256 | 0)));
    sock.close();
    await sleep(200);
    const ms = await metrics(srv);
    assert.ok(metricSum(ms, 'mcu_udp_packets_total', { direction: 'in' }) >= 204);
    assert.ok(metricSum(ms, 'mcu_drops_total', { reason: 'unknown_kind' }) >= 1);
    assert.ok(metricSum(ms, 'mcu_drops_total') >= 204);
    const { status } = await getJson(`${srv.base}/healthz`);
    assert.equal(status, 200);
  } finally {
    assert.equal((await stopServer(srv)).code, 0);
  }
});

test('HTTP errors are JSON with a stable code', async () => {
  const srv = await startServer({ workers: 1 });
  try {
    let r = await getJson(`${srv.base}/api/v1/nothing`);
    assert.equal(r.status, 404);
    assert.equal(r.json.error.code, 'not_found');
    r = await getJson(`${srv.base}/healthz`, { method: 'POST', body: '{}' });
    assert.equal(r.status, 405);
    assert.equal(r.json.error.code, 'method_not_allowed');
    r = await getJson(`${srv.base}/no/such/file.html`);
    assert.equal(r.status, 404);
  } finally {
    assert.equal((await stopServer(srv)).code, 0);
  }
});

// On pages and API errors alike: a CSP for web/ that forbids framing, no MIME sniffing, no HSTS
// without TLS (tls.test.mjs checks it is there under TLS).
function assertSecurityHeaders(headers, what, { hsts }) {
  const csp = headers.get('content-security-policy') || '';
  assert.match(csp, /(^|;\s*)default-src 'self'(;|$)/, `${what}: CSP ${csp}`);
  assert.match(csp, /(^|;\s*)frame-ancestors 'none'(;|$)/, `${what}: CSP ${csp}`);
  assert.doesNotMatch(csp, /script-src[^;]*'unsafe-inline'|'unsafe-eval'/, `${what}: CSP ${csp}`);
  assert.equal(headers.get('x-content-type-options'), 'nosniff', what);
  assert.equal(headers.get('x-frame-options'), 'DENY', what);
  if (hsts) assert.match(headers.get('strict-transport-security') || '', /max-age=\d+/, what);
  else assert.equal(headers.get('strict-transport-security'), null, what);
}

test('pages and API errors carry CSP, nosniff and no framing', async () => {
  const srv = await startServer({ workers: 1 });
  try {
    for (const page of ['/admin/', '/room/', '/']) {
      const r = await fetch(`${srv.base}${page}`);
      assert.equal(r.status, 200, page);
      assert.match(r.headers.get('content-type'), /^text\/html/, page);
      await r.text();
      assertSecurityHeaders(r.headers, page, { hsts: false });
    }
    const js = await fetch(`${srv.base}/admin/app.js`);
    assert.match(js.headers.get('content-type'), /^text\/javascript/);
    await js.text();
    assertSecurityHeaders(js.headers, '/admin/app.js', { hsts: false });
    for (const [url, status] of [['/api/v1/nothing', 404], ['/api/v1/auth/me', 401], ['/no/such/file.html', 404]]) {
      const r = await getJson(`${srv.base}${url}`);
      assert.equal(r.status, status, url);
      assert.match(r.headers.get('content-type'), /^application\/json/, url);
      assertSecurityHeaders(r.headers, url, { hsts: false });
    }
  } finally {
    assert.equal((await stopServer(srv)).code, 0);
  }
});

test('SIGTERM during activity exits 0 within 2 s with no sanitizer report', async () => {
  const srv = await startServer({ workers: 2 });
  const port = srv.health.workers[0].udp_port;
  const sock = dgram.createSocket('udp4');
  let busy = true;
  const udpLoop = (async () => {
    while (busy) {
      for (let i = 0; i < 50; i++) sock.send(Buffer.alloc(100, 0x80), port, '127.0.0.1');
      await sleep(1);
    }
  })();
  const httpLoop = (async () => {
    while (busy) {
      await Promise.all([fetch(`${srv.base}/metrics`).then((r) => r.text()).catch(() => {}),
        fetch(`${srv.base}/healthz`).then((r) => r.text()).catch(() => {})]);
    }
  })();
  await sleep(500);
  const r = await stopServer(srv, 2000);
  busy = false;
  await Promise.all([udpLoop, httpLoop]);
  sock.close();
  assert.equal(r.signal, null, `killed by ${r.signal}`);
  assert.equal(r.code, 0, srv.stderr);
  assert.ok(r.ms < 2000, `took ${r.ms} ms`);
  assert.equal(sanitizerReport(srv.stderr), null);
  assert.match(srv.stderr, /SIGTERM received/);
});

test('bad configuration is refused with a clear message', async () => {
  let r = spawnSync(MCU_BIN, ['--workers', 'many'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /workers: expected an integer/);
  r = spawnSync(MCU_BIN, ['--bogus', '1'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown flag '--bogus'/);
  r = spawnSync(MCU_BIN, ['--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  for (const f of ['--config', '--listen', '--media-addr', '--media-port', '--workers', '--db']) {
    assert.ok(r.stdout.includes(f), `--help lacks ${f}`);
  }
  const port = await freePort();
  const env = { ...process.env, MCU_LISTEN: 'nonsense' };
  r = spawnSync(MCU_BIN, ['--media-port', String(port)], { encoding: 'utf8', env });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /MCU_LISTEN/);
});

test('a port in use fails start-up cleanly', async () => {
  const srv = await startServer({ workers: 1 });
  try {
    const r = spawnSync(MCU_BIN, ['--listen', `127.0.0.1:${srv.port}`, '--media-port', '0', '--db', `${srv.dir}/b.db`],
      { encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot listen/);
    assert.equal(sanitizerReport(r.stderr), null);
  } finally {
    assert.equal((await stopServer(srv)).code, 0);
  }
});

test('serves over IPv6 loopback', async () => {
  const srv = await startServer({ workers: 1, listenHost: '::1' });
  try {
    const { status, json } = await getJson(`${srv.base}/healthz`);
    assert.equal(status, 200);
    assert.equal(json.status, 'ok');
  } finally {
    assert.equal((await stopServer(srv)).code, 0);
  }
});

test('plain HTTP off loopback is refused; TLS serves HTTPS and WSS', async () => {
  const { execFileSync } = await import('node:child_process');
  const https = await import('node:https');
  let r = spawnSync(MCU_BIN, ['--listen', '0.0.0.0:0', '--media-port', '0'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /refusing plain HTTP/);

  const { mkdtempSync } = await import('node:fs');
  const dir = mkdtempSync('/tmp/mcu-tls-');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`, '-days', '2', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const srv = await startServer({ workers: 1, tls: true, args: ['--tls-cert', `${dir}/cert.pem`, '--tls-key', `${dir}/key.pem`] });
  try {
    const body = await new Promise((resolve, reject) => {
      https.get(`https://127.0.0.1:${srv.port}/healthz`, { rejectUnauthorized: false }, (res) => {
        let d = ''; res.on('data', (c) => { d += c; }); res.on('end', () => resolve({ status: res.statusCode, d }));
      }).on('error', reject);
    });
    assert.equal(body.status, 200);
    assert.equal(JSON.parse(body.d).status, 'ok');
    const { default: WebSocket } = await import('ws');
    const ws = new WebSocket(`wss://127.0.0.1:${srv.port}/ws`, { rejectUnauthorized: false });
    const reply = await new Promise((resolve, reject) => {
      ws.on('open', () => ws.send('{"type":"ping"}'));
      ws.on('message', (m) => resolve(JSON.parse(m.toString())));
      ws.on('error', reject);
    });
    assert.equal(reply.type, 'pong');
    ws.close();
  } finally {
    assert.equal((await stopServer(srv)).code, 0);
  }
});
