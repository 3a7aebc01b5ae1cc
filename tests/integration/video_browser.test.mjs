// Video forwarding in headless Chromium. Page A publishes the fake camera (VP8 with three
// simulcast layers, then VP9 SVC L3T3_KEY); page B, inside a network namespace of its own,
// receives A as its main track. B first decodes A's top layer; when B's downlink is held to a
// few hundred kbit/s (a tbf qdisc on the host end of B's veth), the server's estimate falls
// and B's frames shrink to a lower layer without freezing; when the limit goes, they grow back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, sleep, startServer, stopServer, sanitizerReport } from './lib.mjs';
import { launchChromium } from './browser.mjs';

const NS = `mcu-vt${process.pid % 1000}`;
const NET = `10.98.${process.pid % 200 + 10}`;
const HOST_IP = `${NET}.1`;
const VETH = `mcuvt${process.pid % 1000}h`;
const env = { ...process.env, MCU_NETNS: NS, MCU_VETH_HOST: VETH, MCU_VETH_NS: `mcuvt${process.pid % 1000}n`, MCU_NET_PREFIX: NET };
const netns = (what) => execFileSync('sh', [path.join(ROOT, 'bench/netns.sh'), what], { env, stdio: 'pipe' });
function limit(kbit) {
  try { execFileSync('tc', ['qdisc', 'del', 'dev', VETH, 'root'], { stdio: 'ignore' }); } catch { /* none */ }
  if (kbit) execFileSync('tc', ['qdisc', 'add', 'dev', VETH, 'root', 'tbf', 'rate', `${kbit}kbit`, 'burst', '12kb', 'latency', '80ms']);
}

const FLAGS = ['--force-fieldtrials=WebRTC-LegacySimulcastLayerLimit/Disabled/'];

async function until(what, fn, ms, step = 500) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last && last.ok) return last;
    await sleep(step);
  }
  throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last)}`);
}

// The main track's inbound stats of page B.
async function mainStats(page) {
  return page.evaluate(async () => {
    if (!window.vt || !window.vt.stats) return { main: null, error: window.vt && window.vt.error, events: window.vt && window.vt.events };
    const s = await window.vt.stats();
    return { main: s.inbound[window.vt.mainMid] || null, tracks: window.vt.tracks, error: window.vt.error };
  });
}

// Frames keep coming: decoded frames grow by at least `min` within `ms`.
async function flowing(page, ms = 2000, min = 10) {
  const a = (await mainStats(page)).main;
  await sleep(ms);
  const b = (await mainStats(page)).main;
  return b.frames - a.frames >= min ? b : null;
}

test('video: simulcast and SVC layers follow the receiver\'s measured bandwidth', { timeout: 240000 }, async (t) => {
  netns('up');
  const wrapDir = mkdtempSync(path.join(os.tmpdir(), 'mcu-vt-'));
  const wrapper = path.join(wrapDir, 'chromium-in-ns');
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${NS} /usr/bin/chromium "$@"\n`);
  chmodSync(wrapper, 0o755);
  const srv = await startServer({ listenHost: HOST_IP, args: ['--insecure-http', 'true', '--media-addr', HOST_IP, ...(process.env.VT_DEBUG ? ['--log-level', 'debug'] : [])] });
  // getUserMedia needs a secure origin; the namespace address over plain HTTP is not one
  FLAGS.push(`--unsafely-treat-insecure-origin-as-secure=${srv.base}`);
  const a = await launchChromium(FLAGS);
  const prev = process.env.CHROMIUM;
  process.env.CHROMIUM = wrapper;
  const b = await launchChromium(FLAGS);
  process.env.CHROMIUM = prev;
  t.after(async () => {
    await a.cleanup(); await b.cleanup();
    try { limit(0); } catch { /* gone */ }
    const res = await stopServer(srv);
    netns('down');
    rmSync(wrapDir, { recursive: true, force: true });
    assert.equal(res.code, 0, `server exit ${JSON.stringify(res)}\n${srv.stderr.slice(-3000)}`);
    assert.equal(sanitizerReport(srv.stderr), null);
  });

  for (const [publish, conf] of (process.env.VT_ONLY ? [[process.env.VT_ONLY, 'mix-vt']] : [['vp8sim', 'mix-vt8'], ['vp9svc', 'mix-vt9']])) {
    await t.test(publish, async () => {
      const pa = await a.newPage();
      const pb = await b.newPage();
      await pa.goto(`${srv.base}/video/?conference=${conf}&publish=${publish}&width=640&height=360`);
      await sleep(500);
      await pb.goto(`${srv.base}/video/?conference=${conf}&publish=none`);
      // B decodes A's top layer: 640 wide.
      const top = await until(`${publish}: B at the top layer`, async () => {
        const s = await mainStats(pb);
        return { ok: s.main && s.main.width === 640 && s.main.frames > 30, ...s };
      }, 45000);
      assert.ok(top.tracks && top.tracks.main && top.tracks.main.session, 'a tracks message names the main source');
      assert.ok(await flowing(pb), 'frames flow at the top layer');
      if (publish === 'vp8sim') { // the middle layer nobody takes gets paused in A's browser
        await until('A pauses its unused middle layer', async () => {
          const out = await pa.evaluate(async () => (await window.vt.stats()).outbound);
          const h = out.find((o) => o.rid === 'h');
          return { ok: h && h.active === false, out };
        }, 15000);
      }

      limit(300); // B's downlink: 300 kbit/s
      const low = await until(`${publish}: B on a lower layer`, async () => {
        const s = await mainStats(pb);
        return { ok: s.main && s.main.width > 0 && s.main.width < 640, ...s };
      }, 25000);
      console.log(`${publish}: at 300 kbit/s B decodes ${low.main.width}x${low.main.height}`);
      const f = await flowing(pb, 3000, 5);
      assert.ok(f && f.width < 640, `frames keep coming on the lower layer: ${JSON.stringify(low.main)}`);

      limit(0);
      await until(`${publish}: B back at the top layer`, async () => {
        const s = await mainStats(pb);
        return { ok: s.main && s.main.width === 640, ...s };
      }, 40000);
      assert.ok(await flowing(pb), 'frames flow again at the top layer');
      const end = await mainStats(pb);
      console.log(`${publish}: ${JSON.stringify(end.main)}`);
      await pa.close(); await pb.close();
    });
  }
});
