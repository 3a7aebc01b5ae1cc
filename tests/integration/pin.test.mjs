// The conference PIN against guessing: wrong PINs are limited per conference and site (5, then
// `rate_limited` with the wait, even for the right PIN, while another site is not held back),
// each refusal is audited under the conference's unit, and the database keeps the PIN keyed
// by a secret of the server, not as a bare SHA-256 of its digits. A chair's control from its
// room is audited under the conference's unit too, so the unit's own admins see it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { stopServer, sanitizerReport } from './lib.mjs';
import { Api, OFFER, Site, roomsServer, until } from './rooms_lib.mjs';

function sqliteValue(srv, sql) {
  try {
    return execFileSync('sqlite3', [path.join(srv.dir, 'mcu.db'), sql], { encoding: 'utf8' }).trim();
  } catch {
    return null; // no sqlite3 command here
  }
}

test('conference PIN: limited guesses, audited refusals, stored keyed', { timeout: 60000 }, async () => {
  const srv = await roomsServer();
  const sites = [];
  try {
    const api = srv.api;
    const made = [];
    for (const name of ['Phòng họp A', 'Phòng họp B']) {
      const r = await api.post('/sites', { unit: '884', name });
      assert.equal(r.status, 201, r.text);
      made.push({ site: r.json.site.id, secret: r.json.secret });
    }
    const [a, b] = made;
    const conf = await api.post('/conferences', { title: 'Họp kín', host_unit: '884', pin: '2468',
      invite: { sites: [a.site, b.site] }, chair_site: b.site });
    assert.equal(conf.status, 201, conf.text);
    const cid = String(conf.json.conference.id);
    assert.equal((await api.post(`/conferences/${cid}/start`)).status, 200);

    // The stored PIN is not the SHA-256 of its digits (nor of anything a dictionary of PINs
    // gives without the server's key).
    const stored = sqliteValue(srv, `SELECT pin_digest FROM conferences WHERE id = ${cid}`);
    if (stored !== null) {
      assert.match(stored, /^[0-9a-f]{64}$/);
      assert.notEqual(stored, createHash('sha256').update('2468').digest('hex'));
      assert.match(sqliteValue(srv, "SELECT hex(value) FROM server_secrets WHERE name = 'pin_key'"), /^[0-9A-F]{64}$/);
    }

    const url = `ws://127.0.0.1:${srv.port}/ws`;
    const [sa, sb] = [a, b].map((cred) => new Site(url, cred, { autoJoin: false, reconnect: false }));
    sites.push(sa, sb);
    for (const s of sites) {
      s.connect();
      await s.waitFor('invite', (m) => m.conference.id === cid);
    }
    const join = async (s, pin, id) => {
      s.send({ type: 'join', conference: cid, sdp: OFFER, pin, id });
      return until(() => s.events.find((e) => e.id === id), 5000, `reply to ${id}`);
    };
    // No PIN: refused, but not counted as a guess.
    assert.equal((await join(sa, undefined, 'none')).code, 'bad_pin');
    for (let i = 0; i < 5; i++) {
      const m = await join(sa, `135${i}`, `w${i}`);
      assert.equal(m.code, 'bad_pin', JSON.stringify(m));
      assert.equal(m.message, 'wrong conference PIN');
    }
    // Locked out: even the right PIN waits, and the message says how long.
    const limited = await join(sa, '2468', 'right');
    assert.equal(limited.type, 'error');
    assert.equal(limited.code, 'rate_limited');
    assert.match(limited.message, /^too many wrong PINs; try again in \d+ s$/);
    // Another site is not held back by A's guesses.
    assert.equal((await join(sb, '2468', 'b')).type, 'answer');

    // B is the chair: its control from the room is audited under host unit 884.
    const lock = await sb.ask({ type: 'control', action: 'lock' });
    assert.equal(lock.type, 'ok', JSON.stringify(lock));

    // What 884's own admin reads: the guesses, the lockout and the chair's control.
    assert.equal((await api.post('/users', { username: 'adm884', password: 'Chau-Doc-2026', role: 'admin', unit: '884' })).status, 201);
    const adm = new Api(srv.base);
    await adm.login('adm884', 'Chau-Doc-2026');
    const audit = (await adm.get('/audit?limit=100')).json.entries;
    const mine = (result) => audit.filter((e) => e.action === 'conference.join' && e.result === result &&
      e.actor === `site:${a.site}` && e.target === `conference:${cid}`);
    assert.equal(mine('bad_pin').length, 5);
    assert.equal(mine('rate_limited').length, 1);
    assert.ok(mine('bad_pin').every((e) => e.unit === '884' && e.address === '127.0.0.1'));
    const ctl = audit.find((e) => e.action === 'conference.control' && e.actor === `site:${b.site}`);
    assert.ok(ctl, 'the chair control is in the scoped audit log');
    assert.equal(ctl.detail, 'lock');
    assert.equal(ctl.result, 'ok');
    assert.equal(ctl.unit, '884');
    // Site sign-ins are audited too, under the site's unit.
    assert.equal(audit.filter((e) => e.action === 'site.signin' && e.result === 'ok').length, 2);
  } finally {
    for (const s of sites) s.close();
    const res = await stopServer(srv);
    assert.equal(sanitizerReport(srv.stderr), null);
    assert.equal(res.code, 0);
  }
});
