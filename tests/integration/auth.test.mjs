// Admin sign-in over the real API: a wrong password gets 401; failed sign-ins are limited per
// account and per address with a clear message; sessions expire when idle (an open events
// socket does not count as use) and at their absolute limit whatever the use; logout and a
// password change end them and the new password works; the session cookie is HttpOnly and
// SameSite=Strict; sign-ins and admin actions are audit lines in the log even at level warn.
// Requests that must come from distinct addresses use 127.0.0.x (all of 127/8 is loopback).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import WebSocket from 'ws';
import { stopServer, sanitizerReport, sleep } from './lib.mjs';
import { Api, roomsServer, PASSWORD } from './rooms_lib.mjs';

// One API call from a chosen local address: {status, json}.
function callFrom(srv, from, method, p, body, token) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const headers = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const req = http.request({ host: '127.0.0.1', port: srv.port, localAddress: from, method, path: `/api/v1${p}`, headers },
      (res) => {
        let text = '';
        res.on('data', (d) => { text += d; });
        res.on('end', () => resolve({ status: res.statusCode, json: text ? JSON.parse(text) : null }));
      });
    req.on('error', reject);
    req.end(data);
  });
}
const loginFrom = (srv, from, username, password) =>
  callFrom(srv, from, 'POST', '/auth/login', { username, password });

async function stop(srv) {
  const res = await stopServer(srv);
  assert.equal(sanitizerReport(srv.stderr), null);
  assert.equal(res.code, 0);
}

test('sign-in: cookie, idle expiry, logout, password change and the new password', { timeout: 60000 }, async () => {
  const srv = await roomsServer({ args: ['--session-idle-s', '2'] });
  try {
    const api = srv.api;
    const anon = new Api(srv.base);
    // The cookie for the panel.
    const ok = await anon.call('POST', '/auth/login', { username: 'admin', password: PASSWORD }, null);
    assert.match(ok.headers.get('set-cookie'), /^mcu_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
    const cookie = ok.headers.get('set-cookie').split(';')[0];
    const me = await fetch(`${srv.base}/api/v1/auth/me`, { headers: { cookie } });
    assert.equal(me.status, 200);
    // Expired after 2 s without use.
    await sleep(2600);
    assert.equal((await api.get('/auth/me')).status, 401);
    await api.login('admin', PASSWORD);
    // Logout ends the session.
    assert.equal((await api.post('/auth/logout')).status, 200);
    assert.equal((await api.get('/auth/me')).status, 401);
    await api.login('admin', PASSWORD);

    // A password change ends every sign-in of that account; the new password works, the old
    // one no longer does.
    const other = new Api(srv.base);
    await other.login('admin', PASSWORD);
    const weak = await api.post('/auth/password', { old_password: PASSWORD, new_password: 'short' });
    assert.equal(weak.status, 400);
    assert.equal(weak.json.error.code, 'weak_password');
    const wrongOld = await api.post('/auth/password', { old_password: 'nope-nope-123', new_password: 'Long-Xuyen-2027' });
    assert.equal(wrongOld.status, 401);
    const changed = await api.post('/auth/password', { old_password: PASSWORD, new_password: 'Long-Xuyen-2027' });
    assert.equal(changed.status, 200);
    assert.equal((await api.get('/auth/me')).status, 401);
    assert.equal((await other.get('/auth/me')).status, 401);
    await api.login('admin', 'Long-Xuyen-2027');
    assert.equal((await api.get('/auth/me')).json.user.username, 'admin');
    const old = await anon.call('POST', '/auth/login', { username: 'admin', password: PASSWORD }, null);
    assert.equal(old.status, 401);
  } finally {
    await stop(srv);
  }
});

test('sign-in limits: per account, per address, on password change; audit lines at log level warn',
  { timeout: 60000 }, async () => {
    const srv = await roomsServer({ args: ['--log-level', 'warn'] });
    try {
      const api = srv.api;
      assert.equal((await api.post('/users', { username: 'op', password: 'Chau-Doc-2026', role: 'operator', unit: '884' })).status, 201);

      // Per account: 5 wrong passwords, each from another address (so no address reaches its
      // limit); then even the right password is refused, from yet another address.
      for (let i = 0; i < 5; i++) {
        const r = await loginFrom(srv, `127.0.0.${11 + i}`, 'op', 'wrong-password-1');
        assert.equal(r.status, 401);
        assert.equal(r.json.error.code, 'bad_credentials');
      }
      const limited = await loginFrom(srv, '127.0.0.16', 'op', 'Chau-Doc-2026');
      assert.equal(limited.status, 429);
      assert.equal(limited.json.error.code, 'rate_limited');
      assert.match(limited.json.error.message, /^too many failed sign-ins; try again in \d+ s$/);
      // Those addresses are not limited: another account signs in from one of them.
      assert.equal((await loginFrom(srv, '127.0.0.11', 'admin', PASSWORD)).status, 200);

      // Per address: one failure for each of 5 user names (existing or not) from one address;
      // then a sixth name, even with the right password, is refused from that address only.
      for (const name of ['nobody-1', 'nobody-2', 'admin', 'nobody-3', 'nobody-4']) {
        const r = await loginFrom(srv, '127.0.0.21', name, 'wrong-password-2');
        assert.equal(r.status, 401, name);
      }
      const byAddr = await loginFrom(srv, '127.0.0.21', 'admin', PASSWORD);
      assert.equal(byAddr.status, 429);
      assert.match(byAddr.json.error.message, /^too many failed sign-ins; try again in \d+ s$/);
      assert.equal((await loginFrom(srv, '127.0.0.22', 'admin', PASSWORD)).status, 200);

      // The password change checks the current password under the same limits.
      const viewer = await api.post('/users', { username: 'view', password: 'Tan-Chau-2026', role: 'viewer', unit: '884' });
      assert.equal(viewer.status, 201);
      const tok = (await loginFrom(srv, '127.0.0.31', 'view', 'Tan-Chau-2026')).json.token;
      for (let i = 0; i < 5; i++) {
        const r = await callFrom(srv, `127.0.0.${31 + i}`, 'POST', '/auth/password',
          { old_password: `guess-number-${i}`, new_password: 'Tan-Chau-2027' }, tok);
        assert.equal(r.status, 401);
      }
      const guess = await callFrom(srv, '127.0.0.36', 'POST', '/auth/password',
        { old_password: 'Tan-Chau-2026', new_password: 'Tan-Chau-2027' }, tok);
      assert.equal(guess.status, 429);
      assert.match(guess.json.error.message, /try again in \d+ s/);

      // The audit log has the refusals with their addresses...
      await api.login('admin', PASSWORD);
      const audit = (await api.get('/audit?limit=100')).json.entries;
      const denied = audit.filter((e) => e.action === 'auth.login' && e.target === 'op' && e.result === 'denied');
      assert.deepEqual(denied.map((e) => e.address).sort(), ['127.0.0.11', '127.0.0.12', '127.0.0.13', '127.0.0.14', '127.0.0.15']);
      assert.equal(denied[0].unit, '884'); // the account's unit: its scoped admins see it
      assert.ok(audit.some((e) => e.target === 'op' && e.result === 'rate_limited' && e.address === '127.0.0.16'));
      assert.ok(audit.some((e) => e.target === 'admin' && e.result === 'rate_limited' && e.address === '127.0.0.21'));
      assert.equal(audit.filter((e) => e.action === 'auth.password' && e.result === 'denied').length, 5);
      // ...and so has the server's log, although its level is warn: failed sign-ins and an
      // admin action, one line each. Nothing at info level is written.
      const lines = srv.stderr.split('\n').filter((l) => / audit audit {5}/.test(l));
      assert.ok(lines.some((l) => l.endsWith('actor=- action=auth.login target=op address=127.0.0.11 result=denied')), srv.stderr);
      assert.ok(lines.some((l) => l.endsWith('actor=- action=auth.login target=nobody-1 address=127.0.0.21 result=denied')));
      assert.ok(lines.some((l) => l.endsWith('actor=- action=auth.login target=admin address=127.0.0.21 result=rate_limited')));
      assert.ok(lines.some((l) => l.endsWith('actor=admin action=user.create target=op address=127.0.0.1 result=ok detail=operator')));
      assert.ok(lines.some((l) => l.endsWith('actor=view action=auth.password target=view address=127.0.0.36 result=rate_limited')));
      assert.equal(srv.stderr.split('\n').filter((l) => / info /.test(l)).length, 0);
    } finally {
      await stop(srv);
    }
  });

test('sign-in: the absolute limit ends a session in constant use', { timeout: 30000 }, async () => {
  const srv = await roomsServer({ args: ['--session-max-s', '3', '--session-idle-s', '60'] });
  try {
    const api = new Api(srv.base);
    const t0 = Date.now();
    await api.login('admin', PASSWORD);
    let refusedAt = 0;
    while (!refusedAt && Date.now() - t0 < 8000) {
      const r = await api.get('/auth/me'); // a use every 250 ms: never idle
      if (r.status === 401) refusedAt = Date.now();
      else assert.equal(r.status, 200);
      await sleep(250);
    }
    assert.ok(refusedAt, 'still signed in after 8 s');
    assert.ok(refusedAt - t0 >= 2900 && refusedAt - t0 < 4500, `refused after ${refusedAt - t0} ms`);
    assert.equal((await api.get('/auth/me')).status, 401);
    await api.login('admin', PASSWORD); // a new sign-in gets a new lifetime
    assert.equal((await api.get('/auth/me')).status, 200);
  } finally {
    await stop(srv);
  }
});

test('sign-in: an open events socket does not keep an idle session alive', { timeout: 40000 }, async () => {
  // The server checks open events sockets every 5 s; an idle limit above that shows whether
  // the check itself counts as a use.
  const srv = await roomsServer({ args: ['--session-idle-s', '6'] });
  try {
    const api = new Api(srv.base);
    const t0 = Date.now();
    await api.login('admin', PASSWORD);
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/api/v1/events`, { headers: { authorization: `Bearer ${api.token}` } });
    const msgs = [];
    ws.on('message', (d) => msgs.push(JSON.parse(d.toString())));
    const closed = new Promise((resolve) => ws.on('close', () => resolve(Date.now())));
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    await sleep(4000);
    assert.equal(ws.readyState, WebSocket.OPEN, 'closed before the idle limit');
    const at = await Promise.race([closed, sleep(14000).then(() => 0)]);
    assert.ok(at, 'the events socket outlived the idle limit');
    assert.ok(at - t0 >= 6000, `closed after ${at - t0} ms`);
    assert.deepEqual(msgs.at(-1), { type: 'error', code: 'unauthorized', message: 'the sign-in has ended' });
    assert.equal((await api.get('/auth/me')).status, 401);
  } finally {
    await stop(srv);
  }
});
