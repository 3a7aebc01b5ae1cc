// The admin panel's server-status page in a real browser: reached from the landing page,
// behind the sign-in, every worker listed and alive, and garbage sent to a media port shows
// up under its drop reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { startServer, stopServer } from './lib.mjs';
import { launchChromium } from './browser.mjs';
import { adminLogin, PASSWORD } from './web_lib.mjs';

test('the status page shows live workers and drops', async () => {
  const srv = await startServer({ workers: 2, env: { MCU_ADMIN_PASSWORD: PASSWORD } });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${srv.base}/`);
    assert.equal(await page.getAttribute('#go-admin', 'href'), '/admin/');
    assert.equal(await page.getAttribute('#go-room', 'href'), '/room/');
    await adminLogin(page, srv);
    await page.goto(`${srv.base}/admin/#/status`);
    await page.waitForSelector('#workers tbody tr[data-worker="1"]', { timeout: 10000 });
    assert.match(await page.textContent('#overall'), /Hoạt động tốt/);
    const states = await page.$$eval('#workers tbody tr', (rows) => rows.map((r) => r.children[2].textContent));
    assert.equal(states.length, 2);
    assert.ok(states.every((s) => /Hoạt động/.test(s)), states.join());
    const sock = dgram.createSocket('udp4');
    for (let i = 0; i < 5; i++) await new Promise((r) => sock.send(Buffer.from([0xee, i]), srv.health.workers[0].udp_port, '127.0.0.1', r));
    sock.close();
    await page.waitForFunction(() => /unknown_kind/.test(document.querySelector('#drops').textContent), null, { timeout: 10000 });
    const row = await page.$$eval('#drops tbody tr', (rows) => rows.map((r) => r.textContent).find((t) => t.includes('unknown_kind')));
    assert.match(row, /unknown_kind\s*5/);
  } finally {
    await browser.cleanup();
    assert.equal((await stopServer(srv)).code, 0);
  }
});
