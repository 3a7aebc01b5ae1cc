// Admin sign-in over the real API: a wrong password gets 401, repeated failures are
// rate-limited with a clear message, sessions expire when idle, logout and a password change
// end them, and the session cookie is HttpOnly and SameSite=Strict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stopServer, sanitizerReport, sleep } from './lib.mjs';
import { Api, roomsServer, PASSWORD } from './rooms_lib.mjs';

test('sign-in: 401, rate limit, idle expiry, logout, password change', { timeout: 60000 }, async () => {
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
    assert.equal((await api.post('/users', { username: 'op', password: 'Chau-Doc-2026', role: 'operator', unit: '884' })).status, 201);

    // A wrong password: 401, then after 5 failures 429, even with the right password.
    for (let i = 0; i < 5; i++) {
      const r = await anon.call('POST', '/auth/login', { username: 'op', password: 'wrong-password-1' }, null);
      assert.equal(r.status, 401);
      assert.equal(r.json.error.code, 'bad_credentials');
    }
    const limited = await anon.call('POST', '/auth/login', { username: 'op', password: 'Chau-Doc-2026' }, null);
    assert.equal(limited.status, 429);
    assert.match(limited.json.error.message, /try again in \d+ s/);
    // The audit log shows the refusals with the address.
    const audit = (await api.get('/audit?limit=50')).json.entries;
    const denied = audit.filter((e) => e.action === 'auth.login' && e.target === 'op' && e.result === 'denied');
    assert.equal(denied.length, 5);
    assert.equal(denied[0].address, '127.0.0.1');
    assert.ok(audit.some((e) => e.target === 'op' && e.result === 'rate_limited'));

    // A password change ends every sign-in of that account; the new password works.
    const other = new Api(srv.base);
    await other.login('admin', PASSWORD).catch(() => {}); // the address is limited now: may be refused
    const weak = await api.post('/auth/password', { old_password: PASSWORD, new_password: 'short' });
    assert.equal(weak.status, 400);
    assert.equal(weak.json.error.code, 'weak_password');
    const wrongOld = await api.post('/auth/password', { old_password: 'nope-nope-123', new_password: 'Long-Xuyen-2027' });
    assert.equal(wrongOld.status, 401);
    const changed = await api.post('/auth/password', { old_password: PASSWORD, new_password: 'Long-Xuyen-2027' });
    assert.equal(changed.status, 200);
    assert.equal((await api.get('/auth/me')).status, 401);
  } finally {
    const res = await stopServer(srv);
    assert.equal(sanitizerReport(srv.stderr), null);
    assert.equal(res.code, 0);
  }
});
