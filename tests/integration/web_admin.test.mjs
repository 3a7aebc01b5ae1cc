// The admin panel page by page, with An Giang's 167 sites and a realistic set of
// conferences: the conferences list, a new conference made with the subtree selector, the
// unit tree with online and in-conference sites, a provisioning link that signs a room PC
// in, link monitoring (real samples with alarms, the charts, and the no-data state), the
// audit log and the server status. Each page is checked for text that is cut off or
// overlapping and saved to build/screenshots/; then every page, and the room client's
// screens, are switched to English and back and must show no string of the other language.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { Site, until, Api } from './rooms_lib.mjs';
import { launchChromium } from './browser.mjs';
import { closeWebTest, provinceServer, provisioningLink, adminLogin, shot, speechWav, assertCleanLayout, goAdmin, switchLanguageAndCheck } from './web_lib.mjs';

let srv, browser, admin, chairRoom, wav;
const bots = [];
const conf = {};
const errors = [];



const at = (days, hh, mm) => { const d = new Date(); d.setDate(d.getDate() + days); d.setHours(hh, mm, 0, 0); return d.getTime(); };

before(async () => {
  srv = await provinceServer({ args: ['--monitor-sample-s', '1'] });
  const { api } = srv;
  const B = srv.byUnit;
  // Accounts, and a mistyped password for the audit log.
  await api.post('/users', { username: 'vp.ubnd', password: 'An-Giang-2026', role: 'operator', unit: '89' });
  await api.post('/users', { username: 'op.longxuyen', password: 'Long-Xuyen-2026', role: 'operator', unit: '883' });
  await new Api(srv.base).call('POST', '/auth/login', { username: 'op.longxuyen', password: 'sai-mat-khau-1' });
  await new Api(srv.base).login('vp.ubnd', 'An-Giang-2026');
  // The province room has a slow link: its traffic goes past 90 % of it. Nobody here watches
  // its video, so the server pauses all but its lowest simulcast layer (~150 kb/s with the
  // audio both ways): the link is smaller still.
  await api.patch(`/sites/${B['89'].site}`, { link_kbps: 150 });

  const mk = async (body) => { const r = await api.post('/conferences', body); assert.equal(r.status, 201, r.text); return r.json.conference.id; };
  conf.ended = await mk({ title: 'Họp Ban Chỉ đạo phòng, chống thiên tai và tìm kiếm cứu nạn tỉnh', host_unit: '89', invite: { own: true, levels: [2] }, chair_site: B['89'].site });
  conf.live = await mk({ title: 'Giao ban trực tuyến UBND tỉnh An Giang tuần 48', host_unit: '89', invite: { own: true, levels: [2] }, chair_site: B['89'].site });
  conf.next = await mk({ title: 'Hội nghị triển khai nhiệm vụ phát triển kinh tế - xã hội năm 2026', host_unit: '89', invite: { own: true, subtree: true },
    chair_site: B['89'].site, schedule: { start: at(1, 8, 0), end: at(1, 11, 30) } });
  conf.training = await mk({ title: 'Tập huấn chuyển đổi số cho cán bộ cấp xã', host_unit: '883', invite: { own: true, subtree: true },
    chair_site: B['883'].site, schedule: { start: at(3, 14, 0), end: at(3, 16, 30) }, pin: '2468' });

  // District rooms as synthetic sites; Long Xuyên's communes online and idle.
  const url = `ws://127.0.0.1:${srv.port}/ws`;
  for (const c of srv.creds) {
    const u = c.unit;
    if ((u.length === 3 && u !== '89') || ['30280', '30283', '30286', '30289', '30292'].includes(u)) {
      const s = new Site(url, c); bots.push(s); s.connect();
    }
  }
  await until(() => bots.every((b) => b.status === 'idle'), 15000, 'rooms signed in');
  // An earlier meeting, now over, with its attendance.
  await api.post(`/conferences/${conf.ended}/start`);
  await until(() => bots.filter((b) => b.status === 'joined').length === 11, 15000, 'joined the earlier meeting');
  await api.post(`/conferences/${conf.ended}/control`, { action: 'rollcall_start', seconds: 0.2 });
  await until(async () => !(await api.get(`/conferences/${conf.ended}`)).json.conference.live?.rollcall, 15000, 'roll call done');
  await api.post(`/conferences/${conf.ended}/end`);
  await until(() => bots.every((b) => b.status === 'idle'), 10000, 'back to idle');
  // This week's briefing is live, with the province room in a real browser chairing it.
  await api.post(`/conferences/${conf.live}/start`);
  await until(() => bots.filter((b) => b.status === 'joined').length === 11, 15000, 'joined the briefing');
  await api.post(`/conferences/${conf.live}/control`, { action: 'mute_all_except_chair' });

  wav = speechWav(path.join(os.tmpdir(), `mcu-speech-admin-${process.pid}.wav`));
  browser = await launchChromium(['--autoplay-policy=no-user-gesture-required', `--use-file-for-fake-audio-capture=${wav}`]);
  chairRoom = await browser.newPage();
  await chairRoom.setViewportSize({ width: 1280, height: 720 });
  chairRoom.on('pageerror', (e) => errors.push(`room: ${e.message}`));
  await chairRoom.goto(provisioningLink(srv, B['89']));
  await chairRoom.waitForFunction(() => window.room?.media === 'connected', null, { timeout: 20000 });
  await bots.find((b) => b.id === B['886'].site).ask({ type: 'hand', raised: true });
  await bots.find((b) => b.id === B['887'].site).ask({ type: 'hand', raised: true });

  admin = await browser.newPage();
  await admin.setViewportSize({ width: 1280, height: 720 });
  admin.on('pageerror', (e) => errors.push(`admin: ${e.message}`));
});

after(async () => {
  for (const b of bots) b.close();
  await closeWebTest({ browser, wav, srv, errors });
});

test('sign-in, conferences list, a scheduled conference, the audit log and the server status', { timeout: 60000 }, async () => {
  await admin.goto(`${srv.base}/admin/`);
  await admin.waitForSelector('#login-form');
  await admin.fill('#login-user', 'admin');
  await admin.fill('#login-pass', 'mat-khau-sai-9');
  await admin.click('#login-submit');
  await admin.waitForSelector('#login-error:not([hidden])');
  assert.match(await admin.textContent('#login-error'), /Tên đăng nhập hoặc mật khẩu không đúng/);
  await admin.fill('#login-user', '');
  await admin.fill('#login-pass', '');
  await shot(admin, 'admin-login');
  await assertCleanLayout(admin, 'admin-login');
  await adminLogin(admin, srv);

  await admin.waitForSelector(`tr[data-conf="${conf.live}"]`);
  const rows = await admin.$$eval('table.confs tbody tr', (trs) => trs.map((tr) => tr.textContent));
  assert.equal(rows.length, 4);
  assert.match(rows[0], /Giao ban trực tuyến UBND tỉnh An Giang tuần 48.*Đang diễn ra/);
  await shot(admin, 'admin-conferences');
  await assertCleanLayout(admin, 'admin-conferences');
  await shot(admin, 'admin-conferences-1080', { width: 1920, height: 1080 });
  await assertCleanLayout(admin, 'admin-conferences-1080');
  await admin.setViewportSize({ width: 1280, height: 720 });

  // A scheduled conference: when it starts, and its (empty) attendance.
  await goAdmin(admin, srv, `/conferences/${conf.training}`, '.conf-head');
  assert.match(await admin.textContent('.conf-head'), /Có mã PIN/);
  assert.match(await admin.textContent('#page'), /Tự bắt đầu lúc/);
  await shot(admin, 'admin-conference-scheduled');
  await assertCleanLayout(admin, 'admin-conference-scheduled');
  // The earlier meeting: its attendance and roll call, exported.
  await goAdmin(admin, srv, `/conferences/${conf.ended}`, '.conf-head');
  await admin.click('[data-tab="attendance"]');
  await admin.waitForSelector('.att-table tbody tr');
  assert.equal(await admin.$$eval('.att-table tbody tr [data-rollcall="present"]', (x) => x.length), 11);
  const href = await admin.getAttribute('#btn-att-csv', 'href');
  const csv = await admin.evaluate(async (u) => (await fetch(u)).text(), href);
  assert.match(csv, /^site,name,unit,unit_name,first_join,last_leave,joins,seconds,rollcall\r\n/);
  assert.equal(csv.trim().split('\r\n').length, 13);

  await goAdmin(admin, srv, '/audit', 'table.audit tbody tr');
  const audit = await admin.textContent('table.audit');
  assert.match(audit, /op\.longxuyen/);
  assert.match(audit, /Sai thông tin/);
  assert.match(audit, /Bắt đầu hội nghị/);
  await admin.selectOption('#audit-kind', 'auth');
  assert.ok((await admin.$$eval('table.audit tbody tr', (x) => x.map((r) => r.textContent))).every((r) => /auth\./.test(r)));
  await admin.selectOption('#audit-kind', 'all');
  await shot(admin, 'admin-audit');
  await assertCleanLayout(admin, 'admin-audit');

  await goAdmin(admin, srv, '/status', '#workers tbody tr[data-worker="1"]');
  assert.match(await admin.textContent('#overall'), /Hoạt động tốt/);
  await shot(admin, 'admin-status');
  await assertCleanLayout(admin, 'admin-status');
});

test('a conference made with the subtree selector invites what it showed', { timeout: 60000 }, async () => {
  await goAdmin(admin, srv, '/conferences/new', '#conf-form');
  await admin.fill('#cf-title', 'Họp trực tuyến Thành phố Long Xuyên về công tác cải cách hành chính');
  await admin.selectOption('#cf-host', '883');
  assert.match(await admin.textContent('#cf-count'), /Sẽ mời 13 điểm cầu/);
  await admin.check('#inv-level-3');
  assert.match(await admin.textContent('#cf-count'), /Sẽ mời 13 điểm cầu/); // the communes and the city itself
  await admin.uncheck('#cf-own');
  assert.match(await admin.textContent('#cf-count'), /Sẽ mời 12 điểm cầu/);
  await admin.check('#inv-custom');
  await admin.uncheck('#cf-tree input[data-unit="30310"]');
  await admin.uncheck('#cf-tree input[data-unit="30313"]');
  assert.match(await admin.textContent('#cf-count'), /Sẽ mời 11 điểm cầu/);
  assert.equal(await admin.$eval('#cf-tree input[data-unit="883"]', (x) => x.indeterminate), true);
  await admin.check('#sched-when');
  const day = new Date(at(2, 0, 0));
  await admin.fill('#cf-day', `${day.getFullYear()}-${String(day.getMonth() + 1).padStart(2, '0')}-${String(day.getDate()).padStart(2, '0')}`);
  await admin.fill('#cf-from', '09:00');
  await admin.fill('#cf-to', '10:30');
  await admin.selectOption('#cf-chair', String(srv.byUnit['883'].site));
  await shot(admin, 'admin-conference-new');
  await assertCleanLayout(admin, 'admin-conference-new');
  await admin.click('#cf-save');
  await admin.waitForURL(/#\/conferences\/\d+$/);
  const id = Number(admin.url().match(/(\d+)$/)[1]);
  const c = (await srv.api.get(`/conferences/${id}`)).json.conference;
  assert.equal(c.invited, 11);
  assert.equal(c.state, 'scheduled');
  assert.equal(c.chair_site, srv.byUnit['883'].site);
  assert.equal(new Date(c.start_at).getHours(), 9);
  assert.deepEqual({ ...c.invite, units: [...c.invite.units].sort() }, { own: true, units: ['30280', '30283', '30286', '30289', '30292', '30295', '30298', '30301', '30304', '30307'] });
});

test('units and sites: states, and a provisioning link that signs a room PC in', { timeout: 60000 }, async () => {
  await goAdmin(admin, srv, '/sites/883', 'table.sites tbody tr');
  const state = async (unit) => admin.textContent(`table.sites tr[data-site="${srv.byUnit[unit].site}"] .pill`);
  assert.match(await state('883'), /Đang họp/);
  assert.match(await state('30280'), /Trực tuyến, chờ/);
  assert.match(await state('30310'), /Ngoại tuyến/);
  assert.match(await admin.textContent('.tree-row.active'), /Thành phố Long Xuyên\s*6\/13/);
  await shot(admin, 'admin-sites');
  await assertCleanLayout(admin, 'admin-sites');

  // A new credential for Xã Mỹ Khánh, handed over as a link: the room PC opens it.
  const target = srv.byUnit['30310'];
  await admin.click(`table.sites tr[data-site="${target.site}"] [data-act="link"]`);
  await admin.click('#dlg-ok');
  await admin.waitForSelector('#prov-link');
  const link = await admin.inputValue('#prov-link');
  assert.match(link, new RegExp(`/room/#site=${target.site}&secret=`));
  await shot(admin, 'admin-sites-link');
  await assertCleanLayout(admin, 'admin-sites-link');
  await admin.keyboard.press('Escape');
  const pc = await browser.newPage();
  await pc.goto(link);
  await pc.waitForFunction(() => window.room?.conn === 'signedin', null, { timeout: 15000 });
  assert.equal(await pc.textContent('#idle-name'), 'Điểm cầu Xã Mỹ Khánh');
  await pc.close();
  // The old credential no longer works.
  const old = new Site(`ws://127.0.0.1:${srv.port}/ws`, target, { reconnect: false });
  old.connect();
  const err = await old.waitFor('error');
  assert.equal(err.code, 'bad_credentials');
  old.close();

  // Last seen: the room PC that just left, another room that came and went, a room online
  // now, a room that never connected.
  const visitor = new Site(`ws://127.0.0.1:${srv.port}/ws`, srv.byUnit['30307'], { reconnect: false });
  visitor.connect();
  await visitor.waitFor('signedin');
  visitor.close();
  await admin.reload();
  await admin.waitForSelector('table.sites tbody tr');
  const seen = (unit) => `table.sites tr[data-site="${srv.byUnit[unit].site}"] td.seen`;
  await until(async () => /vừa xong/.test(await admin.textContent(seen('30310'))), 15000, 'last seen of the room PC');
  assert.match(await state('30310'), /Ngoại tuyến/);
  const when = Number(await admin.getAttribute(`${seen('30310')} [data-seen]`, 'data-seen'));
  assert.ok(Date.now() - when < 60000, `last seen ${when}`);
  assert.match(await admin.getAttribute(`${seen('30310')} [data-seen]`, 'title'), /^\d\d:\d\d \d\d\/\d\d\/\d{4}$/);
  await until(async () => /vừa xong/.test(await admin.textContent(seen('30307'))), 15000, 'last seen of the visitor');
  assert.equal(await admin.textContent(seen('30280')), 'Hiện tại');
  assert.equal(await admin.textContent(seen('30313')), 'Chưa kết nối');
  await admin.click('.tabs [data-tab="offline"]'); // the offline rooms, the visitor first
  await admin.waitForSelector(`table.sites tr[data-site="${srv.byUnit['30280'].site}"]`, { state: 'detached' });
  await shot(admin, 'admin-sites-seen');
  await assertCleanLayout(admin, 'admin-sites-seen');
  await admin.click('.tabs [data-tab="all"]');
});

test('monitoring: real samples with the alarm, the charts, and a clear no-data state', { timeout: 60000 }, async () => {
  // Real samples, one a second here: the province room's link is over 90 %.
  await until(async () => (await srv.api.get('/monitoring/alarms')).json?.alarms?.some((a) => a.unit === '89'), 20000, 'an alarm for the province');
  await goAdmin(admin, srv, '/monitoring/89', '#mon-main[data-state]');
  assert.equal(await admin.getAttribute('#mon-main', 'data-state'), 'data');
  assert.ok(await admin.$$eval('#mon-chart rect.col.alarm', (x) => x.length) > 0, 'alarm columns drawn');
  await admin.waitForSelector('#alarms:not([hidden])');
  assert.match(await admin.textContent('#alarms'), /Tỉnh An Giang/);
  const csv = await admin.evaluate(async (u) => (await fetch(u)).text(), await admin.getAttribute('#mon-csv', 'href'));
  assert.match(csv, /^unit,t,time,kbps_in,kbps_out,capacity_kbps,utilisation,alarm\r\n89,/);
  await shot(admin, 'admin-monitoring');
  await assertCleanLayout(admin, 'admin-monitoring');

  // The charts over a working day of 5-minute samples (served to this page by the test).
  const mon = await browser.newPage();
  mon.on('pageerror', (e) => errors.push(`monitoring: ${e.message}`));
  await mon.route('**/api/v1/monitoring/**', (route) => route.fulfill({ json: syntheticMonitoring(new URL(route.request().url())) }));
  await mon.setViewportSize({ width: 1280, height: 720 });
  await adminLogin(mon, srv);
  await goAdmin(mon, srv, '/monitoring/89', '#mon-main[data-state="data"]');
  await mon.waitForFunction(() => document.querySelectorAll('.mon-card svg.chart').length === 11);
  await shot(mon, 'admin-monitoring-charts');
  await assertCleanLayout(mon, 'admin-monitoring-charts');
  await shot(mon, 'admin-monitoring-charts-1080', { width: 1920, height: 1080 });
  await assertCleanLayout(mon, 'admin-monitoring-charts-1080');
  // Without the monitoring routes: a clear "no data", nothing broken.
  await mon.unroute('**/api/v1/monitoring/**');
  await mon.route('**/api/v1/monitoring/**', (route) => route.fulfill({ status: 404, json: { error: { code: 'not_found', message: 'no such API endpoint' } } }));
  await mon.setViewportSize({ width: 1280, height: 720 });
  await goAdmin(mon, srv, '/monitoring/883', '#mon-main[data-state="nodata"]');
  assert.match(await mon.textContent('#mon-main'), /Chưa có số liệu giám sát/);
  await shot(mon, 'admin-monitoring-nodata');
  await assertCleanLayout(mon, 'admin-monitoring-nodata');
  await mon.close();
});

test('the live console of a conference with raised hands and mute-all', { timeout: 60000 }, async () => {
  await goAdmin(admin, srv, `/conferences/${conf.live}`, `#roster tr[data-site="${srv.byUnit['89'].site}"].joined`);
  await admin.waitForSelector('#hand-queue li', { timeout: 10000 });
  assert.equal(await admin.$$eval('#hand-queue li', (x) => x.length), 2);
  assert.match(await admin.textContent('#btn-muteall'), /Bật micro tất cả/);
  await admin.waitForSelector(`#roster tr[data-site="${srv.byUnit['89'].site}"] .q-rate`, { timeout: 10000 }); // quality figures came
  await shot(admin, 'admin-live-hands');
  await assertCleanLayout(admin, 'admin-live-hands');
});

// Every string of `from` that `to` translates differently must be gone once `to` is chosen.

test('switching the language changes every visible string', { timeout: 120000 }, async () => {
  const page = await browser.newPage();
  page.on('pageerror', (e) => errors.push(`lang: ${e.message}`));
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(`${srv.base}/`);
  await switchLanguageAndCheck(page, 'landing');
  await page.context().clearCookies(); // signed out, to see the sign-in page
  await page.goto(`${srv.base}/admin/`);
  await page.waitForSelector('#login-form');
  await switchLanguageAndCheck(page, 'admin-login');
  await adminLogin(page, srv);
  const pages = [
    ['conferences', '/conferences', 'table.confs'],
    ['conference-new', '/conferences/new', '#cf-tree, #conf-form'],
    ['live', `/conferences/${conf.live}`, '#roster tbody tr'],
    ['scheduled', `/conferences/${conf.training}`, '.conf-head'],
    ['sites', '/sites/883', 'table.sites'],
    ['monitoring', '/monitoring/89', '#mon-main[data-state]'],
    ['recordings', '/recordings', '#page .empty-state, table.recs'],
    ['audit', '/audit', 'table.audit'],
    ['status', '/status', '#workers'],
  ];
  for (const [name, route, ready] of pages) {
    await goAdmin(page, srv, route, ready);
    await switchLanguageAndCheck(page, `admin-${name}`);
  }
  await goAdmin(page, srv, `/conferences/${conf.ended}`, '.conf-head');
  await page.click('[data-tab="attendance"]');
  await page.waitForSelector('.att-table');
  await switchLanguageAndCheck(page, 'admin-attendance');
  await page.close();

  // The room client: sign-in, idle, and the chair's meeting screen.
  const room = await browser.newPage();
  await room.setViewportSize({ width: 1280, height: 720 });
  await room.goto(`${srv.base}/room/`);
  await room.evaluate(() => localStorage.removeItem('mcu.room.credential'));
  await room.reload();
  await room.waitForSelector('#signin-form');
  await switchLanguageAndCheck(room, 'room-signin');
  await room.goto(provisioningLink(srv, srv.byUnit['30313']));
  await room.waitForFunction(() => window.room?.conn === 'signedin' && window.room.stream);
  await switchLanguageAndCheck(room, 'room-idle');
  await room.close();
  await switchLanguageAndCheck(chairRoom, 'room-chair');
});

// A working day of 5-minute samples for a unit: quiet at night, two meetings a day, and a
// district whose link runs hot past 90 % during the afternoon meeting.
function syntheticMonitoring(url) {
  if (url.pathname.endsWith('/alarms')) {
    return { alarms: [{ unit: '886', name: 'Huyện Châu Phú', t: Date.now() - 3600e3, utilisation: 0.94 },
      { unit: '30280', name: 'Phường Mỹ Bình', t: Date.now() - 7200e3, utilisation: 0.92 }] };
  }
  const unit = decodeURIComponent(url.pathname.split('/').pop());
  const from = Number(url.searchParams.get('from')), to = Number(url.searchParams.get('to'));
  const step = 300e3;
  const seed = [...unit].reduce((a, ch) => a * 31 + ch.charCodeAt(0), 7) % 1000;
  const capacity = unit === '89' ? 8000 : 2000 + (seed % 4) * 500;
  const hot = unit === '886' || unit === '89';
  const samples = [];
  for (let t = Math.ceil(from / step) * step; t < to; t += step) {
    const h = new Date(t).getHours() + new Date(t).getMinutes() / 60;
    let u = 0.04 + 0.03 * Math.sin(t / 7e6 + seed);
    if (h >= 8 && h < 11) u = 0.55 + 0.15 * Math.sin(t / 9e5 + seed) + (seed % 10) / 100;
    if (h >= 14 && h < 16.5) u = (hot ? 0.78 : 0.5) + 0.14 * Math.abs(Math.sin(t / 6e5 + seed));
    u = Math.max(0, u);
    samples.push({ t, kbps_in: Math.round(u * capacity * 0.45), kbps_out: Math.round(u * capacity * 0.55), utilisation: Math.round(u * 1000) / 1000, alarm: u > 0.9 });
  }
  const names = { 89: 'Tỉnh An Giang' };
  return { unit, name: names[unit] || unit, capacity_kbps: capacity, threshold: 0.9, sample_s: 300, samples };
}
