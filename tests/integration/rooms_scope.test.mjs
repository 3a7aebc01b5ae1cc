// Scoped authorization: accounts of district 883 (Long Xuyên) against conferences and sites
// of their own unit, a child commune, a sibling district (884) and the parent province. Every
// refused request gets 403 and changes nothing; a site cannot join a conference that does not
// invite it; the admin events socket will not watch another district's conference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { stopServer, sanitizerReport } from './lib.mjs';
import { Api, OFFER, Site, roomsServer, until } from './rooms_lib.mjs';

async function watch(srv, token, conference) {
  const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/api/v1/events?token=${token}`);
  const msg = await new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => ws.send(JSON.stringify({ type: 'watch', conference: String(conference), id: 1 })));
    ws.once('message', (d) => resolve(JSON.parse(d.toString())));
  });
  ws.close();
  return msg;
}

test('an operator scoped to one district reaches only its subtree', { timeout: 60000 }, async () => {
  const srv = await roomsServer();
  const { api } = srv;
  const site = [];
  try {
    const sites = (await api.post('/sites/provision', { unit: '89', subtree: true })).json.sites;
    const siteOf = (unit) => sites.find((s) => s.unit === unit);
    const child = (await api.get('/units?parent=883')).json.units[0].id;
    const hosts = { own: '883', child, sibling: '884', parent: '89' };
    const conf = {};
    for (const [k, unit] of Object.entries(hosts)) {
      const r = await api.post('/conferences', { title: `Họp ${k}`, host_unit: unit, invite: { own: true, subtree: true },
        chair_site: siteOf(unit).site });
      assert.equal(r.status, 201, r.text);
      conf[k] = r.json.conference.id;
      assert.equal((await api.post(`/conferences/${conf[k]}/start`)).status, 200);
    }
    for (const [role, name] of [['operator', 'op883'], ['viewer', 'view883'], ['admin', 'adm883']]) {
      const r = await api.post('/users', { username: name, password: 'Long-Xuyen-2026', role, unit: '883' });
      assert.equal(r.status, 201, r.text);
    }
    const op = new Api(srv.base), viewer = new Api(srv.base), adm = new Api(srv.base);
    await op.login('op883', 'Long-Xuyen-2026');
    await viewer.login('view883', 'Long-Xuyen-2026');
    await adm.login('adm883', 'Long-Xuyen-2026');

    // Listing shows only the subtree.
    const listed = (await op.get('/conferences')).json.conferences.map((c) => c.id).sort();
    assert.deepEqual(listed, [conf.own, conf.child].sort());
    const listedSites = (await op.get('/sites')).json.sites;
    assert.ok(listedSites.length === 13 && listedSites.every((s) => s.unit === '883' || s.unit.length === 5));
    assert.equal((await op.get('/units')).json.units.length, 13);

    // A site joins only conferences that invite it.
    const stranger = new Site(`ws://127.0.0.1:${srv.port}/ws`, siteOf('884'), { autoJoin: false, reconnect: false });
    site.push(stranger);
    stranger.connect();
    await stranger.waitFor('signedin');
    stranger.join(String(conf.own));
    const e = await stranger.waitFor('error', (m) => m.id === 'j');
    assert.equal(e.code, 'not_invited');

    // The matrix: own and child allowed, sibling and parent refused.
    const allowed = { own: true, child: true, sibling: false, parent: false };
    for (const [k, ok] of Object.entries(allowed)) {
      const id = conf[k], unit = hosts[k], s = siteOf(unit);
      const before = (await api.get(`/conferences/${id}/roster`)).json;
      const checks = [
        ['viewer reads the conference', viewer, 'GET', `/conferences/${id}`, undefined, ok ? 200 : 403],
        ['operator reads the roster', op, 'GET', `/conferences/${id}/roster`, undefined, ok ? 200 : 403],
        ['operator exports attendance', op, 'GET', `/conferences/${id}/attendance?format=csv`, undefined, ok ? 200 : 403],
        ['operator mutes a site', op, 'POST', `/conferences/${id}/control`, { action: 'mute', site: s.site }, ok ? 200 : 403],
        ['viewer cannot control even its own', viewer, 'POST', `/conferences/${id}/control`, { action: 'lock' }, 403],
        ['operator reads a site', op, 'GET', `/sites/${s.site}`, undefined, ok ? 200 : 403],
        ['operator cannot rotate credentials', op, 'POST', `/sites/${s.site}/credential`, {}, 403],
        ['scoped admin renames a site', adm, 'PATCH', `/sites/${s.site}`, { name: `Phòng họp ${unit}` }, ok ? 200 : 403],
        ['operator creates a conference there', op, 'POST', '/conferences', { title: 'x', host_unit: unit }, ok ? 201 : 403],
        ['scoped admin creates a user there', adm, 'POST', '/users', { username: `u${k}`, password: 'Long-Xuyen-2026', role: 'viewer', unit }, ok ? 201 : 403],
      ];
      for (const [what, who, method, p, body, want] of checks) {
        const r = await who.call(method, p, body);
        assert.equal(r.status, want, `${k}: ${what}: ${r.status} ${r.text}`);
        if (r.status === 403) assert.equal(r.json.error.code, 'forbidden');
      }
      // Refused requests changed nothing.
      const after = (await api.get(`/conferences/${id}/roster`)).json;
      const mutedBefore = before.sites.find((x) => x.site === s.site).muted;
      assert.equal(after.sites.find((x) => x.site === s.site).muted, ok ? true : mutedBefore);
      assert.equal(after.live.locked, false);
      if (!ok) assert.notEqual((await api.get(`/sites/${s.site}`)).json.site.name, `Phòng họp ${unit}`);
      // Start/end and watching follow the same rule.
      const end = await op.post(`/conferences/${id}/end`);
      assert.equal(end.status, ok ? 200 : 403);
      assert.equal((await api.get(`/conferences/${id}`)).json.conference.state, ok ? 'ended' : 'live');
      const w = await watch(srv, op.token, id);
      assert.equal(w.type, ok ? 'watching' : 'error');
      if (!ok) assert.equal(w.code, 'forbidden');
    }
    // No wider scope can be handed out, and no account outside the subtree is visible.
    assert.equal((await adm.post('/users', { username: 'national', password: 'Long-Xuyen-2026', role: 'admin', unit: null })).status, 403);
    assert.ok((await adm.get('/users')).json.users.every((u) => u.unit === '883' || u.unit?.length === 5));
    assert.equal((await op.post('/conferences', { title: 'x', host_unit: '883', invite: { units: ['884'] } })).status, 400);
    const audit = (await api.get('/audit?limit=1000')).json.entries;
    assert.ok(audit.some((e) => e.actor === 'op883' && e.result === 'forbidden'));

    // A conference with a PIN: joining needs it.
    const pinned = await api.post('/conferences', { title: 'Họp kín', host_unit: '884', pin: '2468',
      invite: { own: true } });
    assert.equal(pinned.status, 201, pinned.text);
    assert.equal(pinned.json.conference.pin, true);
    await api.post(`/conferences/${pinned.json.conference.id}/start`);
    const pid = String(pinned.json.conference.id);
    await stranger.waitFor('invite', (m) => m.conference.id === pid);
    for (const [pin, want] of [[undefined, 'bad_pin'], ['1357', 'bad_pin'], ['2468', 'answer']]) {
      stranger.send({ type: 'join', conference: pid, sdp: OFFER, pin, id: `p${pin}` });
      const m = await until(() => stranger.events.find((e) => e.id === `p${pin}`), 5000, 'pin reply');
      assert.equal(m.type === 'error' ? m.code : m.type, want);
    }
    // The same room signing in again elsewhere takes over; the old connection is told why.
    const twin = new Site(`ws://127.0.0.1:${srv.port}/ws`, siteOf('884'), { autoJoin: false, reconnect: false });
    site.push(twin);
    twin.connect();
    await twin.waitFor('signedin');
    assert.equal((await stranger.waitFor('error', (m) => m.code === 'replaced')).code, 'replaced');

    // A wrong credential is refused.
    const bad = new Site(`ws://127.0.0.1:${srv.port}/ws`, { site: siteOf('883').site, secret: 'wrong' }, { reconnect: false });
    site.push(bad);
    bad.connect();
    assert.equal((await bad.waitFor('error')).code, 'bad_credentials');
  } finally {
    for (const s of site) s.close();
    const res = await stopServer(srv);
    assert.equal(sanitizerReport(srv.stderr), null);
    assert.equal(res.code, 0);
  }
});
