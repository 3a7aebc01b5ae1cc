// The load generator against the real server: 20 synthetic sites in one mix conference for
// 10 s must all join, hear every talker's signature tone (and talkers not their own), and
// report loss, latency and its own CPU in its JSON report; with a talker muted the same run
// must fail and name the missing talker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, startServer, stopServer, sanitizerReport } from './lib.mjs';

const LOAD_BIN = process.env.MCU_LOAD_BIN || path.join(ROOT, 'build/mcu-load');

// Runs mcu-load to completion; resolves {code, stderr}.
function runLoad(args, timeoutMs = 60000) {
  return new Promise((resolve) => {
    const child = spawn(LOAD_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    child.stdout.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stderr }); });
  });
}

async function withServer(t, fn) {
  assert.ok(existsSync(LOAD_BIN), `${LOAD_BIN} is missing: build it (make build/mcu-load)`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcu-load-'));
  const srv = await startServer({ workers: 2 });
  try {
    await fn(srv, dir);
  } finally {
    const r = await stopServer(srv);
    rmSync(dir, { recursive: true, force: true });
    assert.equal(r.code, 0, srv.stderr);
    assert.equal(sanitizerReport(srv.stderr), null, srv.stderr);
  }
}

test('20 sites for 10 s: all join, every mix holds its talkers, the report adds up', async (t) => {
  await withServer(t, async (srv, dir) => {
    const names = Array.from({ length: 20 }, (_, i) => `Xa ${String.fromCharCode(65 + i)} ${i}`);
    writeFileSync(path.join(dir, 'sites.txt'), `# communes\n${names.join('\n')}\n`);
    const json = path.join(dir, 'report.json');
    const url = `ws://127.0.0.1:${srv.port}/ws`;
    const res = await runLoad(['--url', url, '--conference', 'mix-loadtest', '--sites-file',
      path.join(dir, 'sites.txt'), '--talkers', '3', '--seconds', '10', '--verify', '20',
      '--max-loss', '1', '--json', json, '--quiet']);
    t.diagnostic(res.stderr.trim().split('\n').slice(-3).join(' | '));
    assert.equal(res.code, 0, res.stderr);
    const r = JSON.parse(readFileSync(json, 'utf8'));
    assert.equal(r.ok, true);
    assert.deepEqual(r.failures, []);
    assert.equal(r.config.sites, 20);
    assert.equal(r.joined, 20);
    assert.equal(r.failed, 0);
    assert.equal(r.sites.length, 20);
    assert.deepEqual(r.sites.map((s) => s.name), names);
    assert.ok(r.sites.every((s) => s.stage === 'media' && s.received > 300 && s.sent > 300), JSON.stringify(r.sites[0]));
    assert.equal(r.join_ms.n, 20);
    assert.ok(r.join_ms.p50 > 0 && r.join_ms.p95 < 5000, JSON.stringify(r.join_ms));
    assert.ok(r.loss.expected > 20 * 400 && r.loss.pct <= 1, JSON.stringify(r.loss));
    assert.ok(r.jitter_ms.n === 20 && r.jitter_ms.max < 20, JSON.stringify(r.jitter_ms));
    // Marker beeps every 2 s, heard by the 17 listeners and 2 talkers sampled (not the beeper).
    assert.ok(r.latency_ms.n >= 19 * 3, JSON.stringify(r.latency_ms));
    assert.ok(r.latency_ms.p50 > 0 && r.latency_ms.p50 < 500, JSON.stringify(r.latency_ms));
    // Every sampled receiver hears the three talkers' tones; talkers not their own.
    assert.equal(r.receivers.length, 20);
    for (const rec of r.receivers) {
      assert.equal(rec.ok, true, JSON.stringify(rec));
      const lv = rec.levels_dbfs;
      const own = rec.talker ? String(500 + 150 * rec.talker_index) : null;
      for (const [hz, db] of Object.entries(lv)) {
        if (hz === own) assert.ok(db <= -50, `site ${rec.site} hears itself: ${JSON.stringify(lv)}`);
        else assert.ok(db >= -40, `site ${rec.site} lacks ${hz} Hz: ${JSON.stringify(lv)}`);
      }
    }
    assert.ok(r.packets.out_pps > 900 && r.packets.in_pps > 900, JSON.stringify(r.packets));
    assert.equal(r.packets.unprotect_errors, 0);
    assert.ok(r.cpu.us_per_site_per_s > 0 && r.cpu.pct_of_one_core > 0, JSON.stringify(r.cpu));
  });
});

// Video loss repair, layers and layer pausing, the way the video router meets real browsers:
// four sites all publish VP8 simulcast and take the main track plus one thumbnail. Receivers
// treat one video packet in 40 as lost and NACK it: the server's resend must be that very
// packet (rebuilt from the publisher's history and the track's own header bytes). Layers
// nobody receives are paused by the server's `layers` message, and the sites stop sending
// them as a browser would.
test('video: NACKs get the very packet lost back; layers nobody watches are paused', async (t) => {
  await withServer(t, async (srv, dir) => {
    const json = path.join(dir, 'video.json');
    const res = await runLoad(['--url', `ws://127.0.0.1:${srv.port}/ws`, '--conference', 'mix-video-nack',
      '--sites', '4', '--talkers', '1', '--video', '--video-publishers', '4', '--video-thumbnails', '1',
      '--video-nack', '40', '--seconds', '6', '--settle', '6', '--json', json, '--quiet'], 90000);
    t.diagnostic(res.stderr.trim().split('\n').slice(-2).join(' | '));
    assert.equal(res.code, 0, res.stderr);
    const r = JSON.parse(readFileSync(json, 'utf8'));
    const v = r.video;
    assert.equal(v.nack.mismatched, 0, JSON.stringify(v.nack));
    assert.ok(v.nack.sent >= 20 && v.nack.repaired >= v.nack.sent * 0.9, JSON.stringify(v.nack));
    // Mains take the top layer and thumbnails the lowest, so the top and middle layers of a
    // site nobody has as main are nobody's: they are paused (at least two sites are nobody's
    // main; which layers a main takes while the estimate settles varies). The lowest runs.
    assert.ok(v.layers_paused_at_end >= 4 && v.layers_messages >= 2, JSON.stringify(v));
    assert.equal(v.receivers_with_video, 4, JSON.stringify(v));
    // Layers received, told by the size of each track's keyframes: every site gets its
    // thumbnail at the lowest layer and its main track above it.
    for (const site of r.sites) {
      const layers = site.video.streams.map((x) => x.layer).sort();
      assert.equal(layers.length, 2, JSON.stringify(site.video));
      assert.equal(layers[0], 0, JSON.stringify(site.video));
      assert.ok(layers[1] >= 1, JSON.stringify(site.video));
    }
    assert.equal(r.packets.unprotect_errors, 0);
  });
});

test('a muted talker fails the run, and the failure names it', async (t) => {
  await withServer(t, async (srv, dir) => {
    const json = path.join(dir, 'report.json');
    const res = await runLoad(['--url', `ws://127.0.0.1:${srv.port}/ws`, '--conference', 'mix-mutetest',
      '--sites', '12', '--talkers', '3', '--seconds', '5', '--mute-talker', '1', '--json', json, '--quiet']);
    t.diagnostic(res.stderr.trim());
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /FAIL: talker 1 \(site-1, 650 Hz, muted by --mute-talker\) is missing from \d+ of \d+ sampled mixes/);
    assert.match(res.stderr, /measured -\d+\.\d dBFS, need >= -40 dBFS/);
    const r = JSON.parse(readFileSync(json, 'utf8'));
    assert.equal(r.ok, false);
    assert.equal(r.joined, 12); // it is the mix that fails, not the joins
    assert.ok(r.failures.some((f) => f.includes('talker 1 (site-1, 650 Hz')), JSON.stringify(r.failures));
    // The other talkers are still heard: only talker 1's signature is missing.
    const listener = r.receivers.find((x) => !x.talker);
    assert.ok(listener.levels_dbfs['500'] >= -40 && listener.levels_dbfs['800'] >= -40, JSON.stringify(listener));
    assert.ok(listener.levels_dbfs['650'] < -40, JSON.stringify(listener));
  });
});

test('bad usage exits 2 with a message', async () => {
  assert.ok(existsSync(LOAD_BIN), `${LOAD_BIN} is missing`);
  const res = await runLoad(['--sites', '3']);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /--url is required/);
  const bad = await runLoad(['--url', 'http://127.0.0.1:1/ws']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /only ws:\/\/ URLs/);
});

// Sites in a network namespace of the test's own (veth to 10.98.0.1 on the host side), their
// media impaired with 5 % loss and 40 ± 10 ms delay: every mix must still verify (FEC and PLC
// cover the loss), and the added delay must show in the measured latency.
test('from a network namespace under loss, delay and jitter the mix still verifies', async (t) => {
  const { execFileSync } = await import('node:child_process');
  if (process.getuid() !== 0) { t.skip('needs root for ip netns'); return; }
  const env = { ...process.env, MCU_NETNS: 'mcu-loadtest', MCU_VETH_HOST: 'mculth', MCU_VETH_NS: 'mcultn',
    MCU_NET_PREFIX: '10.98.0' };
  execFileSync('sh', [path.join(ROOT, 'bench/netns.sh'), 'up'], { env, stdio: 'ignore' });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcu-load-'));
  const srv = await startServer({ workers: 2, listenHost: '10.98.0.1',
    args: ['--media-addr', '10.98.0.1', '--insecure-http', 'true'] });
  try {
    const run = async (extra, name) => {
      const json = path.join(dir, `${name}.json`);
      const r = await runLoad(['--url', `ws://10.98.0.1:${srv.port}/ws`, '--netns', 'mcu-loadtest',
        '--conference', `mix-${name}`, '--sites', '10', '--seconds', '6', '--quiet', '--json', json, ...extra]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(readFileSync(json, 'utf8'));
    };
    const clean = await run([], 'clean');
    const bad = await run(['--loss', '5', '--delay', '40', '--jitter', '10'], 'impaired');
    assert.equal(bad.netns, 'mcu-loadtest');
    assert.ok(bad.impairment.dropped > 0 && bad.impairment.delayed > 0, JSON.stringify(bad.impairment));
    assert.ok(bad.latency_ms.p50 - clean.latency_ms.p50 > 30,
      `latency ${clean.latency_ms.p50} -> ${bad.latency_ms.p50} ms with 40 ms added`);
    t.diagnostic(`latency p50 ${clean.latency_ms.p50} ms clean, ${bad.latency_ms.p50} ms impaired; dropped ${bad.impairment.dropped}`);
  } finally {
    const r = await stopServer(srv);
    execFileSync('sh', [path.join(ROOT, 'bench/netns.sh'), 'down'], { env, stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
    assert.equal(r.code, 0, srv.stderr);
    assert.equal(sanitizerReport(srv.stderr), null);
  }
});
