// The province conference with real media: 167 synthetic rooms from mcu-load (room mode)
// sign in with the credentials the API issued, join by themselves when the conference starts,
// and send Opus; three of them talk, each with its own signature tone. Mute-all-except-chair
// must hold in the mix: no receiver hears a muted site's tone. The floor brings one commune
// back; a room whose network drops comes back by itself; the end sends everyone idle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { ROOT, stopServer, sanitizerReport } from './lib.mjs';
import { roomsServer, until } from './rooms_lib.mjs';

const LOAD_BIN = process.env.MCU_LOAD_BIN || path.join(ROOT, 'build/mcu-load');

test('province conference with media: mute-all holds in the mix, floor, drop and rejoin', { timeout: 150000 }, async () => {
  const srv = await roomsServer();
  const { api } = srv;
  let load = null, loadErr = '';
  try {
    const prov = await api.post('/sites/provision', { unit: '89', subtree: true });
    const creds = prov.json.sites;
    assert.equal(creds.length, 167);
    const credFile = path.join(srv.dir, 'sites.json');
    writeFileSync(credFile, prov.text, { mode: 0o600 });
    const chair = creds.find((c) => c.unit === '89').site;
    const communes = creds.filter((c) => c.unit.length === 5).map((c) => c.site);
    const [a, b] = [communes[3], communes[77]];
    const listeners = [communes[120], communes[150], creds.find((c) => c.unit === '884').site];
    const conf = await api.post('/conferences', { title: 'Họp có tiếng', host_unit: '89',
      invite: { own: true, levels: [2, 3] }, chair_site: chair });
    const cid = conf.json.conference.id;

    load = spawn(LOAD_BIN, ['--url', `ws://127.0.0.1:${srv.port}/ws`, '--credentials', credFile,
      '--talker-sites', [chair, a, b].join(','), '--verify-sites', [chair, a, b, ...listeners].join(','),
      '--status-lines', '--seconds', '120', '--quiet'], { stdio: ['pipe', 'pipe', 'pipe'] });
    load.stderr.on('data', (d) => { loadErr += d; });
    const lines = [];
    let status = null;
    readline.createInterface({ input: load.stdout }).on('line', (l) => {
      const m = JSON.parse(l);
      lines.push(m);
      if (!m.event) status = m;
    });
    const why = () => `status ${JSON.stringify(status)}\n${loadErr.slice(-1500)}`;
    await until(() => status?.signed_in === 167, 30000, () => `all signed in: ${why()}`);
    assert.equal(status.media, 0, 'nobody joins before the start');
    assert.equal((await api.post(`/conferences/${cid}/start`)).status, 200);
    await until(() => status.media === 167, 40000, () => `all in media: ${why()}`);

    const heard = (s) => status.heard[String(s)] || [];
    const hears = (want) => Object.keys(status.heard).length === 6 && Object.keys(status.heard).every((s) =>
      JSON.stringify([...heard(s)].sort()) === JSON.stringify(want(Number(s)).filter((t) => t !== Number(s)).sort()));
    // Everyone hears every talker but itself.
    await until(() => hears(() => [chair, a, b]), 15000, () => `every talker heard: ${why()}`);

    // Mute all except the chair: only the chair's tone is left in every receiver's mix.
    assert.equal((await api.post(`/conferences/${cid}/control`, { action: 'mute_all_except_chair' })).status, 200);
    await until(() => hears(() => [chair]), 10000, () => `only the chair heard: ${why()}`);
    for (let i = 0; i < 3; i++) { // and it holds
      const t = status.t;
      await until(() => status.t > t, 3000, 'next status line');
      assert.ok(hears(() => [chair]), `mute-all holds: ${JSON.stringify(status.heard)}`);
    }

    // Commune A gets the floor: it is unmuted and heard again; B stays muted.
    assert.equal((await api.post(`/conferences/${cid}/control`, { action: 'grant_floor', site: a })).status, 200);
    await until(() => hears(() => [chair, a]), 10000, () => `chair and A heard: ${why()}`);
    const state = (await api.get(`/conferences/${cid}/roster`)).json.live;
    assert.equal(state.main, a);

    // A listener's network drops: it reconnects and is back in media by itself.
    const victim = listeners[0];
    const t0 = status.t;
    load.stdin.write(`drop ${victim}\n`);
    await until(() => lines.some((m) => m.event === 'media' && m.site === victim && m.t >= t0), 20000,
      () => `dropped site back: ${why()}`);
    await until(() => hears(() => [chair, a]), 10000, () => `the rejoined site hears the mix: ${why()}`);

    // The end: every room is told and goes idle, still signed in.
    assert.equal((await api.post(`/conferences/${cid}/end`)).status, 200);
    await until(() => lines.filter((m) => m.event === 'ended').length >= 167, 10000, () => `ended: ${why()}`);
    await until(() => status.media === 0 && status.signed_in === 167, 5000, () => `all idle: ${why()}`);
    load.stdin.write('quit\n');
    const code = await new Promise((r) => load.on('exit', r));
    assert.equal(code, 0, loadErr.slice(-1000));
    load = null;
    const att = (await api.get(`/conferences/${cid}/attendance`)).json.attendance;
    assert.equal(att.filter((r) => r.joins >= 1).length, 167);
    assert.ok(att.find((r) => r.site === victim).joins >= 2);
  } finally {
    if (load) load.kill('SIGKILL');
    const res = await stopServer(srv);
    assert.equal(sanitizerReport(srv.stderr), null);
    assert.equal(res.code, 0);
  }
});
