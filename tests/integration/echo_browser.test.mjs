// A real browser joins the echo conference: ICE-lite, DTLS-SRTP, RTP both ways, frames
// decoded from what the server sent back — over IPv4 and over IPv6 loopback. Garbage sent
// to the media port meanwhile must be counted and must not disturb the session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { startServer, stopServer, sanitizerReport, metrics, metricSum, sleep } from './lib.mjs';
import { launchChromium, pageStats } from './browser.mjs';

async function waitFor(fn, ms, what) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last && last.ok) return last;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last)}`);
}

async function echoRun({ family }) {
  const v6 = family === 6;
  const host = v6 ? '::1' : '127.0.0.1';
  const srv = await startServer({ workers: 2, listenHost: host, args: ['--media-addr', host] });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const logs = [];
    page.on('console', (m) => logs.push(m.text()));
    await page.goto(`${srv.base}/echo/`);
    const connected = await waitFor(async () => {
      const s = await pageStats(page);
      return { ok: s && s.ice === 'connected' && s.dtls === 'connected', s };
    }, 20000, 'ICE and DTLS connected');
    assert.equal(connected.s.remoteAddr, host, 'the nominated pair uses the server address of this family');
    const first = await waitFor(async () => {
      const s = await pageStats(page);
      const a = s.inbound.audio, v = s.inbound.video;
      return { ok: a && a.packets > 20 && v && v.packets > 20 && v.frames > 0, s };
    }, 20000, 'inbound audio and video from the server');
    await sleep(1500);
    const later = await pageStats(page);
    assert.ok(later.inbound.video.frames > first.s.inbound.video.frames, 'framesDecoded keeps rising');
    assert.ok(later.inbound.audio.packets > first.s.inbound.audio.packets, 'audio keeps arriving');
    const events = await page.evaluate(() => window.echo.events.map((e) => e.type || e.pc || e.ws));
    assert.ok(events.includes('answer') && events.includes('state'), `protocol events: ${events}`);
    return { srv, page, stats: later };
  } catch (e) {
    await browser.cleanup();
    await stopServer(srv);
    throw e;
  } finally {
    // the caller closes on success
    srv.browser = browser;
  }
}

test('a browser joins the echo conference over IPv4 and decodes its own video', async () => {
  const { srv } = await echoRun({ family: 4 });
  await srv.browser.cleanup();
  await sleep(300);
  const r = await stopServer(srv);
  assert.equal(r.code, 0, srv.stderr);
  assert.equal(sanitizerReport(srv.stderr), null);
});

test('a browser joins the echo conference over IPv6 (::1)', async () => {
  const { srv } = await echoRun({ family: 6 });
  await srv.browser.cleanup();
  const r = await stopServer(srv);
  assert.equal(r.code, 0, srv.stderr);
  assert.equal(sanitizerReport(srv.stderr), null);
});

test('garbage to the media port is counted and the browser session stays up', async () => {
  const { srv, page } = await echoRun({ family: 4 });
  try {
    const ms0 = await metrics(srv);
    const ports = [...new Set(srv.health.workers.map((w) => w.udp_port))];
    const sock = dgram.createSocket('udp4');
    const send = (buf) => Promise.all(ports.map((p) => new Promise((r) => sock.send(buf, p, '127.0.0.1', r))));
    for (let i = 0; i < 300; i++) {
      const len = 1 + ((i * 37) % 400);
      await send(Buffer.from(Array.from({ length: len }, () => Math.random() * 256 | 0)));
    }
    // Truncated STUN, STUN with a bad fingerprint for an unknown user, RTP from an unknown address,
    // a DTLS record from nobody.
    await send(Buffer.from([0x00, 0x01, 0x00, 0x08, 0x21, 0x12, 0xa4, 0x42]));
    const stun = Buffer.alloc(28); stun.writeUInt16BE(1, 0); stun.writeUInt16BE(8, 2); stun.writeUInt32BE(0x2112a442, 4);
    stun.writeUInt16BE(0x8028, 20); stun.writeUInt16BE(4, 22);
    await send(stun);
    await send(Buffer.concat([Buffer.from([0x80, 0x6f, 0, 1, 0, 0, 0, 1, 0, 0, 0, 7]), Buffer.alloc(100, 0xab)]));
    await send(Buffer.concat([Buffer.from([22, 0xfe, 0xfd]), Buffer.alloc(60, 1)]));
    sock.close();
    await sleep(1500);
    const ms1 = await metrics(srv);
    const dropped = metricSum(ms1, 'mcu_drops_total') - metricSum(ms0, 'mcu_drops_total');
    assert.ok(dropped >= 300 * ports.length, `dropped ${dropped}`);
    for (const reason of ['unknown_kind', 'stun_malformed', 'stun_fingerprint', 'rtp_unknown_addr', 'dtls_unknown_addr']) {
      assert.ok(metricSum(ms1, 'mcu_drops_total', { reason }) > 0, `no drop counted as ${reason}`);
    }
    const before = await pageStats(page);
    await sleep(1500);
    const after = await pageStats(page);
    assert.equal(after.ice, 'connected');
    assert.ok(after.inbound.video.frames > before.inbound.video.frames, 'video still decoding after the garbage');
  } finally {
    await srv.browser.cleanup();
    const r = await stopServer(srv);
    assert.equal(r.code, 0, srv.stderr);
    assert.equal(sanitizerReport(srv.stderr), null);
  }
});
