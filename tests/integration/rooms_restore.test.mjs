// A server killed with SIGKILL in the middle of a conference and started again restores it:
// still live, same invited sites, chair, floor and mutes, attendance kept, and the sites,
// which reconnect with backoff, rejoin by themselves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startServer, stopServer, sanitizerReport } from './lib.mjs';
import { Api, Site, until, roomsServer, PASSWORD, UNITS } from './rooms_lib.mjs';

test('SIGKILL mid-conference: the conference is restored and the sites rejoin', { timeout: 90000 }, async () => {
  let srv = await roomsServer();
  const sites = [];
  try {
    let api = srv.api;
    const creds = (await api.post('/sites/provision', { unit: '883', subtree: true })).json.sites;
    assert.equal(creds.length, 13);
    const chair = creds.find((c) => c.unit === '883');
    const r = await api.post('/conferences', { title: 'Họp thành phố Long Xuyên', host_unit: '883',
      invite: { own: true, subtree: true }, chair_site: chair.site });
    const cid = r.json.conference.id;
    assert.equal((await api.post(`/conferences/${cid}/start`)).status, 200);
    const url = `ws://127.0.0.1:${srv.port}/ws`;
    for (const c of creds) { const s = new Site(url, c); sites.push(s); s.connect(); }
    await until(() => sites.every((s) => s.status === 'joined'), 15000, 'all joined');
    const floor = creds[5].site, muted = creds[7].site;
    await api.post(`/conferences/${cid}/control`, { action: 'grant_floor', site: floor });
    await api.post(`/conferences/${cid}/control`, { action: 'mute', site: muted });
    await api.post(`/conferences/${cid}/control`, { action: 'lock' });
    const before = (await api.get(`/conferences/${cid}/attendance`)).json.attendance;
    assert.ok(before.every((a) => a.joins === 1));

    srv.child.kill('SIGKILL');
    await srv.exitPromise;
    await until(() => sites.every((s) => s.status === 'offline' || s.status === 'idle'), 5000, 'sites noticed');
    srv = await startServer({ dir: srv.dir, port: srv.port, env: { MCU_ADMIN_PASSWORD: PASSWORD },
      args: ['--units-file', UNITS, '--test-conferences', 'false', '--consent-timeout-ms', '600000'] });
    api = new Api(srv.base);
    await api.login('admin', PASSWORD); // the account survived; sign-ins did not

    const conf = (await api.get(`/conferences/${cid}`)).json.conference;
    assert.equal(conf.state, 'live');
    assert.equal(conf.invited, 13);
    assert.equal(conf.chair_site, chair.site);
    assert.equal(conf.live.chair, chair.site);
    assert.equal(conf.live.floor, floor);
    assert.equal(conf.live.locked, true);
    // The sites come back by themselves (locked, but they had joined before).
    await until(() => sites.every((s) => s.status === 'joined' && s.joins === 2), 30000,
      () => `rejoin: ${sites.map((s) => `${s.id}:${s.status}/${s.joins}`).join(' ')}`);
    const roster = (await api.get(`/conferences/${cid}/roster`)).json.sites;
    assert.equal(roster.filter((s) => s.status === 'joined').length, 13);
    assert.equal(roster.find((s) => s.site === muted).muted, true);
    assert.equal(roster.find((s) => s.site === floor).muted, false);
    const att = (await api.get(`/conferences/${cid}/attendance`)).json.attendance;
    assert.ok(att.every((a) => a.joins === 2), JSON.stringify(att.map((a) => a.joins)));
    // An admin panel watching the conference gets the roster, then levels and packet rates
    // of every joined site twice a second, and the presence changes.
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/api/v1/events?token=${api.token}`);
    const got = [];
    ws.on('message', (d) => got.push(JSON.parse(d.toString())));
    await new Promise((res) => ws.once('open', res));
    ws.send(JSON.stringify({ type: 'watch', conference: String(cid) }));
    await until(() => got.some((m) => m.type === 'levels'), 3000, 'levels event');
    const w = got.find((m) => m.type === 'watching');
    assert.equal(w.sites.length, 13);
    const lv = got.find((m) => m.type === 'levels');
    assert.equal(Object.keys(lv.sites).length, 13);
    assert.ok(Object.values(lv.sites).every((v) => v.level >= 0 && v.level <= 127 && v.rx_pps === 0));
    sites[3].drop();
    await until(() => got.some((m) => m.type === 'presence' && m.site === sites[3].id), 3000, 'presence event');
    ws.close();
  } finally {
    for (const s of sites) s.close();
    const res = await stopServer(srv);
    assert.equal(sanitizerReport(srv.stderr), null);
    assert.equal(res.code, 0);
  }
});
