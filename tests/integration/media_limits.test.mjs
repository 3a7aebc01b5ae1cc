// Per-source packet budgets of the media workers: an endpoint that floods ICE checks gets
// only its budget verified and answered; one that floods packets from its validated address
// has the excess dropped as rate_limited before any SRTP work; a second endpoint on the same
// worker keeps getting its checks answered throughout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import WebSocket from 'ws';
import { ROOT, startServer, stopServer, sanitizerReport, sleep, metrics, metricSum } from './lib.mjs';

const OFFER = readFileSync(path.join(ROOT, 'tests/data/sdp/chromium_av.sdp'), 'utf8');

// A STUN binding request (RFC 5389) with USERNAME, MESSAGE-INTEGRITY and FINGERPRINT.
function bindingRequest(username, pwd) {
  const attr = (type, value) => {
    const pad = (4 - (value.length % 4)) % 4;
    const b = Buffer.alloc(4 + value.length + pad);
    b.writeUInt16BE(type, 0); b.writeUInt16BE(value.length, 2); value.copy(b, 4);
    return b;
  };
  const hdr = Buffer.alloc(20);
  hdr.writeUInt16BE(0x0001, 0);
  hdr.writeUInt32BE(0x2112A442, 4);
  crypto.randomBytes(12).copy(hdr, 8);
  let body = attr(0x0006, Buffer.from(username));
  hdr.writeUInt16BE(body.length + 24, 2); // as if MESSAGE-INTEGRITY ended the message
  const mac = crypto.createHmac('sha1', pwd).update(Buffer.concat([hdr, body])).digest();
  body = Buffer.concat([body, attr(0x0008, mac)]);
  hdr.writeUInt16BE(body.length + 8, 2);
  const crc = (zlib.crc32(Buffer.concat([hdr, body])) ^ 0x5354554e) >>> 0;
  const fp = Buffer.alloc(4); fp.writeUInt32BE(crc, 0);
  return Buffer.concat([hdr, body, attr(0x8028, fp)]);
}

// Joins echo and returns the ICE parameters and the worker's port from the answer.
async function join(srv) {
  const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/ws`);
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  const ans = await new Promise((r) => {
    ws.on('message', (d) => { const m = JSON.parse(d.toString()); if (m.type === 'answer') r(m); });
    ws.send(JSON.stringify({ type: 'join', conference: 'echo', sdp: OFFER }));
  });
  const ufrag = ans.sdp.match(/a=ice-ufrag:(\S+)/)[1];
  const pwd = ans.sdp.match(/a=ice-pwd:(\S+)/)[1];
  const remote = OFFER.match(/a=ice-ufrag:(\S+)/)[1];
  const port = Number(ans.sdp.match(/a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 (\d+) typ host/)[1]);
  const sock = dgram.createSocket('udp4');
  let answered = 0;
  sock.on('message', (m) => { if (m.readUInt16BE(0) === 0x0101) answered++; });
  await new Promise((r) => sock.bind(0, '127.0.0.1', r));
  return { ws, sock, port, check: () => bindingRequest(`${ufrag}:${remote}`, pwd), answered: () => answered };
}

test('media: per-source budgets for ICE checks and packets', async () => {
  const srv = await startServer({ workers: 1 });
  const a = await join(srv), b = await join(srv);
  try {
    const send = (ep, buf) => new Promise((r) => ep.sock.send(buf, ep.port, '127.0.0.1', r));
    await send(b, b.check());
    await sleep(200);
    assert.equal(b.answered(), 1, 'the quiet endpoint is checked');

    // 400 ICE checks at once: about the burst is verified and answered, the rest dropped.
    for (let i = 0; i < 400; i++) await send(a, a.check());
    await sleep(500);
    const m1 = await metrics(srv);
    const limited1 = metricSum(m1, 'mcu_drops_total', { reason: 'rate_limited' });
    assert.ok(a.answered() >= 20 && a.answered() <= 80, `checks answered: ${a.answered()}`);
    assert.ok(limited1 >= 300, `checks dropped as rate_limited: ${limited1}`);

    // 20,000 RTP-looking packets from the validated address: most dropped before SRTP.
    const rtp = Buffer.alloc(200); rtp[0] = 0x80; rtp[1] = 111;
    for (let i = 0; i < 20000; i++) { rtp.writeUInt16BE(i & 0xffff, 2); a.sock.send(rtp, a.port, '127.0.0.1'); if (i % 500 === 0) await sleep(1); }
    await sleep(500);
    await send(b, b.check());
    await sleep(300);
    assert.equal(b.answered(), 2, 'the other endpoint is still answered during and after the flood');
    const m2 = await metrics(srv);
    const limited2 = metricSum(m2, 'mcu_drops_total', { reason: 'rate_limited' }) - limited1;
    const srtp = metricSum(m2, 'mcu_drops_total', { reason: 'srtp_auth' }) + metricSum(m2, 'mcu_drops_total', { reason: 'rtp_not_ready' });
    assert.ok(limited2 >= 5000, `flood packets dropped as rate_limited: ${limited2}`);
    assert.ok(srtp <= 20000 - limited2, `only the budget reached SRTP: ${srtp}`);
  } finally {
    for (const ep of [a, b]) { ep.ws.close(); ep.sock.close(); }
    const res = await stopServer(srv);
    assert.equal(res.code, 0, srv.stderr.slice(-2000));
    assert.equal(sanitizerReport(srv.stderr), null);
  }
});
