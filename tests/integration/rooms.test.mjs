// Rooms over real HTTP and WebSockets: An Giang imported with the CLI, one site per unit
// provisioned through the API, a scheduled province conference that the 167 idle sites join
// by themselves, the request-to-speak queue and the floor, roll call with its export, lock,
// remove and call-absent, a dropped site that rejoins, the end warning and the scheduled end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { MCU_BIN, stopServer, sanitizerReport } from './lib.mjs';
import { Site, until, roomsServer, UNITS } from './rooms_lib.mjs';

test('province conference: sites join by themselves, floor, roll call, lock, drop, scheduled end', { timeout: 120000 }, async () => {
  const srv = await roomsServer({ args: ['--end-warning-s', '4'] });
  const { api } = srv;
  const sites = [];
  try {
    assert.match(srv.importOut, /1 province \(11 districts, 155 communes\): 167 units new/);
    const units = await api.get('/units');
    assert.equal(units.json.units.length, 167);
    // Re-importing changes nothing.
    const again = execFileSync(MCU_BIN, ['import-units', '--db', path.join(srv.dir, 'mcu.db'), '--units-file', UNITS, '89'], { encoding: 'utf8' });
    assert.match(again, /0 units new, 0 updated, 167 in the database/);

    const prov = await api.post('/sites/provision', { unit: '89', subtree: true });
    assert.equal(prov.status, 201);
    const creds = prov.json.sites;
    assert.equal(creds.length, 167);
    const byUnit = Object.fromEntries(creds.map((c) => [c.unit, c]));
    const chair = byUnit['89'];
    const communes = (await api.get('/units?level=3')).json.units.map((u) => byUnit[u.id]);
    const commune = communes[10], other = communes[20];
    const latecomer = communes[150]; // stays away until the conference is locked

    const start = Date.now() + 3000;
    const conf = await api.post('/conferences', {
      title: 'Họp giao ban tháng 11', host_unit: '89', invite: { own: true, levels: [2, 3] },
      schedule: { start, end: start + 45000 }, chair_site: chair.site,
    });
    assert.equal(conf.status, 201, conf.text);
    assert.equal(conf.json.conference.invited, 167);
    assert.equal(conf.json.conference.state, 'scheduled');
    const cid = String(conf.json.conference.id);

    // Every site connects and waits idle before the start.
    const url = `ws://127.0.0.1:${srv.port}/ws`;
    for (const c of creds) if (c !== latecomer) { const s = new Site(url, c); sites.push(s); s.connect(); }
    await until(() => sites.every((s) => s.status === 'idle'), 20000, 'all sites signed in');
    assert.ok(sites.every((s) => s.joins === 0), 'nobody joins before the start');

    // At the start time every invited site is invited and joins by itself.
    await until(() => sites.every((s) => s.status === 'joined'), 20000, 'all sites joined');
    assert.ok(Date.now() >= start);
    let roster = await api.get(`/conferences/${cid}/roster`);
    assert.equal(roster.json.sites.filter((s) => s.status === 'joined').length, 166);
    assert.equal(roster.json.sites.find((s) => s.site === latecomer.site).status, 'offline');
    assert.equal(roster.json.live.chair, chair.site);

    const S = (cred) => sites.find((s) => s.id === cred.site);
    // A commune raises its hand; the chair (from its room) grants the floor.
    const ch = S(chair), cm = S(commune);
    assert.equal((await cm.ask({ type: 'hand', raised: true })).type, 'ok');
    await ch.waitFor('conference', (e) => e.conference.hands.includes(commune.site));
    // Only the chair may control: a commune's attempt is refused and changes nothing.
    const refused = await S(other).ask({ type: 'control', action: 'mute_all_except_chair' });
    assert.equal(refused.code, 'not_chair');
    assert.equal((await ch.ask({ type: 'control', action: 'mute_all_except_chair' })).type, 'ok');
    await cm.waitFor('presence', (e) => e.site === commune.site && e.muted === true);
    assert.equal((await ch.ask({ type: 'control', action: 'grant_floor', site: commune.site })).type, 'ok');
    const st = await S(other).waitFor('conference', (e) => e.conference.floor === commune.site);
    assert.equal(st.conference.main, commune.site, 'the commune with the floor is main');
    assert.deepEqual(st.conference.hands, [], 'its hand is down');
    await S(other).waitFor('presence', (e) => e.site === commune.site && e.muted === false);
    roster = await api.get(`/conferences/${cid}/roster`);
    const rc = roster.json.sites.find((s) => s.site === commune.site);
    assert.equal(rc.muted, false);
    assert.equal(roster.json.sites.find((s) => s.site === other.site).muted, true);
    assert.equal(roster.json.sites.find((s) => s.site === chair.site).muted, false);
    // Revoking the floor mutes it again (mute-all still holds).
    await api.post(`/conferences/${cid}/control`, { action: 'revoke_floor' });
    await S(other).waitFor('presence', (e) => e.site === commune.site && e.muted === true);

    // Three communes leave for good before the roll call: they will be absent.
    const gone = communes.slice(100, 103).map(S);
    for (const s of gone) s.close();
    await until(async () => (await api.get(`/conferences/${cid}/roster`)).json.sites
      .filter((s) => s.status === 'offline').length === 4, 5000, 'three more sites offline');

    // Roll call: every invited site becomes main in turn; the chair confirms each.
    assert.equal((await ch.ask({ type: 'control', action: 'rollcall_start', seconds: 30 })).type, 'ok');
    const visited = new Set();
    for (let i = 0; i < 167; i++) {
      const cur = await api.get(`/conferences/${cid}/roster`);
      const r = cur.json.live.rollcall;
      assert.ok(r, `roll call still running at step ${i}`);
      assert.equal(r.index, i);
      assert.equal(cur.json.live.main, r.site, 'the visited site is main');
      visited.add(r.site);
      const reply = await api.post(`/conferences/${cid}/control`, { action: 'rollcall_confirm' });
      assert.equal(reply.status, 200, reply.text);
    }
    assert.equal(visited.size, 167);
    assert.equal((await api.get(`/conferences/${cid}/roster`)).json.live.rollcall, null);
    const csv = await api.get(`/conferences/${cid}/rollcall?format=csv`);
    assert.match(csv.headers.get('content-type'), /text\/csv/);
    const lines = csv.text.trim().split('\r\n');
    assert.equal(lines[0], 'site,name,unit,unit_name,rollcall');
    assert.equal(lines.length, 168);
    assert.equal(lines.filter((l) => l.endsWith(',present')).length, 163);
    const absent = lines.filter((l) => l.endsWith(',absent')).map((l) => Number(l.split(',')[0]));
    assert.deepEqual(absent.sort(), [...gone.map((s) => s.id), latecomer.site].sort());

    // Lock: a site that never joined is refused, a site that was in before may come back;
    // after unlock the latecomer is let in and the roll call marks both of them late.
    await api.post(`/conferences/${cid}/control`, { action: 'lock' });
    const back = new Site(url, communes[100]);
    sites.push(back);
    back.connect();
    await back.waitFor('answer');
    const late = new Site(url, latecomer, { autoJoin: false });
    sites.push(late);
    late.connect();
    await late.waitFor('invite');
    late.join(cid);
    const lockedErr = await late.waitFor('error', (e) => e.id === 'j');
    assert.equal(lockedErr.code, 'locked');
    await api.post(`/conferences/${cid}/control`, { action: 'unlock' });
    late.join(cid);
    await late.waitFor('answer');
    const json = await api.get(`/conferences/${cid}/rollcall`);
    assert.equal(json.json.rollcall.find((r) => r.site === late.id).rollcall, 'late');
    assert.equal(json.json.rollcall.find((r) => r.site === back.id).rollcall, 'late');

    // Remove a site: it is told, its session ends, and it is not invited again until the
    // operator calls the absent sites.
    const rm = S(communes[30]);
    await api.post(`/conferences/${cid}/control`, { action: 'remove', site: rm.id });
    await rm.waitFor('removed');
    const rej = await (async () => { rm.join(cid); return rm.waitFor('error', (e) => e.id === 'j' && e.code === 'removed'); })();
    assert.equal(rej.code, 'removed');
    await api.post(`/conferences/${cid}/control`, { action: 'call_absent' });
    await until(() => rm.status === 'joined' || rm.events.filter((e) => e.type === 'invite').length > 1, 5000, 'invited again');

    // A dropped site (its network goes away) reconnects with backoff and rejoins by itself.
    const drop = S(communes[40]);
    const joinsBefore = drop.joins;
    drop.drop();
    await until(() => drop.joins > joinsBefore && drop.status === 'joined', 15000, 'dropped site rejoined');

    // Attendance so far, as CSV: every invited site, with join counts.
    const att = await api.get(`/conferences/${cid}/attendance?format=csv`);
    assert.equal(att.text.trim().split('\r\n').length, 168);
    const attJson = (await api.get(`/conferences/${cid}/attendance`)).json.attendance;
    assert.ok(attJson.find((r) => r.site === drop.id).joins >= 2);

    // The warning before the scheduled end, then the end: every site is told and is idle.
    await ch.waitFor('ending', () => true, 45000);
    await ch.waitFor('ended', () => true, 10000);
    await until(() => sites.filter((s) => !s.closed).every((s) => s.status !== 'joined'), 5000,
      () => 'everyone idle: ' + JSON.stringify(sites.filter((s) => !s.closed && s.status === 'joined').map((s) => [s.id, s.events.slice(-4)])));
    const after = await api.get(`/conferences/${cid}`);
    assert.equal(after.json.conference.state, 'ended');
  } finally {
    for (const s of sites) s.close();
    const res = await stopServer(srv);
    assert.equal(sanitizerReport(srv.stderr), null);
    assert.equal(res.code, 0);
  }
});
