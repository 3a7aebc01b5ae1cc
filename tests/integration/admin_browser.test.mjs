// The operator's status page in a real browser: every worker listed and alive, and garbage
// sent to a media port shows up under its drop reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { startServer, stopServer, sleep } from './lib.mjs';
import { launchChromium } from './browser.mjs';

test('the status page shows live workers and drops', async () => {
  const srv = await startServer({ workers: 2 });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${srv.base}/`);
    await page.waitForURL(/\/admin\/$/);
    await page.waitForSelector('#workers tbody tr[data-worker="1"]', { timeout: 10000 });
    assert.match(await page.textContent('#overall'), /Healthy/);
    const states = await page.$$eval('#workers tbody tr', (rows) => rows.map((r) => r.children[2].textContent));
    assert.equal(states.length, 2);
    assert.ok(states.every((s) => /Alive/.test(s)), states.join());
    const sock = dgram.createSocket('udp4');
    for (let i = 0; i < 5; i++) await new Promise((r) => sock.send(Buffer.from([0xee, i]), srv.health.workers[0].udp_port, '127.0.0.1', r));
    sock.close();
    await page.waitForFunction(() => /unknown_kind/.test(document.querySelector('#drops').textContent), null, { timeout: 10000 });
    const row = await page.$$eval('#drops tbody tr', (rows) => rows.map((r) => r.textContent).find((t) => t.includes('unknown_kind')));
    assert.match(row, /unknown_kind\s*5/);
    if (process.env.MCU_SCREENSHOTS) await page.screenshot({ path: `${process.env.MCU_SCREENSHOTS}/admin-status.png`, fullPage: true });
  } finally {
    await browser.cleanup();
    assert.equal((await stopServer(srv)).code, 0);
  }
});
