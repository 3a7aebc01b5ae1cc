// The chair's view modes on a district conference of 13 rooms: tour (main cycles through the
// chosen sites), lecture (everyone sees the chair, the chair sees the sites in turn),
// broadcast (one site is main for all), voice switching back, and the chair token handed to
// another site, which may then control while the old chair may not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stopServer, sanitizerReport } from './lib.mjs';
import { Site, until, roomsServer } from './rooms_lib.mjs';

test('tour, lecture, broadcast, voice switching, chair transfer', { timeout: 60000 }, async () => {
  const srv = await roomsServer();
  const { api } = srv;
  const sites = [];
  try {
    const creds = (await api.post('/sites/provision', { unit: '883', subtree: true })).json.sites;
    const chair = creds.find((c) => c.unit === '883').site;
    const cid = (await api.post('/conferences', { title: 'Giao ban', host_unit: '883', invite: { own: true, subtree: true },
      chair_site: chair })).json.conference.id;
    await api.post(`/conferences/${cid}/start`);
    for (const c of creds) { const s = new Site(`ws://127.0.0.1:${srv.port}/ws`, c); sites.push(s); s.connect(); }
    await until(() => sites.every((s) => s.status === 'joined'), 15000, 'all joined');
    const live = async () => (await api.get(`/conferences/${cid}/roster`)).json.live;
    const control = async (body) => {
      const r = await api.post(`/conferences/${cid}/control`, body);
      assert.equal(r.status, 200, r.text);
      return r.json.live;
    };

    // Voice switching with nobody speaking: main is the chair.
    assert.equal((await live()).mode, 'voice');
    assert.equal((await live()).main, chair);

    // Tour over three sites, 0.3 s each: main visits each of them, in order, and wraps.
    const tour = [creds[2].site, creds[5].site, creds[9].site];
    await control({ action: 'tour_start', sites: tour, seconds: 0.3 });
    const seen = [];
    await until(async () => {
      const m = (await live()).main;
      if (seen[seen.length - 1] !== m) seen.push(m);
      return seen.length >= 5;
    }, 5000, 'tour steps');
    for (let i = 1; i < seen.length; i++) assert.equal(tour.indexOf(seen[i]), (tour.indexOf(seen[i - 1]) + 1) % 3);
    await control({ action: 'tour_stop' });
    assert.equal((await live()).mode, 'voice');

    // Lecture: the sites see the chair, the chair sees the other joined sites in turn.
    const l0 = await control({ action: 'lecture', seconds: 0.2 });
    assert.equal(l0.mode, 'lecture');
    assert.equal(l0.main, chair);
    const views = new Set();
    await until(async () => { views.add((await live()).chair_main); return views.size >= 4; }, 5000, 'lecture views');
    assert.ok(![...views].includes(chair), 'the chair never sees itself');

    // Broadcast a site: main for everyone; the sites are told.
    const star = creds[7].site;
    await control({ action: 'broadcast', site: star });
    await sites[3].waitFor('conference', (e) => e.conference.main === star && e.conference.mode === 'broadcast');
    await control({ action: 'voice_switching' });
    assert.equal((await live()).main, chair);

    // The chair token moves: the new chair may control from its room, the old one not.
    const next = sites.find((s) => s.id === creds[4].site), old = sites.find((s) => s.id === chair);
    await control({ action: 'transfer_chair', site: next.id });
    assert.equal((await live()).chair, next.id);
    assert.equal((await old.ask({ type: 'control', action: 'lock' })).code, 'not_chair');
    assert.equal((await next.ask({ type: 'control', action: 'lock' })).type, 'ok');
    assert.equal((await live()).locked, true);
    // Bad requests change nothing.
    for (const body of [{ action: 'warp' }, { action: 'tour_start', seconds: 0 }, { action: 'mute', site: 999999 },
      { action: 'grant_floor' }, { action: 'rollcall_confirm' }]) {
      const r = await api.post(`/conferences/${cid}/control`, body);
      assert.ok(r.status >= 400 && r.status < 500, `${JSON.stringify(body)} -> ${r.status}`);
      assert.ok(r.json.error.code);
    }
    const after = await live();
    assert.equal(after.mode, 'voice');
    assert.equal(after.chair, next.id);
  } finally {
    for (const s of sites) s.close();
    const res = await stopServer(srv);
    assert.equal(sanitizerReport(srv.stderr), null);
    assert.equal(res.code, 0);
  }
});
