// Scoped authorization, as a matrix: every route of the admin API (and `watch` on the admin
// events socket) × the roles admin, operator and viewer of district 883 (Long Xuyên) × four
// scopes: objects of 883 itself, of a commune below it (child), of the sibling district 884
// and of the parent province 89. A cell is allowed when the role reaches the route's minimum
// role and the object is in 883's subtree; it then gets its success status. Every other cell
// gets 403 `forbidden` (no route answers 404 to hide that an object exists: ids are sequential
// and a 404 only means there is no such object), is audited once, and changes nothing: the
// national admin's lists of conferences, sites, users and recordings, and the object touched,
// are the same before and after. Lists are not refused but filtered to the subtree, and a
// scoped admin's audit log holds only its subtree's entries.
// Then the site protocol: a site cannot join a conference that does not invite it, a PIN is
// needed where set, a second sign-in replaces the first, a wrong credential is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stopServer, sanitizerReport } from './lib.mjs';
import { OFFER, PASSWORD, Site, roomsServer, until } from './rooms_lib.mjs';
import { ScopeApi, assertUnchanged, snapshot, watch } from './scope_lib.mjs';

const PW = 'Long-Xuyen-2026';
const ROLES = ['viewer', 'operator', 'admin'];
const RANK = { viewer: 1, operator: 2, admin: 3 };
const SCOPES = ['own', 'child', 'sibling', 'parent'];
const REACH = ['own', 'child'];

const inSub = (c, unit) => c.sub.has(unit);
const allIn = (c, list, key) => list.every((o) => inSub(c, o[key]));
// The national list, narrowed to the subtree, as ids: what a list of 883 must show.
const subIds = async (c, p, name, key) =>
  (await c.api.get(p)).json[name].filter((o) => inSub(c, o[key])).map((o) => o.id);

// Routes that act on one object or unit: [route, minimum role, the request for scope c.k,
// options]. c.unit is the scope's unit and c.fx its shared objects; c.obj(kind) is the object
// a cell acts on: a new one when the cell is to succeed (so the shared ones never change),
// else the shared one. Options: ok (the success status, 200), reach (the scopes that may,
// own and child), check (more about a successful answer).
const SCOPED = [
  ['GET /units?parent={unit}', 'viewer', (c) => ['GET', `/units?parent=${c.unit}`], {
    // The parent is allowed on purpose (the panel draws where the account's unit hangs), but
    // lists nothing outside the subtree: only 883 itself.
    reach: ['own', 'child', 'parent'],
    check: (r, c) => assert.ok(c.k === 'parent' ? r.json.units.map((u) => u.id).join() === '883' : allIn(c, r.json.units, 'id')) }],
  ['GET /units/{id}', 'viewer', (c) => ['GET', `/units/${c.unit}`]],
  ['GET /sites?unit={unit}', 'viewer', (c) => ['GET', `/sites?unit=${c.unit}`],
    { check: (r, c) => assert.ok(r.json.sites.length > 0 && allIn(c, r.json.sites, 'unit')) }],
  ['POST /sites', 'admin', (c) => ['POST', '/sites', { unit: c.unit, name: `Điểm cầu mới ${c.tag}` }], { ok: 201 }],
  ['POST /sites/provision', 'admin', (c) => ['POST', '/sites/provision', { unit: c.unit, subtree: true }], { ok: 201 }],
  ['GET /sites/{id}', 'viewer', (c) => ['GET', `/sites/${c.fx.site}`]],
  ['PATCH /sites/{id}', 'admin', async (c) => ['PATCH', `/sites/${await c.obj('site')}`, { name: `Đổi tên ${c.tag}` }]],
  ['DELETE /sites/{id}', 'admin', async (c) => ['DELETE', `/sites/${await c.obj('site')}`]],
  ['POST /sites/{id}/credential', 'admin', async (c) => ['POST', `/sites/${await c.obj('site')}/credential`, {}],
    { check: (r) => assert.ok(r.json.secret) }],
  ['POST /users', 'admin', (c) => ['POST', '/users', { username: `new-${c.tag}`, password: PW, role: 'viewer', unit: c.unit }],
    { ok: 201 }],
  ['PATCH /users/{id}', 'admin', async (c) => ['PATCH', `/users/${await c.obj('user')}`, { role: 'operator' }]],
  ['DELETE /users/{id}', 'admin', async (c) => ['DELETE', `/users/${await c.obj('user')}`]],
  ['POST /conferences', 'operator', (c) => ['POST', '/conferences', { title: `Họp mới ${c.tag}`, host_unit: c.unit }],
    { ok: 201 }],
  ['GET /conferences/{id}', 'viewer', (c) => ['GET', `/conferences/${c.fx.live}`]],
  ['PATCH /conferences/{id}', 'operator', async (c) => ['PATCH', `/conferences/${await c.obj('sched')}`, { title: `Đổi ${c.tag}` }]],
  ['DELETE /conferences/{id}', 'operator', async (c) => ['DELETE', `/conferences/${await c.obj('sched')}`]],
  ['POST /conferences/{id}/start', 'operator', async (c) => ['POST', `/conferences/${await c.obj('sched')}/start`]],
  ['POST /conferences/{id}/end', 'operator', async (c) => ['POST', `/conferences/${await c.obj('live')}/end`]],
  ['POST /conferences/{id}/control', 'operator', async (c) => ['POST', `/conferences/${await c.obj('live')}/control`, { action: 'lock' }],
    { check: (r) => assert.equal(r.json.live.locked, true) }],
  ['GET /conferences/{id}/roster', 'viewer', (c) => ['GET', `/conferences/${c.fx.live}/roster`]],
  ['GET /conferences/{id}/attendance', 'viewer', (c) => ['GET', `/conferences/${c.fx.live}/attendance?format=csv`],
    { check: (r) => assert.match(r.text, /^site,name,unit/) }],
  ['GET /conferences/{id}/rollcall', 'viewer', (c) => ['GET', `/conferences/${c.fx.live}/rollcall`]],
  ['GET /recordings/{id}', 'viewer', (c) => ['GET', `/recordings/${c.fx.rec}`]],
  ['GET /recordings/{id}/file', 'admin', (c) => ['GET', `/recordings/${c.fx.rec}/file`],
    { check: (r) => assert.ok(r.headers.get('content-type') === 'video/webm' && r.text.length > 0) }],
  ['DELETE /recordings/{id}', 'admin', async (c) => ['DELETE', `/recordings/${await c.obj('rec')}`]],
  ['GET /monitoring/units/{id}', 'viewer', (c) => ['GET', `/monitoring/units/${c.unit}`]],
  ['events: watch', 'viewer', (c) => ['WATCH', c.fx.live]],
];

// Routes with no object: lists, filtered to the caller's subtree rather than refused.
const LISTS = [
  ['GET /units', 'viewer', () => ['GET', '/units'],
    { check: (r, c) => assert.ok(r.json.units.length === c.sub.size && allIn(c, r.json.units, 'id')) }],
  ['GET /sites', 'viewer', () => ['GET', '/sites'],
    { check: async (r, c) => assert.deepEqual(r.json.sites.map((s) => s.id), await subIds(c, '/sites', 'sites', 'unit')) }],
  ['GET /users', 'admin', () => ['GET', '/users'],
    { check: async (r, c) => assert.deepEqual(r.json.users.map((s) => s.id), await subIds(c, '/users', 'users', 'unit')) }],
  ['GET /conferences', 'viewer', () => ['GET', '/conferences'],
    { check: async (r, c) => assert.deepEqual(r.json.conferences.map((s) => s.id), await subIds(c, '/conferences', 'conferences', 'host_unit')) }],
  ['GET /recordings', 'viewer', () => ['GET', '/recordings'],
    { check: async (r, c) => assert.deepEqual(r.json.recordings.map((s) => s.id), await subIds(c, '/recordings', 'recordings', 'host_unit')) }],
  // A sibling's conference gives an empty list, not a refusal.
  ['GET /recordings?conference={sibling}', 'viewer', (c) => ['GET', `/recordings?conference=${c.fxs.sibling.live}`],
    { check: (r) => assert.equal(r.json.recordings.length, 0) }],
  ['GET /monitoring/alarms', 'viewer', () => ['GET', '/monitoring/alarms'],
    { check: (r, c) => assert.ok(allIn(c, r.json.alarms, 'unit')) }],
  ['GET /audit', 'admin', () => ['GET', '/audit?limit=1000'], { check: checkAudit }],
];

// A scoped admin's audit log: entries of its subtree only, the newest first, the same as the
// national log narrowed to the subtree.
async function checkAudit(r, c) {
  const mine = r.json.entries;
  assert.ok(mine.length > 0 && allIn(c, mine, 'unit'), 'audit entries of the subtree only');
  const all = (await c.api.get('/audit?limit=1000')).json.entries.filter((e) => inSub(c, e.unit));
  const n = Math.min(mine.length, all.length);
  assert.deepEqual(mine.slice(0, n).map((e) => e.id), all.slice(0, n).map((e) => e.id));
}

const objectOf = (method, p) => method === 'WATCH' ? `/conferences/${p}`
  : p.match(/^\/(conferences|sites|recordings)\/\d+/)?.[0] ?? null;

async function created(r, what) {
  assert.equal(r.status, 201, `${what}: ${r.text}`);
  return r.json;
}

// The shared objects of each scope, and makers of new ones, all made by the national admin.
async function fixtures(api, units) {
  let n = 0;
  const fresh = {
    site: async (k) => (await created(await api.post('/sites', { unit: units[k], name: `Điểm cầu ${++n}` }), 'site')).site.id,
    user: async (k) => (await created(await api.post('/users', { username: `fx-${++n}`, password: PW, role: 'viewer', unit: units[k] }), 'user')).user.id,
    sched: async (k) => (await created(await api.post('/conferences', { title: `Họp ${++n}`, host_unit: units[k] }), 'conference')).conference.id,
    live: async (k) => {
      const id = await fresh.sched(k);
      assert.equal((await api.post(`/conferences/${id}/start`)).status, 200);
      return id;
    },
    // A short recording (no file) of the scope's live conference.
    rec: async (k) => {
      const r = await api.post(`/conferences/${fxs[k].live}/control`, { action: 'record_start' });
      assert.equal(r.status, 200, r.text);
      assert.equal((await api.post(`/conferences/${fxs[k].live}/control`, { action: 'record_stop' })).status, 200);
      const id = r.json.live.recording.id;
      await until(async () => (await api.get(`/recordings/${id}`)).json.recording.state === 'done', 10000, 'recording done');
      return id;
    },
  };
  const fxs = {};
  for (const k of SCOPES) {
    const s = await created(await api.post('/sites', { unit: units[k], name: `Phòng họp ${units[k]}` }), 'site');
    const live = (await created(await api.post('/conferences', { title: `Họp ${k}`, host_unit: units[k],
      invite: { own: true, subtree: true }, chair_site: s.site.id }), 'conference')).conference.id;
    assert.equal((await api.post(`/conferences/${live}/start`)).status, 200);
    fxs[k] = { unit: units[k], site: s.site.id, secret: s.secret, live, sched: await fresh.sched(k), user: await fresh.user(k) };
  }
  // A recording with a file for each scope: the mix is written once 4 s of it have come.
  for (const k of SCOPES)
    assert.equal((await api.post(`/conferences/${fxs[k].live}/control`, { action: 'record_start' })).status, 200);
  const rec = async (k) => (await api.get(`/conferences/${fxs[k].live}`)).json.conference.live.recording;
  await until(async () => (await Promise.all(SCOPES.map(rec))).every((x) => x.bytes > 0), 15000, 'recordings with a file');
  for (const k of SCOPES) {
    fxs[k].rec = (await rec(k)).id;
    assert.equal((await api.post(`/conferences/${fxs[k].live}/control`, { action: 'record_stop' })).status, 200);
  }
  await until(async () => (await api.get('/recordings')).json.recordings.every((x) => x.state === 'done'), 10000, 'recordings done');
  return { fxs, fresh };
}

// One cell: the row's request by the role's account on scope k (null for a list). Allowed:
// the success status. Refused: 403 `forbidden`, audited once, and nothing else changed.
// m.last keeps the snapshot after a refusal, the "before" of the next one on the same object.
async function cell(m, [route, min, req, opt = {}], role, k) {
  const allowed = RANK[role] >= RANK[min] && (!k || (opt.reach ?? REACH).includes(k));
  const c = { k, unit: m.units[k], fx: m.fxs[k], fxs: m.fxs, sub: m.sub, api: m.api, tag: `${role}-${k ?? 'all'}`,
    obj: (kind) => allowed ? m.fresh[kind](k) : m.fxs[k][kind] };
  const [method, p, body] = await req(c);
  const label = `${route} as ${role}${k ? ` on ${k}` : ''}`;
  const objPath = objectOf(method, p);
  const before = allowed ? null : m.last?.objPath === objPath ? m.last.snap : await snapshot(m.api, objPath);
  const who = m.actor[role];
  const r = method === 'WATCH' ? await watch(m.srv, who.token, p) : await who.call(method, p, body);
  m.counts[allowed ? 'allowed' : 'refused']++;
  if (allowed) {
    m.last = null;
    assert.equal(r.status, opt.ok ?? 200, `${label}: ${r.status} ${r.text.slice(0, 300)}`);
    await opt.check?.(r, c);
    return;
  }
  assert.equal(r.status, 403, `${label}: ${r.status} ${r.text.slice(0, 300)}`);
  assert.equal(r.json.error.code, 'forbidden', label);
  const after = await snapshot(m.api, objPath);
  assertUnchanged(before, after, `${role}883`, label);
  m.last = { objPath, snap: after };
}

test('roles × scopes: every route allows exactly its role within the subtree; a refusal changes nothing', { timeout: 120000 }, async () => {
  const srv = await roomsServer();
  const api = new ScopeApi(srv.base);
  await api.login('admin', PASSWORD);
  const site = [];
  try {
    const children = (await api.get('/units?parent=883')).json.units.map((u) => u.id);
    const units = { own: '883', child: children[0], sibling: '884', parent: '89' };
    const sub = new Set(['883', ...children]);
    const { fxs, fresh } = await fixtures(api, units);
    const actor = {};
    for (const role of ROLES) {
      await created(await api.post('/users', { username: `${role}883`, password: PW, role, unit: '883' }), role);
      actor[role] = new ScopeApi(srv.base);
      await actor[role].login(`${role}883`, PW);
    }

    const m = { srv, api, actor, units, sub, fxs, fresh, last: null, counts: { allowed: 0, refused: 0 } };
    const t0 = Date.now();
    for (const row of SCOPED)
      for (const role of ROLES)
        for (const k of SCOPES) await cell(m, row, role, k);
    for (const row of LISTS)
      for (const role of ROLES) await cell(m, row, role, null);
    console.log(`matrix: ${SCOPED.length} routes × ${ROLES.length} roles × ${SCOPES.length} scopes + ${LISTS.length} lists × ${ROLES.length} roles:`
      + ` ${m.counts.allowed} allowed, ${m.counts.refused} refused, ${Date.now() - t0} ms`);

    // No wider scope can be handed out or reached, by creating, changing or deleting an account.
    const adm = actor.admin, op = actor.operator;
    const own = fxs.own.user;
    const usersBefore = await snapshot(api, null);
    for (const [what, r] of [
      ['a national account', await adm.post('/users', { username: 'national', password: PW, role: 'admin', unit: null })],
      ['an account moved to national', await adm.patch(`/users/${own}`, { unit: null })],
      ['an account moved to the sibling', await adm.patch(`/users/${own}`, { unit: '884' })],
      ['the national admin changed', await adm.patch('/users/1', { role: 'viewer' })],
      ['the national admin deleted', await adm.del('/users/1')],
    ]) assert.equal(r.status, 403, `${what}: ${r.status} ${r.text}`);
    assert.deepEqual((await snapshot(api, null)).state, usersBefore.state);
    // Invitations stop at the host's subtree.
    assert.equal((await op.post('/conferences', { title: 'x', host_unit: '883', invite: { units: ['884'] } })).status, 400);

    // No refused credential rotation took: each scope's room signs in with its first secret.
    for (const k of SCOPES) {
      const s = new Site(`ws://127.0.0.1:${srv.port}/ws`, { site: fxs[k].site, secret: fxs[k].secret }, { autoJoin: false, reconnect: false });
      site.push(s);
      s.connect();
      await s.waitFor('signedin');
    }
    const stranger = site[SCOPES.indexOf('sibling')];

    // A site joins only conferences that invite it.
    stranger.join(String(fxs.own.live));
    assert.equal((await stranger.waitFor('error', (m) => m.id === 'j')).code, 'not_invited');

    // A conference with a PIN: joining needs it.
    const pinned = await created(await api.post('/conferences', { title: 'Họp kín', host_unit: '884', pin: '2468',
      invite: { own: true } }), 'pinned conference');
    assert.equal(pinned.conference.pin, true);
    const pid = String(pinned.conference.id);
    await api.post(`/conferences/${pid}/start`);
    await stranger.waitFor('invite', (m) => m.conference.id === pid);
    for (const [pin, want] of [[undefined, 'bad_pin'], ['1357', 'bad_pin'], ['2468', 'answer']]) {
      stranger.send({ type: 'join', conference: pid, sdp: OFFER, pin, id: `p${pin}` });
      const m = await until(() => stranger.events.find((e) => e.id === `p${pin}`), 5000, 'pin reply');
      assert.equal(m.type === 'error' ? m.code : m.type, want);
    }
    // The same room signing in again elsewhere takes over; the old connection is told why.
    const twin = new Site(`ws://127.0.0.1:${srv.port}/ws`, { site: fxs.sibling.site, secret: fxs.sibling.secret },
      { autoJoin: false, reconnect: false });
    site.push(twin);
    twin.connect();
    await twin.waitFor('signedin');
    assert.equal((await stranger.waitFor('error', (m) => m.code === 'replaced')).code, 'replaced');

    // A wrong credential is refused.
    const bad = new Site(`ws://127.0.0.1:${srv.port}/ws`, { site: fxs.own.site, secret: 'wrong' }, { reconnect: false });
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
