// Recording and live streaming from the admin panel, the way an operator does it: two
// synthetic commune rooms (mcu-load, Opus + VP8) and a real room PC (Chromium) in a
// conference started from the panel; the operator presses Record and sees the red REC with
// its clock (and the room shows "Recording" in its top bar), streams it live and finds the
// HLS address working, stops after ~5 s, and finds the recording on the Recordings page as
// "done" with its length and a WebM download; the conference form's two "automatically"
// boxes reach the conference. Screenshots in build/screenshots/, checked for text that is
// cut off or overlapping; both pages switched to English and back leave no Vietnamese.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadRooms, roomsServer, until } from './rooms_lib.mjs';
import { launchChromium } from './browser.mjs';
import { closeWebTest, provisioningLink, adminLogin, shot, speechWav, assertCleanLayout, goAdmin, switchLanguageAndCheck } from './web_lib.mjs';

const TITLE = 'Giao ban trực tuyến Thành phố Long Xuyên về chuyển đổi số';

let srv, browser, admin, room, load, st, wav, cid;
const creds = {};
const errors = [];




// Every string of the other language must be gone once a language is chosen.

before(async () => {
  srv = await roomsServer();
  const prov = await srv.api.post('/sites/provision', { unit: '883', subtree: true });
  assert.ok(prov.status === 200 || prov.status === 201, prov.text);
  for (const c of prov.json.sites) creds[c.unit] = c;
  // Two communes played by mcu-load (both publish video, both talk), one room PC in Chromium.
  const bots = [creds['30280'], creds['30283']];
  const credFile = path.join(srv.dir, 'sites-web-rec.json');
  writeFileSync(credFile, JSON.stringify({ sites: bots }), { mode: 0o600 });
  const ids = [...bots.map((c) => c.site), creds['30286'].site];
  const r = await srv.api.post('/conferences', { title: TITLE, host_unit: '883', invite: { sites: ids }, chair_site: creds['30286'].site });
  assert.equal(r.status, 201, r.text);
  cid = r.json.conference.id;
  ({ load, st } = await loadRooms(srv, credFile, bots.map((c) => c.site), 2, 240));

  wav = speechWav(path.join(os.tmpdir(), `mcu-speech-rec-${process.pid}.wav`));
  browser = await launchChromium(['--autoplay-policy=no-user-gesture-required', `--use-file-for-fake-audio-capture=${wav}`]);
  room = await browser.newPage();
  await room.setViewportSize({ width: 1280, height: 720 });
  room.on('pageerror', (e) => errors.push(`room: ${e.message}`));
  await room.goto(provisioningLink(srv, creds['30286']));
  await room.waitForFunction(() => window.room?.conn === 'signedin', null, { timeout: 15000 });
  admin = await browser.newPage();
  await admin.setViewportSize({ width: 1280, height: 720 });
  admin.on('pageerror', (e) => errors.push(`admin: ${e.message}`));
  await adminLogin(admin, srv);
});

after(async () => {
  load?.kill('SIGTERM');
  await closeWebTest({ browser, wav, srv, errors });
});

test('the conference form sets "record" and "stream automatically"', { timeout: 30000 }, async () => {
  await goAdmin(admin, srv, '/conferences/new', '#conf-form');
  await admin.fill('#cf-title', 'Hội nghị tự động ghi hình');
  await admin.selectOption('#cf-host', '883');
  await admin.check('#cf-record');
  assert.equal(await admin.isChecked('#cf-stream'), false);
  await admin.click('#cf-save');
  await admin.waitForURL(/#\/conferences\/\d+$/);
  const id = Number(admin.url().match(/(\d+)$/)[1]);
  let c = (await srv.api.get(`/conferences/${id}`)).json.conference;
  assert.equal(c.record, true);
  assert.equal(c.stream, false);
  await goAdmin(admin, srv, `/conferences/${id}/edit`, '#conf-form');
  assert.equal(await admin.isChecked('#cf-record'), true);
  await admin.uncheck('#cf-record');
  await admin.check('#cf-stream');
  await admin.click('#cf-save');
  await admin.waitForURL(new RegExp(`#/conferences/${id}$`));
  c = (await srv.api.get(`/conferences/${id}`)).json.conference;
  assert.deepEqual([c.record, c.stream], [false, true]);
  assert.equal((await srv.api.del(`/conferences/${id}`)).status, 200);
});

test('record and stream a live conference from its page; the recording is listed and downloads', { timeout: 120000 }, async () => {
  // The operator starts the conference from its page; the three rooms join.
  await goAdmin(admin, srv, `/conferences/${cid}`, '#btn-start');
  // The page has this conference loaded (not the last page's) before the click.
  await admin.waitForFunction((id) => String(window.adminConference?.conf?.id) === String(id), cid);
  await admin.click('#btn-start');
  await until(async () => (await srv.api.get(`/conferences/${cid}`)).json.conference.state === 'live', 15000, 'the conference is live');
  await admin.waitForSelector('#card-rec #btn-rec', { timeout: 15000 });
  await until(() => st.status?.media === 2, 30000, () => `mcu-load rooms in media: ${JSON.stringify(st.status)}`);
  await room.waitForFunction(() => window.room?.media === 'connected', null, { timeout: 30000 });
  assert.equal(await room.$('#rec-badge'), null, 'no recording badge before recording');
  assert.match(await admin.textContent('#card-rec'), /Chưa ghi hình/);

  // Record: the REC indicator with a running clock, and the badge in the room.
  await admin.click('#btn-rec');
  await admin.waitForSelector('#rec-indicator', { timeout: 10000 });
  const t0 = Date.now();
  assert.match(await admin.textContent('#rec-indicator'), /^REC\s*0:00:0\d$/);
  assert.match(await admin.textContent('#btn-rec'), /Dừng ghi/);
  await room.waitForSelector('#rec-badge', { timeout: 10000 });
  assert.match(await room.textContent('#rec-badge'), /Đang ghi hình/);

  // Stream live: the watch address in the card answers with a playlist.
  await admin.click('#btn-stream');
  await admin.waitForSelector('#stream-url', { timeout: 10000 });
  const url = await admin.getAttribute('#stream-url', 'href');
  assert.match(url, new RegExp(`^${srv.base}/live/${cid}/[0-9a-f]{32}/index\\.m3u8$`));
  await until(async () => { const x = await fetch(url); return x.status === 200 && /#EXTM3U/.test(await x.text()); }, 20000, 'the HLS playlist');
  await admin.waitForFunction(() => /^REC\s*0:00:0[2-9]$/.test(document.querySelector('#rec-indicator')?.textContent || ''), null, { timeout: 5000 });
  await admin.waitForSelector('#stream-indicator');
  await admin.waitForSelector('.toast', { state: 'detached', timeout: 10000 }); // "started" toasts, gone after 5 s
  await shot(admin, 'admin-live-recording');
  await assertCleanLayout(admin, 'admin-live-recording');
  await shot(room, 'room-recording');
  await assertCleanLayout(room, 'room-recording');
  await switchLanguageAndCheck(admin, 'admin-live-recording');

  await admin.click('#btn-stream');
  await admin.waitForSelector('#stream-indicator', { state: 'detached', timeout: 20000 }); // its recorder may still transcode
  await until(async () => (await fetch(url)).status === 404, 10000, 'the stream is gone');

  // Stop after ~5 s: the indicator goes, in the room too.
  await admin.waitForTimeout(Math.max(0, t0 + 5000 - Date.now()));
  await admin.click('#btn-rec');
  await admin.waitForSelector('#rec-indicator', { state: 'detached', timeout: 15000 });
  await room.waitForSelector('#rec-badge', { state: 'detached', timeout: 10000 });
  assert.match(await admin.textContent('#btn-rec'), /Ghi hình/);

  // The Recordings page: the row, done, with its length; the file downloads as WebM.
  let list;
  await until(async () => { list = (await srv.api.get('/recordings')).json.recordings; return list[0]?.state === 'done'; }, 15000, () => `done: ${JSON.stringify(list)}`);
  await admin.click('[data-nav="recordings"]');
  await admin.waitForSelector(`table.recs tr[data-rec="${list[0].id}"]`);
  const row = `table.recs tr[data-rec="${list[0].id}"]`;
  const text = (await admin.textContent(row)).replace(/\s+/g, ' ');
  assert.match(text, new RegExp(TITLE));
  assert.match(text, /Thành phố Long Xuyên/);
  assert.match(text, /Điều hành viên/);
  assert.match(await admin.textContent(`${row} .pill`), /^Hoàn tất$/i);
  const len = await admin.textContent(`${row} [data-len]`);
  const secs = Math.floor(list[0].duration_ms / 1000);
  assert.ok(secs >= 4 && secs < 30, `recorded ${list[0].duration_ms} ms`);
  assert.equal(len, `0:00:${String(secs).padStart(2, '0')}`);
  assert.match(text, /\d+,\d MB/);
  const href = await admin.getAttribute(`${row} [data-act="download"]`, 'href');
  assert.equal(href, `/api/v1/recordings/${list[0].id}/file`);
  const dl = await admin.evaluate(async (u) => {
    const r = await fetch(u);
    const b = await r.arrayBuffer();
    return { status: r.status, type: r.headers.get('content-type'), disp: r.headers.get('content-disposition'), size: b.byteLength,
      magic: [...new Uint8Array(b.slice(0, 4))] };
  }, href);
  assert.equal(dl.status, 200);
  assert.match(dl.type, /^video\/webm/);
  assert.match(dl.disp || '', /attachment/);
  assert.deepEqual(dl.magic, [0x1a, 0x45, 0xdf, 0xa3], 'an EBML (WebM) file');
  assert.ok(dl.size > 20000, `size ${dl.size}`);
  await admin.waitForSelector('.toast', { state: 'detached', timeout: 10000 });
  await shot(admin, 'admin-recordings');
  await assertCleanLayout(admin, 'admin-recordings');
  await switchLanguageAndCheck(admin, 'admin-recordings-list');

  // Filtered by the conference, from its attendance tab.
  await goAdmin(admin, srv, `/conferences/${cid}`, '#card-rec');
  await admin.click('[data-tab="attendance"]');
  await admin.click('#btn-att-recs');
  await admin.waitForSelector('#rec-filter');
  assert.match(await admin.textContent('#rec-filter'), new RegExp(TITLE));
  assert.equal(await admin.$$eval('table.recs tbody tr', (x) => x.length), 1);
});

test('after the meeting: its recordings on its page, and deleting one', { timeout: 60000 }, async () => {
  assert.equal((await srv.api.post(`/conferences/${cid}/end`)).status, 200);
  await goAdmin(admin, srv, `/conferences/${cid}`, '#conf-recs:not([hidden]) table.recs tbody tr');
  await shot(admin, 'admin-conference-recordings');
  await assertCleanLayout(admin, 'admin-conference-recordings');
  const id = await admin.getAttribute('#conf-recs table.recs tbody tr', 'data-rec');
  await admin.click('#conf-recs [data-act="delete"]');
  await admin.waitForSelector('#dlg-ok');
  await shot(admin, 'admin-recording-delete');
  await assertCleanLayout(admin, 'admin-recording-delete');
  await admin.click('#dlg-ok');
  await admin.waitForSelector('#conf-recs[hidden]', { state: 'attached', timeout: 10000 });
  assert.equal((await srv.api.get(`/recordings/${id}`)).status, 404);
  await goAdmin(admin, srv, '/recordings', '#page .empty-state');
  assert.match(await admin.textContent('#page'), /Chưa có bản ghi hình nào/);
});
