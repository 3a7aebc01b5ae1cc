// Launches Debian's Chromium through playwright-core with the flags this workplace needs.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export async function launchChromium(extraArgs = []) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcu-chromium-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
      '--allow-loopback-in-peer-connection', ...extraArgs],
  });
  ctx.cleanup = async () => { await ctx.close().catch(() => {}); rmSync(dir, { recursive: true, force: true }); };
  return ctx;
}

// Summarises pc.getStats() in the page: transport state and per-kind inbound counters.
export async function pageStats(page) {
  return page.evaluate(async () => {
    const pc = window.echo && window.echo.pc;
    if (!pc) return null;
    const out = { ice: null, dtls: null, pc: pc.connectionState, inbound: {}, outbound: {}, pair: null };
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'transport') {
        out.ice = s.iceState; out.dtls = s.dtlsState; out.srtpCipher = s.srtpCipher; out.pair = s.selectedCandidatePairId;
      }
      if (s.type === 'inbound-rtp') out.inbound[s.kind] = { packets: s.packetsReceived, frames: s.framesDecoded, bytes: s.bytesReceived };
      if (s.type === 'outbound-rtp') out.outbound[s.kind] = { packets: s.packetsSent };
    });
    out.remoteAddr = null;
    const all = await pc.getStats();
    const pair = out.pair && all.get(out.pair);
    const remote = pair && all.get(pair.remoteCandidateId);
    if (remote) out.remoteAddr = remote.address;
    return out;
  });
}
