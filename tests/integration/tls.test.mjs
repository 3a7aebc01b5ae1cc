// HTTPS and WSS with the certificate the server makes itself (tls_self_signed = true): it is
// stored beside the database with mode 0600, presented on the wire, reused after a restart;
// responses (pages and API errors) carry HSTS, the CSP and nosniff, the session cookie is
// Secure, WSS serves the endpoint protocol and the admin events socket, ALPN settles on
// HTTP/1.1, and plain HTTP gets no answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import WebSocket from 'ws';
import { MCU_BIN, startServer, stopServer, sanitizerReport, sleep } from './lib.mjs';

const PASSWORD = 'Rach-Gia-2026';

// The log reaches us through a pipe, possibly after the port is already open.
async function logged(srv, re) {
  for (let i = 0; i < 100 && !re.test(srv.stderr); i++) await sleep(20);
  assert.match(srv.stderr, re);
}

function get(port, p, { method = 'GET', headers = {}, body = null } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: p, method, rejectUnauthorized: false, agent: false,
      headers: { ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}), ...headers } },
    (res) => {
      let d = '';
      res.on('data', (c) => { d += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: d,
        cert: res.socket.getPeerCertificate(), alpn: res.socket.alpnProtocol }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

// Under TLS every response carries HSTS beside the headers foundation.test.mjs checks
// without TLS: the CSP (framing forbidden) and nosniff.
function assertSecurityHeaders(headers, what) {
  const csp = headers['content-security-policy'] || '';
  assert.match(csp, /(^|;\s*)default-src 'self'(;|$)/, `${what}: CSP ${csp}`);
  assert.match(csp, /(^|;\s*)frame-ancestors 'none'(;|$)/, `${what}: CSP ${csp}`);
  assert.equal(headers['x-content-type-options'], 'nosniff', what);
  assert.match(headers['strict-transport-security'] || '', /max-age=\d+/, what);
}

async function wssAsk(url, msg, headers = {}) {
  const ws = new WebSocket(url, { rejectUnauthorized: false, headers });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  const reply = await new Promise((resolve) => { ws.once('message', (d) => resolve(JSON.parse(d.toString()))); ws.send(JSON.stringify(msg)); });
  ws.close();
  return reply;
}

test('tls_self_signed: HTTPS and WSS with a certificate made once and kept', { timeout: 60000 }, async () => {
  let srv = await startServer({ workers: 1, tls: true, args: ['--tls-self-signed', 'true'], env: { MCU_ADMIN_PASSWORD: PASSWORD } });
  const crt = path.join(srv.dir, 'tls-self-signed.crt'), key = path.join(srv.dir, 'tls-self-signed.key');
  let fp;
  try {
    assert.equal(statSync(crt).mode & 0o777, 0o600);
    assert.equal(statSync(key).mode & 0o777, 0o600);
    const onDisk = new X509Certificate(readFileSync(crt));
    assert.match(onDisk.subjectAltName, /DNS:localhost/);
    assert.match(onDisk.subjectAltName, /IP Address:127\.0\.0\.1/);
    assert.equal(onDisk.publicKey.asymmetricKeyType, 'ec');
    fp = onDisk.fingerprint256;
    await logged(srv, new RegExp(`made a new self-signed HTTPS certificate .* sha-256 ${fp}`));
    await logged(srv, /listening on https:\/\//);

    const h = await get(srv.port, '/healthz');
    assert.equal(h.status, 200);
    assert.equal(JSON.parse(h.body).status, 'ok');
    assert.equal(h.cert.fingerprint256, fp, 'the certificate served is the one on disk');
    assert.equal(h.alpn, false, 'no ALPN offered by this client');
    assert.match(h.headers['strict-transport-security'], /max-age=\d+/);
    const page = await get(srv.port, '/admin/');
    assert.match(page.headers['strict-transport-security'] || '', /max-age=\d+/, 'static files carry HSTS too');
    for (const p of ['/admin/', '/room/']) {
      const r = p === '/admin/' ? page : await get(srv.port, p);
      assert.equal(r.status, 200, p);
      assertSecurityHeaders(r.headers, p);
    }
    const denied = await get(srv.port, '/api/v1/auth/me');
    assert.equal(denied.status, 401);
    assert.equal(JSON.parse(denied.body).error.code, 'unauthorized');
    assertSecurityHeaders(denied.headers, 'an API error');

    // A client offering h2 gets HTTP/1.1.
    const alpn = await new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: srv.port, rejectUnauthorized: false, ALPNProtocols: ['h2', 'http/1.1'] },
        () => { resolve(s.alpnProtocol); s.end(); });
      s.on('error', reject);
    });
    assert.equal(alpn, 'http/1.1');

    const login = await get(srv.port, '/api/v1/auth/login', { method: 'POST', body: JSON.stringify({ username: 'admin', password: PASSWORD }) });
    assert.equal(login.status, 200, login.body);
    const cookie = login.headers['set-cookie'][0];
    assert.match(cookie, /^mcu_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Secure$/);

    const pong = await wssAsk(`wss://127.0.0.1:${srv.port}/ws`, { type: 'ping', id: 1 });
    assert.deepEqual([pong.type, pong.id], ['pong', 1]);
    const watch = await wssAsk(`wss://127.0.0.1:${srv.port}/api/v1/events`, { type: 'watch', conference: '424242', id: 2 },
      { cookie: cookie.split(';')[0] });
    assert.deepEqual([watch.code, watch.id], ['not_found', 2], JSON.stringify(watch)); // signed in by the cookie

    // Plain HTTP on the TLS port is not served.
    await assert.rejects(fetch(`http://127.0.0.1:${srv.port}/healthz`, { signal: AbortSignal.timeout(3000) }));
  } finally {
    const res = await stopServer(srv, 2000, { keepDir: true });
    assert.equal(res.code, 0, srv.stderr.slice(-2000));
    assert.equal(sanitizerReport(srv.stderr), null);
  }

  // Restarted on the same data directory: the same certificate.
  srv = await startServer({ workers: 1, tls: true, port: srv.port, dir: srv.dir, args: ['--tls-self-signed', 'true'],
    env: { MCU_ADMIN_PASSWORD: PASSWORD } });
  try {
    await logged(srv, /reusing the self-signed HTTPS certificate/);
    assert.equal((await get(srv.port, '/healthz')).cert.fingerprint256, fp);
  } finally {
    const res = await stopServer(srv);
    assert.equal(res.code, 0, srv.stderr.slice(-2000));
  }
});

test('tls_self_signed excludes tls_cert; plain HTTP off loopback is refused', () => {
  let r = spawnSync(MCU_BIN, ['--tls-self-signed', 'true', '--tls-cert', '/x.pem', '--tls-key', '/x.key'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /tls_self_signed cannot be combined with tls_cert/);
  r = spawnSync(MCU_BIN, ['--listen', '0.0.0.0:0', '--media-port', '0'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /refusing plain HTTP on 0\.0\.0\.0/);
  r = spawnSync(MCU_BIN, ['--conn-limit-exempt', '10.0.0.1,gateway'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /'gateway' is not an IP address/);
});

test('a plain-HTTP server sends no HSTS and no Secure cookie', { timeout: 30000 }, async () => {
  const srv = await startServer({ workers: 1, env: { MCU_ADMIN_PASSWORD: PASSWORD } });
  try {
    const r = await fetch(`${srv.base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: PASSWORD }) });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('strict-transport-security'), null);
    assert.doesNotMatch(r.headers.get('set-cookie'), /Secure/);
  } finally {
    assert.equal((await stopServer(srv)).code, 0, srv.stderr.slice(-2000));
  }
});
