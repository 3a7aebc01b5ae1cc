// The meeting-room client and the admin panel together, in Chromium with fake devices: a
// commune's room PC opens its provisioning link, signs in and idles; the operator starts the
// conference from the admin page and the room joins by itself; the admin roster shows it
// with a moving level meter; the admin mutes it and the room shows so; the room raises its
// hand and the chair's room grants it the floor; a roll call records it present in the
// attendance; the server restarts and the room reconnects and rejoins by itself; the end
// sends it back to its idle screen. Screenshots go to build/screenshots/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopServer, sanitizerReport, sleep } from './lib.mjs';
import { Site, until, PASSWORD, UNITS } from './rooms_lib.mjs';
import { launchChromium } from './browser.mjs';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { provinceServer, provisioningLink, adminLogin, shot, speechWav, assertCleanLayout } from './web_lib.mjs';

const meterWidth = (page, site) => page.$eval(`#roster tr[data-site="${site}"] [data-meter] > i`, (el) => parseFloat(el.style.width) || 0);


test('a room joins by itself, is muted, asks to speak, answers the roll call, survives a restart', { timeout: 150000 }, async () => {
  let srv = await provinceServer();
  const { api } = srv;
  const bots = [];
  const wav = speechWav(path.join(os.tmpdir(), `mcu-speech-${process.pid}.wav`));
  const browser = await launchChromium(['--autoplay-policy=no-user-gesture-required', `--use-file-for-fake-audio-capture=${wav}`]);
  try {
    const chair = srv.byUnit['883'], commune = srv.byUnit['30280'];
    const created = await api.post('/conferences', { title: 'Giao ban trực tuyến Thành phố Long Xuyên tháng 12', host_unit: '883',
      invite: { own: true, subtree: true }, chair_site: chair.site });
    assert.equal(created.status, 201, created.text);
    const cid = created.json.conference.id;

    // The room PC opens its provisioning link: it signs in, forgets the link, and idles.
    const room = await browser.newPage();
    await room.setViewportSize({ width: 1280, height: 720 });
    const errors = [];
    room.on('pageerror', (e) => errors.push(e.message));
    await room.goto(`${srv.base}/room/`);
    await room.waitForSelector('#signin-form');
    await shot(room, 'room-signin');
    await assertCleanLayout(room, 'room-signin');
    await room.goto(provisioningLink(srv, commune));
    await room.waitForFunction(() => window.room?.conn === 'signedin' && document.body.dataset.screen === 'idle', null, { timeout: 15000 });
    assert.equal(await room.textContent('#idle-name'), 'Điểm cầu Phường Mỹ Bình');
    assert.ok(!room.url().includes('secret'), 'the credential leaves the address bar');
    await room.waitForFunction(() => /Tốt/.test(document.querySelector('#check-net').textContent));
    // Remembered on this PC: a reload signs in again without the link.
    await room.reload();
    await room.waitForFunction(() => window.room?.conn === 'signedin' && document.body.dataset.screen === 'idle', null, { timeout: 15000 });
    await room.waitForFunction(() => window.room.stream && document.querySelector('.cam-preview').videoWidth > 0, null, { timeout: 10000 });
    await shot(room, 'room-idle');
    await assertCleanLayout(room, 'room-idle');

    // The chair's room waits too; a few more rooms of the district come as synthetic sites.
    const chairRoom = await browser.newPage();
    await chairRoom.setViewportSize({ width: 1280, height: 720 });
    await chairRoom.goto(provisioningLink(srv, chair));
    await chairRoom.waitForFunction(() => window.room?.conn === 'signedin', null, { timeout: 15000 });
    for (const c of srv.creds.filter((x) => ['30283', '30286', '30289', '30292', '30301', '30310'].includes(x.unit))) {
      const s = new Site(`ws://127.0.0.1:${srv.port}/ws`, c);
      bots.push(s);
      s.connect();
    }

    // The operator starts the conference from the admin page.
    const admin = await browser.newPage();
    await admin.setViewportSize({ width: 1280, height: 720 });
    await adminLogin(admin, srv);
    await admin.waitForSelector(`tr[data-conf="${cid}"] [data-action="start"]`);
    await admin.click(`tr[data-conf="${cid}"] [data-action="start"]`);
    await admin.waitForURL(new RegExp(`#/conferences/${cid}$`));
    const t0 = Date.now();

    // The room joins by itself.
    await room.waitForFunction(() => document.body.dataset.screen === 'meeting' && window.room.media === 'connected', null, { timeout: 20000 });
    const joinMs = Date.now() - t0;
    assert.ok(joinMs < 15000, `joined in ${joinMs} ms`);
    await room.waitForFunction(() => window.room.conf && window.room.roster.size === 13);
    assert.match(await room.textContent('#top-center'), /Giao ban trực tuyến Thành phố Long Xuyên/);

    // The admin roster shows it joined, with a level meter that moves.
    await admin.waitForSelector(`#roster tr[data-site="${commune.site}"].joined`, { timeout: 15000 });
    await until(() => bots.every((b) => b.status === 'joined'), 15000, 'synthetic rooms joined');
    const widths = [];
    for (let i = 0; i < 12; i++) { widths.push(await meterWidth(admin, commune.site)); await sleep(250); }
    assert.ok(Math.max(...widths) > 0, `meter never moved: ${widths}`);
    assert.ok(new Set(widths).size > 1, `meter stuck at ${widths}`);
    // Nobody receives its middle simulcast layer (mains take the top, thumbnails the lowest):
    // the server pauses it and the room's browser stops encoding it; the lowest always runs.
    await room.waitForFunction(() => {
      const enc = window.room.peer?.video.sender.getParameters().encodings || [];
      return enc.length === 3 && enc[0].active && !enc[1].active;
    }, null, { timeout: 20000 });
    await room.waitForTimeout(500);
    await shot(room, 'room-meeting');
    await assertCleanLayout(room, 'room-meeting');
    await shot(admin, 'admin-live');
    await assertCleanLayout(admin, 'admin-live');

    // The admin mutes the room: the room says so, clearly.
    await admin.click(`#roster tr[data-site="${commune.site}"] button[data-act="mute"]`);
    await room.waitForSelector('.stage-alert.bad', { timeout: 10000 });
    assert.match(await room.textContent('.stage-alert'), /Chủ tọa đã tắt micro của điểm cầu này/);
    assert.match(await room.textContent('#btn-mic'), /Chủ tọa đã tắt/);
    await admin.waitForSelector(`#roster tr[data-site="${commune.site}"] [data-flag="muted"]`);
    await shot(room, 'room-muted');
    await assertCleanLayout(room, 'room-muted');

    // It asks to speak; the chair's room sees the queue and gives it the floor.
    await room.click('#btn-hand');
    await chairRoom.waitForSelector(`#hand-queue [data-site="${commune.site}"]`, { timeout: 10000 });
    await shot(chairRoom, 'room-chair');
    await assertCleanLayout(chairRoom, 'room-chair');
    await chairRoom.click(`#hand-queue [data-site="${commune.site}"] .btn.primary`);
    await room.waitForFunction((me) => window.room.conf?.floor === me, commune.site, { timeout: 10000 });
    await room.waitForSelector('.stage-alert', { state: 'hidden' }); // the floor unmutes it
    await admin.waitForFunction((me) => window.adminConference.live?.floor === me, commune.site);

    // A roll call of the 13 rooms, half a second each: the attendance lists it present.
    await admin.fill('#rc-seconds', '0.5');
    await admin.click('#rc-start');
    await admin.waitForSelector('#rc-site', { timeout: 5000 });
    await admin.$eval('#card-rollcall', (el) => el.scrollIntoView());
    await shot(admin, 'admin-live-rollcall');
    await admin.waitForFunction(() => window.adminConference.live && !window.adminConference.live.rollcall, null, { timeout: 60000 });
    await admin.click('[data-tab="attendance"]');
    await admin.waitForSelector(`.att-table tr[data-site="${commune.site}"] [data-rollcall="present"]`, { timeout: 10000 });
    const row = await admin.textContent(`.att-table tr[data-site="${commune.site}"]`);
    assert.match(row, /Điểm cầu Phường Mỹ Bình/);
    assert.match(row, /Có mặt/);
    const csv = await api.get(`/conferences/${cid}/attendance?format=csv`);
    assert.match(csv.text, new RegExp(`\\r\\n${commune.site},Điểm cầu Phường Mỹ Bình,30280,Phường Mỹ Bình,\\d+,,1,\\d+,present\\r\\n`));
    await shot(admin, 'admin-attendance');
    await assertCleanLayout(admin, 'admin-attendance');

    // At 1920x1080 too.
    await shot(room, 'room-meeting-1080', { width: 1920, height: 1080 });
    await assertCleanLayout(room, 'room-meeting-1080');
    await admin.click('[data-tab="control"]');
    await admin.waitForSelector('#roster');
    await shot(admin, 'admin-live-1080', { width: 1920, height: 1080 });
    await assertCleanLayout(admin, 'admin-live-1080');
    await room.setViewportSize({ width: 1280, height: 720 });

    // The server restarts: the room shows that it lost the link, then comes back by itself.
    srv.child.kill('SIGKILL');
    await srv.exitPromise;
    await room.waitForSelector('#conn-banner:not([hidden])', { timeout: 10000 });
    await shot(room, 'room-reconnecting');
    srv = await startServer({ dir: srv.dir, port: srv.port, env: { MCU_ADMIN_PASSWORD: PASSWORD },
      args: ['--units-file', UNITS, '--test-conferences', 'false', '--consent-timeout-ms', '600000'] });
    await room.waitForFunction(() => window.room.media === 'connected' && window.room.conn === 'signedin', null, { timeout: 30000 });
    await room.waitForSelector('#conn-banner', { state: 'hidden' });
    // The admin page was signed out by the restart; it asks to sign in again.
    await admin.waitForSelector('#login-form', { timeout: 15000 });
    await adminLogin(admin, srv);
    await admin.goto(`${srv.base}/admin/#/conferences/${cid}`);
    await admin.waitForSelector(`#roster tr[data-site="${commune.site}"].joined`, { timeout: 15000 });

    // The end sends the room back to its idle screen.
    await admin.click('#btn-end');
    await admin.click('#dlg-ok');
    await room.waitForFunction(() => document.body.dataset.screen === 'idle', null, { timeout: 10000 });
    assert.match(await room.textContent('#idle-notice'), /Hội nghị đã được quản trị viên kết thúc/);
    assert.deepEqual(errors, []);
  } finally {
    for (const b of bots) b.close();
    await browser.cleanup();
    rmSync(wav, { force: true });
    const res = await stopServer(srv);
    assert.equal(sanitizerReport(srv.stderr), null);
    assert.equal(res.code, 0);
  }
});
