// The room client's idle screen and its next conference, in Chromium: a ward's room PC signs
// in and shows the city's meeting of tomorrow (title, time, host unit); a sooner meeting made
// by the operator replaces it on the screen at once, and once both are deleted the screen
// says nothing is scheduled. In English every string changes, the date included.
// Screenshots go to build/screenshots/ (room-idle-next, room-idle-none, en-room-idle-next).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stopServer, sanitizerReport } from './lib.mjs';
import { roomsServer } from './rooms_lib.mjs';
import { launchChromium } from './browser.mjs';
import { provisioningLink, shot, visibleTexts, foreignPatterns, foreignLeft, assertCleanLayout } from './web_lib.mjs';
import { STRINGS } from '../../web/i18n.js';


const at = (days, hh, mm) => { const d = new Date(); d.setDate(d.getDate() + days); d.setHours(hh, mm, 0, 0); return d.getTime(); };
const two = (n) => String(n).padStart(2, '0');

test('the idle screen shows the next conference and follows the schedule', { timeout: 60000 }, async () => {
  const srv = await roomsServer();
  const { api } = srv;
  const browser = await launchChromium();
  try {
    const creds = (await api.post('/sites/provision', { unit: '883', subtree: true })).json.sites;
    const ward = creds.find((c) => c.unit === '30280');
    const start = at(1, 8, 0);
    const mk = async (body) => { const r = await api.post('/conferences', body); assert.equal(r.status, 201, r.text); return r.json.conference.id; };
    const city = await mk({ title: 'Hội nghị sơ kết công tác quý IV Thành phố Long Xuyên', host_unit: '883',
      invite: { own: true, subtree: true }, schedule: { start, end: at(1, 11, 30) } });

    const room = await browser.newPage();
    await room.setViewportSize({ width: 1280, height: 720 });
    const errors = [];
    room.on('pageerror', (e) => errors.push(e.message));
    await room.goto(provisioningLink(srv, ward));
    await room.waitForFunction(() => window.room?.conn === 'signedin' && document.body.dataset.screen === 'idle', null, { timeout: 15000 });
    await room.waitForSelector('#next-title');
    assert.equal(await room.textContent('#next-title'), 'Hội nghị sơ kết công tác quý IV Thành phố Long Xuyên');
    assert.equal(await room.getAttribute('#next-conf', 'data-conf'), String(city));
    assert.equal(await room.textContent('#next-host'), 'Đơn vị chủ trì: Thành phố Long Xuyên');
    const d = new Date(start);
    assert.match(await room.textContent('#next-conf .next-when'), new RegExp(`08:00 ${two(d.getDate())}/${two(d.getMonth() + 1)}/${d.getFullYear()}`));
    assert.match(await room.textContent('#next-conf'), /Kết thúc lúc 11:30/);
    await room.waitForFunction(() => window.room.stream, null, { timeout: 10000 });
    await shot(room, 'room-idle-next');
    await assertCleanLayout(room, 'room-idle-next');

    // In English: no Vietnamese string is left, and the date is in English order.
    const vi = foreignPatterns(STRINGS, 'vi', 'en').filter((p) => p.key !== 'room.site.n');
    await room.locator('.lang-switch [data-lang="en"]:visible').first().click();
    await room.waitForFunction(() => document.documentElement.lang === 'en');
    assert.equal(await room.textContent('#next-host'), 'Host unit: Thành phố Long Xuyên');
    assert.match(await room.textContent('#next-conf .eyebrow'), /Next conference/);
    assert.deepEqual(foreignLeft(await visibleTexts(room), vi), []);
    await shot(room, 'en-room-idle-next');
    await assertCleanLayout(room, 'en-room-idle-next');
    await room.locator('.lang-switch [data-lang="vi"]:visible').first().click();
    await room.waitForFunction(() => document.documentElement.lang === 'vi');

    // The operator adds a meeting for this afternoon: the screen changes without a reload.
    const soon = await mk({ title: 'Họp khẩn ứng phó triều cường', host_unit: '30280', invite: { own: true },
      schedule: { start: Date.now() + 2 * 3600e3, end: Date.now() + 3 * 3600e3 } });
    await room.waitForFunction((id) => document.querySelector('#next-conf')?.dataset.conf === String(id), soon, { timeout: 5000 });
    assert.equal(await room.textContent('#next-title'), 'Họp khẩn ứng phó triều cường');
    assert.equal(await room.textContent('#next-host'), 'Đơn vị chủ trì: Phường Mỹ Bình');
    assert.match(await room.textContent('#next-rel'), /^sau 2 giờ$/);

    // Both deleted: nothing scheduled.
    assert.equal((await api.del(`/conferences/${soon}`)).status, 200);
    await room.waitForFunction((id) => document.querySelector('#next-conf')?.dataset.conf === String(id), city, { timeout: 5000 });
    assert.equal((await api.del(`/conferences/${city}`)).status, 200);
    await room.waitForSelector('#next-conf.empty', { timeout: 5000 });
    assert.match(await room.textContent('#next-conf'), /Chưa có hội nghị nào được lên lịch/);
    await shot(room, 'room-idle-none');
    await assertCleanLayout(room, 'room-idle-none');
    assert.deepEqual(errors, []);
  } finally {
    await browser.cleanup();
    const res = await stopServer(srv);
    assert.equal(sanitizerReport(srv.stderr), null);
    assert.equal(res.code, 0);
  }
});
