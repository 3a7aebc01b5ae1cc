// A site's credential: shown once (never in a read of the site), its sign-ins audited, and
// rotating it signs out a room still connected with the old secret: the room is told why
// (`credential_changed`), its session in a live conference ends, its connection closes, and
// the old secret no longer signs in while the new one does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sleep, stopServer, sanitizerReport } from './lib.mjs';
import { Site, roomsServer, until } from './rooms_lib.mjs';

test('site credential: rotation signs out the room using the old secret', { timeout: 60000 }, async () => {
  const srv = await roomsServer();
  const sites = [];
  try {
    const api = srv.api;
    const made = await api.post('/sites', { unit: '884', name: 'Phòng họp xã' });
    assert.equal(made.status, 201, made.text);
    const id = made.json.site.id;
    const old = made.json.secret;
    assert.match(old, /^[A-Za-z0-9_-]{32}$/);
    const read = await api.get(`/sites/${id}`);
    assert.ok(!read.text.includes(old) && !('secret' in read.json.site), 'a read never shows the secret');

    const conf = await api.post('/conferences', { title: 'Giao ban', host_unit: '884', invite: { sites: [id] } });
    assert.equal(conf.status, 201, conf.text);
    const cid = String(conf.json.conference.id);
    assert.equal((await api.post(`/conferences/${cid}/start`)).status, 200);

    const url = `ws://127.0.0.1:${srv.port}/ws`;
    const room = new Site(url, { site: id, secret: old }, { autoJoin: false, reconnect: false });
    sites.push(room);
    room.connect();
    const closed = new Promise((resolve) => room.ws.on('close', () => resolve('closed')));
    await room.waitFor('invite', (m) => m.conference.id === cid);
    room.join(cid);
    await room.waitFor('answer');
    await until(async () => (await api.get(`/conferences/${cid}/roster`)).json.sites
      .some((s) => s.site === id && s.status === 'joined'), 5000, 'the room in the roster');

    const rot = await api.post(`/sites/${id}/credential`, {});
    assert.equal(rot.status, 200, rot.text);
    const fresh = rot.json.secret;
    assert.notEqual(fresh, old);
    const told = await room.waitFor('error', (m) => m.code === 'credential_changed');
    assert.equal(told.id, undefined);
    assert.match(told.message, /credential was replaced/);
    assert.equal(await Promise.race([closed, sleep(5000).then(() => 'still open')]), 'closed');
    await until(async () => (await api.get(`/sites/${id}`)).json.site.online === false, 5000, 'the site offline');
    const roster = (await api.get(`/conferences/${cid}/roster`)).json.sites;
    assert.notEqual(roster.find((s) => s.site === id).status, 'joined');

    // The old secret is refused; the new one signs in.
    const stale = new Site(url, { site: id, secret: old }, { reconnect: false });
    sites.push(stale);
    stale.connect();
    assert.equal((await stale.waitFor('error')).code, 'bad_credentials');
    const renewed = new Site(url, { site: id, secret: fresh }, { autoJoin: false, reconnect: false });
    sites.push(renewed);
    renewed.connect();
    await renewed.waitFor('signedin');

    // The audit log: the rotation (which signed a room out) and each sign-in, good or bad.
    const audit = (await api.get('/audit?limit=50')).json.entries;
    const rotation = audit.find((e) => e.action === 'site.credential' && e.target === `site:${id}`);
    assert.equal(rotation.detail, 'signed out');
    const signins = audit.filter((e) => e.action === 'site.signin' && e.target === `site:${id}`);
    assert.deepEqual(signins.map((e) => e.result), ['ok', 'denied', 'ok']); // newest first
    assert.ok(signins.every((e) => e.unit === '884' && e.address === '127.0.0.1'));
  } finally {
    for (const s of sites) s.close();
    const res = await stopServer(srv);
    assert.equal(sanitizerReport(srv.stderr), null);
    assert.equal(res.code, 0);
  }
});
