// What a room's idle screen and the admin panel's sites page are told: `signedin` carries the
// site's next conference (the soonest scheduled one that invites it, else a permanent one),
// a `schedule` follows every create, change, delete and start that moves it (the scheduler's
// own starts included), and GET /sites gives each site's state, its live conference and
// when it was last seen, kept in the database across a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopServer, sanitizerReport } from './lib.mjs';
import { Api, Site, until, roomsServer, PASSWORD, UNITS } from './rooms_lib.mjs';

const schedules = (s) => s.events.filter((e) => e.type === 'schedule');
// The next `schedule` after the n already seen.
const nextSchedule = (s, n) => until(() => schedules(s)[n], 5000, `site ${s.id}: schedule #${n + 1}`);

test('next conference in signedin and schedule; state and last seen of the sites', { timeout: 60000 }, async () => {
  let srv = await roomsServer();
  const sites = [];
  try {
    let api = srv.api;
    const creds = (await api.post('/sites/provision', { unit: '883', subtree: true })).json.sites;
    const city = creds.find((c) => c.unit === '883'), ward = creds.find((c) => c.unit === '30280');
    const idle = creds.find((c) => c.unit === '30283');
    const hour = 3600e3, now = Date.now();
    const mk = async (body) => { const r = await api.post('/conferences', body); assert.equal(r.status, 201, r.text); return r.json.conference.id; };
    const all = await mk({ title: 'Giao ban thành phố', host_unit: '883', invite: { own: true, subtree: true },
      schedule: { start: now + 2 * hour, end: now + 3 * hour } });
    const own = await mk({ title: 'Họp UBND thành phố', host_unit: '883', invite: { own: true },
      schedule: { start: now + hour, end: now + 2 * hour } });
    const perm = await mk({ title: 'Phòng họp thường trực', host_unit: '883', invite: { own: true, subtree: true } });

    // Sign-in: the city's room has its own meeting first; the ward's is the city-wide one.
    const url = `ws://127.0.0.1:${srv.port}/ws`;
    const P = new Site(url, city), S = new Site(url, ward), I = new Site(url, idle, { autoJoin: false });
    sites.push(P, S, I);
    const t0 = Date.now();
    for (const s of sites) s.connect();
    const pin = (await P.waitFor('signedin')).next, sin = (await S.waitFor('signedin')).next;
    assert.deepEqual(pin, { id: String(own), title: 'Họp UBND thành phố', start_at: now + hour, end_at: now + 2 * hour,
      host_unit: '883', host_unit_name: 'Thành phố Long Xuyên' });
    assert.equal(sin.id, String(all));
    assert.equal(sin.start_at, now + 2 * hour);
    await I.waitFor('signedin');

    // A new meeting in 30 minutes for the whole city: every room hears of it.
    const soon = await mk({ title: 'Họp khẩn phòng chống lụt bão', host_unit: '883', invite: { own: true, subtree: true },
      schedule: { start: now + hour / 2, end: now + hour } });
    for (const s of [P, S]) assert.equal((await nextSchedule(s, 0)).next.id, String(soon));
    // Moved to later and narrowed to the city's own room: the ward is no longer invited.
    assert.equal((await api.patch(`/conferences/${soon}`, { schedule: { start: now + 4 * hour, end: now + 5 * hour }, invite: { own: true } })).status, 200);
    assert.equal((await nextSchedule(P, 1)).next.id, String(own));
    assert.equal((await nextSchedule(S, 1)).next.id, String(all));
    assert.equal(schedules(S).length, 2, 'one message per site, even when it was invited before and after');
    // Deleted: the city's room moves on to the city-wide meeting.
    assert.equal((await api.del(`/conferences/${own}`)).status, 200);
    assert.equal((await nextSchedule(P, 2)).next.id, String(all));
    assert.equal(schedules(S).length, 2, 'the ward was not invited to it');

    // Started early by the operator: the invitation, then the next one after it.
    assert.equal((await api.post(`/conferences/${all}/start`)).status, 200);
    const afterStart = await nextSchedule(S, 2);
    assert.equal(afterStart.next.id, String(perm), 'only the permanent conference is left for the ward');
    assert.equal(afterStart.next.start_at, null);
    assert.ok(S.events.findIndex((e) => e.type === 'invite') < S.events.indexOf(afterStart));
    assert.equal((await nextSchedule(P, 3)).next.id, String(soon));

    // GET /sites: in the conference, idle, offline.
    await until(() => S.status === 'joined' && P.status === 'joined', 10000, 'joined');
    let list = (await api.get('/sites?unit=883&subtree=true')).json.sites;
    const row = (c) => list.find((x) => x.id === c.site);
    assert.deepEqual([row(ward).state, row(ward).conference, row(ward).online], ['in_conference', String(all), true]);
    assert.deepEqual([row(idle).state, row(idle).conference], ['idle', null]);
    const never = creds.find((c) => c.unit === '30286');
    assert.deepEqual([row(never).state, row(never).online, row(never).last_seen], ['offline', false, null]);
    assert.ok(row(idle).last_seen >= t0, 'online: seen now');

    // The ward's room goes away: its last-seen time is when it left.
    S.close();
    const left = Date.now();
    await until(async () => (await api.get(`/sites/${ward.site}`)).json.site.state === 'offline', 5000, 'offline');
    const one = (await api.get(`/sites/${ward.site}`)).json.site;
    assert.equal(one.online, false);
    assert.equal(one.conference, null);
    assert.ok(one.last_seen >= left - 50 && one.last_seen <= Date.now(), `last_seen ${one.last_seen}`);
    assert.equal((await api.post(`/conferences/${all}/end`)).status, 200);

    // The scheduler's own start: a meeting in 1.5 s for the idle room, which then moves on.
    const n = schedules(I).length;
    const quick = await mk({ title: 'Họp nhanh', host_unit: '883', invite: { units: ['30283'] },
      schedule: { start: Date.now() + 1500, end: Date.now() + hour } });
    assert.equal((await nextSchedule(I, n)).next.id, String(quick));
    await I.waitFor('invite', (e) => e.conference.id === String(quick));
    assert.equal((await nextSchedule(I, n + 1)).next.id, String(perm));

    // Kept in the database: after a restart, the ward's room was last seen when it left.
    for (const s of sites) s.close();
    const res = await stopServer(srv, 5000, { keepDir: true });
    assert.equal(sanitizerReport(srv.stderr), null);
    assert.equal(res.code, 0);
    srv = await startServer({ dir: srv.dir, port: srv.port, env: { MCU_ADMIN_PASSWORD: PASSWORD },
      args: ['--units-file', UNITS, '--test-conferences', 'false'] });
    api = new Api(srv.base);
    await api.login('admin', PASSWORD);
    list = (await api.get('/sites?unit=883&subtree=true')).json.sites;
    assert.equal(row(ward).last_seen, one.last_seen);
    assert.equal(row(ward).state, 'offline');
    assert.ok(row(city).last_seen >= left, 'the rooms still connected at the stop were seen then');
  } finally {
    for (const s of sites) s.close();
    const res = await stopServer(srv);
    assert.equal(sanitizerReport(srv.stderr), null);
    assert.equal(res.code, 0);
  }
});
