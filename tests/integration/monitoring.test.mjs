// Link-utilisation monitoring and live quality from real media. Three synthetic rooms
// (mcu-load, room mode) and one Chromium room join a province conference; the mix is sent
// at 128 kbit/s, so the commune whose link is configured at 64 kbit/s is far above 90 % in
// every 2 s sample while the others are not. The API must show samples computed from that
// traffic with the alarm, the CSV must agree, an account outside the unit's scope is
// refused, the alarm reaches the audit log and the events socket, and a watcher of the
// conference gets `quality` events; the browser, which answers our sender reports with
// receiver reports, gets a round-trip time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import WebSocket from 'ws';
import { ROOT, stopServer, sanitizerReport } from './lib.mjs';
import { Api, roomsServer, until } from './rooms_lib.mjs';
import { launchChromium } from './browser.mjs';

const LOAD_BIN = process.env.MCU_LOAD_BIN || path.join(ROOT, 'build/mcu-load');
const VIEWER_PASSWORD = 'Viewer-check-2025';

// The events socket of a signed-in account: every message kept, watching one conference.
async function eventsSocket(srv, token, conference) {
  const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/api/v1/events?token=${token}`);
  const events = [];
  ws.on('message', (d) => events.push(JSON.parse(d.toString())));
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  ws.send(JSON.stringify({ type: 'watch', conference, id: 'w' }));
  await until(() => events.find((e) => e.id === 'w'), 5000, 'watching');
  assert.equal(events.find((e) => e.id === 'w').type, 'watching');
  return { ws, events };
}

// A room in Chromium: signs in with the site's credential and joins with a real
// RTCPeerConnection (fake microphone) when invited.
async function browserSite(srv, cred) {
  const ctx = await launchChromium();
  try {
    const page = await ctx.newPage();
    await page.goto(`${srv.base}/healthz`); /* a page of the server's origin that stays put */
    await page.evaluate(async ({ url, site, secret }) => {
      const pc = new RTCPeerConnection();
      const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
      mic.getTracks().forEach((t) => pc.addTrack(t, mic));
      const ws = new WebSocket(url);
      window.room = { pc, ws, events: [] };
      ws.onmessage = async (ev) => {
        const m = JSON.parse(ev.data);
        window.room.events.push(m);
        if (m.type === 'invite') {
          await pc.setLocalDescription(await pc.createOffer());
          ws.send(JSON.stringify({ type: 'join', conference: m.conference.id, sdp: pc.localDescription.sdp, id: 'j' }));
        }
        if (m.type === 'answer') await pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
      };
      await new Promise((resolve) => { ws.onopen = resolve; });
      ws.send(JSON.stringify({ type: 'signin', site, secret, id: 's' }));
    }, { url: `ws://127.0.0.1:${srv.port}/ws`, site: cred.site, secret: cred.secret });
    return { ctx, page };
  } catch (e) {
    await ctx.cleanup();
    throw e;
  }
}

function parseCsv(text) {
  const lines = text.split('\r\n');
  assert.equal(lines.pop(), '', 'CRLF after the last line');
  const head = lines.shift().split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [head[i], v])));
}

test('utilisation samples and alarms from real media; live quality with round trip', { timeout: 90000 }, async (t) => {
  const srv = await roomsServer({ args: ['--monitor-sample-s', '2', '--mix-bitrate', '128000'] });
  const { api } = srv;
  let load = null, loadErr = '', browser = null;
  try {
    const creds = [];
    for (const unit of ['89', '883', '884', '30280']) {
      const r = await api.post('/sites/provision', { unit, subtree: false });
      assert.equal(r.status, 201, r.text);
      creds.push(...r.json.sites);
    }
    const site = (u) => creds.find((c) => c.unit === u).site;
    assert.equal((await api.patch(`/sites/${site('883')}`, { link_kbps: 64 })).status, 200);
    const credFile = path.join(srv.dir, 'sites.json');
    writeFileSync(credFile, JSON.stringify({ sites: creds.filter((c) => c.unit !== '30280') }), { mode: 0o600 });
    for (const unit of ['883', '884']) {
      const r = await api.post('/users', { username: `viewer${unit}`, password: VIEWER_PASSWORD, role: 'viewer', unit });
      assert.equal(r.status, 201, r.text);
    }
    const conf = await api.post('/conferences', { title: 'Giám sát đường truyền', host_unit: '89',
      invite: { own: true, units: ['883', '884', '30280'] }, chair_site: site('89') });
    assert.equal(conf.status, 201, conf.text);
    const cid = conf.json.conference.id;
    const watch = await eventsSocket(srv, api.token, cid);

    load = spawn(LOAD_BIN, ['--url', `ws://127.0.0.1:${srv.port}/ws`, '--credentials', credFile,
      '--talker-sites', [site('89'), site('883')].join(','), '--status-lines', '--seconds', '70', '--quiet'],
    { stdio: ['pipe', 'pipe', 'pipe'] });
    load.stderr.on('data', (d) => { loadErr += d; });
    let status = null;
    readline.createInterface({ input: load.stdout }).on('line', (l) => {
      const m = JSON.parse(l);
      if (!m.event) status = m;
    });
    browser = await browserSite(srv, creds.find((c) => c.unit === '30280'));
    const why = () => `status ${JSON.stringify(status)}\n${loadErr.slice(-1000)}`;
    await until(() => status?.signed_in === 3, 15000, () => `signed in: ${why()}`);
    const t0 = Date.now();
    assert.equal((await api.post(`/conferences/${cid}/start`)).status, 200);
    await until(() => status.media === 3, 20000, () => `in media: ${why()}`);
    await browser.page.waitForFunction(() => window.room.pc.connectionState === 'connected', null, { timeout: 20000 });

    // Live quality: every site, with traffic both ways and plausible loss and jitter; the
    // browser's receiver reports on our sender reports give it a round trip.
    const ids = creds.map((c) => String(c.site));
    const q = await until(() => watch.events.findLast((e) => e.type === 'quality' &&
      ids.every((id) => e.sites[id]?.kbps_in > 0) && e.sites[String(site('30280'))].rtt_ms !== null), 20000,
    () => `quality for every site: ${JSON.stringify(watch.events.filter((e) => e.type === 'quality').slice(-1))}`);
    assert.equal(q.conference, String(cid));
    t.diagnostic(`quality: ${JSON.stringify(q.sites)}`);
    for (const id of ids) {
      const s = q.sites[id];
      assert.ok(s.kbps_out > 50, `site ${id} gets the 128 kbit/s mix: ${JSON.stringify(s)}`);
      assert.ok(s.loss === null || (s.loss >= 0 && s.loss <= 1), JSON.stringify(s));
      assert.ok(s.jitter_ms === null || (s.jitter_ms >= 0 && s.jitter_ms < 1000), JSON.stringify(s));
    }
    const talker = q.sites[String(site('883'))];
    assert.ok(talker.kbps_in > 20 && talker.kbps_in < 200, `a 32 kbit/s Opus talker: ${JSON.stringify(talker)}`);
    assert.ok(talker.loss >= 0 && talker.loss < 0.05, JSON.stringify(talker));
    assert.ok(talker.jitter_ms >= 0 && talker.jitter_ms < 100, JSON.stringify(talker));
    const room = q.sites[String(site('30280'))];
    assert.ok(Number.isInteger(room.rtt_ms) && room.rtt_ms >= 0 && room.rtt_ms < 500, JSON.stringify(room));
    assert.equal(q.sites[String(site('89'))].rtt_ms, null, 'mcu-load sends no receiver reports');
    // Chromium decoded our sender reports too (its remote-outbound-rtp comes from them).
    const remote = await browser.page.evaluate(async () => {
      let n = 0;
      (await window.room.pc.getStats()).forEach((s) => { if (s.type === 'remote-outbound-rtp' && s.kind === 'audio') n = s.reportsSent; });
      return n;
    });
    assert.ok(remote >= 1, `remote-outbound-rtp reportsSent ${remote}`);

    // Utilisation: a sample with the commune's traffic in alarm, the district's not.
    const unitSamples = async (unit, a = api, extra = '') => a.get(`/monitoring/units/${unit}?from=${t0 - 4000}${extra}`);
    const hot = await until(async () => {
      const r = await unitSamples('883');
      return r.json.samples.filter((s) => s.alarm).length >= 2 ? r.json : null;
    }, 20000, 'two samples of 883 in alarm');
    assert.equal(hot.unit, '883');
    assert.equal(hot.capacity_kbps, 64);
    assert.equal(hot.threshold, 0.9);
    assert.equal(hot.sample_s, 2);
    assert.ok(hot.name.length > 0);
    const full = hot.samples.filter((s) => s.alarm);
    t.diagnostic(`883 samples: ${JSON.stringify(hot.samples)}`);
    for (const s of full) {
      assert.equal(s.t % 2000, 0, 'windows start on a multiple of their length');
      assert.ok(s.utilisation > 0.9 && s.utilisation < 10, JSON.stringify(s));
      const expect = Math.max(s.kbps_in, s.kbps_out) / 64;
      assert.ok(Math.abs(s.utilisation - expect) < 0.01, `utilisation ${s.utilisation} vs ${expect}`);
      assert.ok(s.kbps_out > s.kbps_in, 'the 128 kbit/s mix down is the larger direction');
    }
    for (let i = 1; i < hot.samples.length; i++) assert.ok(hot.samples[i].t > hot.samples[i - 1].t);
    const cool = (await unitSamples('884')).json;
    assert.equal(cool.capacity_kbps, 2000);
    const busy = cool.samples.filter((s) => s.kbps_out > 0);
    assert.ok(busy.length >= 1, JSON.stringify(cool));
    for (const s of busy) assert.ok(!s.alarm && s.utilisation > 0 && s.utilisation < 0.5, JSON.stringify(s));
    assert.ok(busy.some((s) => s.utilisation > 0.05), `a whole window of the mix is ~8 % of 2000: ${JSON.stringify(busy)}`);
    // A unit without sites: samples without utilisation.
    const empty = (await unitSamples('30283')).json;
    assert.equal(empty.capacity_kbps, 0);
    assert.ok(empty.samples.every((s) => s.utilisation === null && !s.alarm));

    // The alarm list, the audit log and the events socket.
    const alarms = (await api.get('/monitoring/alarms')).json.alarms;
    assert.deepEqual(alarms.map((a) => a.unit), ['883'], JSON.stringify(alarms));
    assert.ok(alarms[0].utilisation > 0.9 && alarms[0].t >= t0 - 4000);
    const audit = (await api.get('/audit?limit=200')).json.entries.filter((e) => e.action === 'monitor.alarm');
    assert.equal(audit.length, 1, JSON.stringify(audit));
    assert.equal(audit[0].target, 'unit:883');
    assert.equal(audit[0].result, 'raised');
    const ev = watch.events.find((e) => e.type === 'alarm');
    assert.ok(ev && ev.unit === '883' && ev.state === 'raised' && ev.utilisation > 0.9, JSON.stringify(ev));

    // CSV: the same samples.
    const csv = await unitSamples('883', api, '&format=csv');
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type'), /^text\/csv/);
    const rows = parseCsv(csv.text);
    assert.deepEqual(Object.keys(rows[0]), ['unit', 't', 'time', 'kbps_in', 'kbps_out', 'capacity_kbps', 'utilisation', 'alarm']);
    const hotRow = rows.find((r) => Number(r.t) === full[0].t);
    assert.ok(hotRow, 'the CSV has the sample in alarm');
    assert.equal(hotRow.alarm, 'true');
    assert.equal(hotRow.time, new Date(full[0].t).toISOString().replace('.000Z', 'Z'));
    assert.ok(Math.abs(Number(hotRow.utilisation) - full[0].utilisation) < 0.0002);

    // Scope: the 884 viewer may not read 883, and sees no alarm; the 883 viewer sees both.
    const v884 = new Api(srv.base);
    await v884.login('viewer884', VIEWER_PASSWORD);
    let r = await v884.get('/monitoring/units/883');
    assert.equal(r.status, 403);
    assert.equal(r.json.error.code, 'forbidden');
    assert.equal((await v884.get('/monitoring/units/884')).status, 200);
    assert.deepEqual((await v884.get('/monitoring/alarms')).json.alarms, []);
    const v883 = new Api(srv.base);
    await v883.login('viewer883', VIEWER_PASSWORD);
    assert.equal((await v883.get('/monitoring/units/883')).status, 200);
    assert.deepEqual((await v883.get('/monitoring/alarms')).json.alarms.map((a) => a.unit), ['883']);

    // Bad requests.
    for (const q of ['?from=abc', '?from=-5', `?from=${t0}&to=${t0 - 1}`, `?from=1&to=${401 * 86400000 + 2}`, '?format=xml']) {
      r = await api.get(`/monitoring/units/883${q}`);
      assert.equal(r.status, 400, `${q}: ${r.text}`);
      assert.equal(r.json.error.code, 'bad_request');
    }
    r = await api.get('/monitoring/units/77777');
    assert.equal(r.status, 404);
    assert.equal(r.json.error.code, 'not_found');

    watch.ws.close();
    load.stdin.write('quit\n');
    assert.equal(await new Promise((res) => load.on('exit', res)), 0, loadErr.slice(-1000));
    load = null;
  } finally {
    if (load) load.kill('SIGKILL');
    if (browser) await browser.ctx.cleanup();
    const res = await stopServer(srv);
    assert.equal(sanitizerReport(srv.stderr), null, srv.stderr.slice(-3000));
    assert.equal(res.code, 0);
  }
});
