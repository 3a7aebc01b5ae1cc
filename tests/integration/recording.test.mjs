// Recording and live streaming, the way a province uses them: two synthetic commune rooms
// (mcu-load, Opus + VP8 simulcast) talk in turn while the operator records the conference
// and streams it live. ffprobe must find one audio and one video stream of the right length
// in the WebM, each room's signature tone in its own time window, and ffmpeg must play the
// HLS playlist while the conference runs; a viewer over the limit is refused. A server
// killed with SIGKILL mid-recording leaves a file that decodes up to its last seconds, marked
// interrupted after the restart. A full disk stops the recording, not the conference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { ROOT, sleep, startServer, stopServer, sanitizerReport } from './lib.mjs';
import { Api, PASSWORD, UNITS, loadRooms, roomsServer, until } from './rooms_lib.mjs';

const TONE_A = 500, TONE_B = 650; // mcu-load's signature tones of talkers 0 and 1

function ffprobe(file) {
  const r = spawnSync('ffprobe', ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, `ffprobe: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

// Mono 8 kHz PCM of the file's audio, and what ffmpeg said while decoding everything.
function decode(file) {
  const a = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:a', '-ac', '1', '-ar', '8000', '-f', 's16le', '-'],
    { maxBuffer: 64 << 20 });
  // vfr: the null muxer would otherwise count in 1/25 s and complain of two frames in one
  // tick (a source switch may put frames closer than 40 ms); decoder errors still show.
  const v = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:v', '-vsync', 'vfr', '-f', 'null', '-'], { encoding: 'utf8' });
  const pcm = new Int16Array(a.stdout.buffer, a.stdout.byteOffset, a.stdout.length >> 1);
  return { pcm, audioErr: a.stderr.toString(), videoErr: v.stderr, status: a.status };
}

// Power of one frequency over [t0, t1) seconds of 8 kHz PCM, in dB relative to full scale.
function toneDb(pcm, hz, t0, t1) {
  const rate = 8000, a = Math.floor(t0 * rate), b = Math.min(pcm.length, Math.floor(t1 * rate));
  const w = 2 * Math.PI * hz / rate, c = 2 * Math.cos(w);
  let s1 = 0, s2 = 0;
  for (let i = a; i < b; i++) { const s0 = pcm[i] / 32768 + c * s1 - s2; s2 = s1; s1 = s0; }
  const p = s1 * s1 + s2 * s2 - c * s1 * s2, n = b - a;
  return 10 * Math.log10((p / (n * n / 4)) + 1e-12);
}

function videoFrames(file) {
  const r = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries',
    'stream=nb_read_frames', '-of', 'csv=p=0', file], { encoding: 'utf8' });
  return parseInt(r.stdout, 10) || 0;
}

function getFrom(url, localAddress) {
  return new Promise((resolve, reject) => {
    http.get(url, { localAddress }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
}

async function download(api, id, out) {
  const r = await fetch(`${api.base}/api/v1/recordings/${id}/file`, { headers: { authorization: `Bearer ${api.token}` } });
  assert.equal(r.status, 200, `download: ${r.status}`);
  assert.match(r.headers.get('content-disposition') || '', /attachment/);
  writeFileSync(out, Buffer.from(await r.arrayBuffer()));
}

// Two communes of district 883 with credentials in a file, a conference inviting them, and
// mcu-load playing both rooms (both publish video; a talks, then b).
async function twoRooms(srv, title, extra = {}) {
  const { api } = srv;
  const prov = await api.post('/sites/provision', { unit: '883', subtree: true });
  assert.equal(prov.status, 201, prov.text);
  const creds = prov.json.sites.filter((c) => ['30280', '30283'].includes(c.unit));
  const credFile = path.join(srv.dir, `sites-${Date.now()}.json`);
  writeFileSync(credFile, JSON.stringify({ sites: creds }), { mode: 0o600 });
  const [a, b] = creds.map((c) => c.site);
  const conf = await api.post('/conferences', { title, host_unit: '883', invite: { sites: [a, b] }, ...extra });
  assert.equal(conf.status, 201, conf.text);
  const cid = conf.json.conference.id;
  const { load, st } = await loadRooms(srv, credFile, [a, b], 2);
  return { a, b, cid, load, st };
}

const control = async (api, cid, body) => {
  const r = await api.post(`/conferences/${cid}/control`, body);
  assert.equal(r.status, 200, `${body.action}: ${r.text}`);
  return r;
};

test('a 20-second conference is recorded and streamed live; each talker in its window', { timeout: 180000 }, async () => {
  const srv = await roomsServer({ args: ['--live-max-viewers', '1'] });
  const { api } = srv;
  let room = null;
  try {
    room = await twoRooms(srv, 'Giao ban ghi hình');
    const { a, b, cid } = room;
    assert.equal((await api.post(`/conferences/${cid}/start`)).status, 200);
    await until(() => room.st.status?.media === 2, 30000, 'both rooms in media');
    await control(api, cid, { action: 'mute', site: b });
    await sleep(1500);

    // Nothing is streamed yet: the live address says so.
    const none = await fetch(`${srv.base}/live/${cid}/index.m3u8`);
    assert.equal(none.status, 404);
    assert.equal((await none.json()).error.code, 'not_streaming');

    const rec = await control(api, cid, { action: 'record_start' });
    const t0 = Date.now();
    assert.ok(rec.json.live.recording, JSON.stringify(rec.json.live));
    const streamed = await control(api, cid, { action: 'stream_start' });
    const again = await api.post(`/conferences/${cid}/control`, { action: 'record_start' });
    assert.equal(again.status, 409);
    assert.equal(again.json.error.code, 'already_recording');

    // The HLS playlist plays in ffmpeg while the conference runs.
    // Its address carries a random key: trying conference ids finds nothing.
    const path_ = streamed.json.live.streaming.url;
    assert.match(path_, new RegExp(`^/live/${cid}/[0-9a-f]{32}/index\\.m3u8$`));
    for (const guess of [`/live/${cid}/index.m3u8`, `/live/${cid}/${'0'.repeat(32)}/index.m3u8`]) {
      const g = await fetch(`${srv.base}${guess}`);
      assert.equal(g.status, 404, guess);
      assert.equal((await g.json()).error.code, 'not_streaming');
    }
    const url = `${srv.base}${path_}`;
    await until(async () => (await fetch(url)).status === 200 && /\.m4s|\.ts/.test(await (await fetch(url)).text()), 15000, 'playlist with a segment');
    const play = spawnSync('ffmpeg', ['-v', 'error', '-i', url, '-t', '2', '-f', 'null', '-'], { encoding: 'utf8', timeout: 30000 });
    assert.equal(play.status, 0, `ffmpeg plays the live stream: ${play.stderr}`);
    // One viewer allowed: another address is refused while the first keeps watching.
    const other = await getFrom(url, '127.0.0.2');
    assert.equal(other.status, 503, other.body);
    assert.equal(JSON.parse(other.body).error.code, 'too_many_viewers');
    assert.equal((await fetch(url)).status, 200, 'the first viewer still watches');
    const live = (await api.get(`/conferences/${cid}`)).json.conference.live;
    assert.equal(live.streaming.url, path_);
    assert.equal(live.streaming.viewers, 1);

    // a talks for the first 10 s, then b.
    await sleep(Math.max(0, t0 + 10000 - Date.now()));
    await control(api, cid, { action: 'mute', site: a });
    await control(api, cid, { action: 'unmute', site: b });
    await sleep(Math.max(0, t0 + 20000 - Date.now()));
    await control(api, cid, { action: 'record_stop' });
    await control(api, cid, { action: 'stream_stop' });
    let list;
    await until(async () => { list = (await api.get(`/recordings?conference=${cid}`)).json.recordings; return list[0]?.state === 'done'; },
      10000, () => `recording done: ${JSON.stringify(list)}`);
    assert.equal(list.length, 1);
    assert.ok(list[0].bytes > 100000, `size ${list[0].bytes}`);
    assert.ok(Math.abs(list[0].duration_ms - 20000) < 1500, `duration ${list[0].duration_ms}`);
    assert.equal((await fetch(url)).status, 404, 'the stream is gone');
    await until(() => readdirSync(path.join(srv.dir, 'recordings', 'live')).length === 0, 10000, 'HLS files removed');

    // The file, as an admin downloads it.
    const file = path.join(srv.dir, 'download.webm');
    await download(api, list[0].id, file);
    const info = ffprobe(file);
    const audio = info.streams.filter((s) => s.codec_type === 'audio'), video = info.streams.filter((s) => s.codec_type === 'video');
    assert.equal(audio.length, 1, JSON.stringify(info.streams));
    assert.equal(video.length, 1, JSON.stringify(info.streams));
    assert.equal(audio[0].codec_name, 'opus');
    assert.equal(video[0].codec_name, 'vp8');
    const dur = parseFloat(info.format.duration);
    assert.ok(Math.abs(dur - 20) <= 0.5, `duration ${dur} s`);
    const d = decode(file);
    assert.equal(d.status, 0);
    assert.equal(d.videoErr.trim(), '', `video decodes cleanly: ${d.videoErr.slice(0, 500)}`);
    const frames = videoFrames(file);
    assert.ok(frames >= 19 * 25 * 0.8, `video frames: ${frames}`);
    const w1 = [toneDb(d.pcm, TONE_A, 1.5, 9), toneDb(d.pcm, TONE_B, 1.5, 9)];
    const w2 = [toneDb(d.pcm, TONE_A, 11.5, 19), toneDb(d.pcm, TONE_B, 11.5, 19)];
    console.log(`# tones (dBFS) 1.5-9 s: a ${w1[0].toFixed(1)} b ${w1[1].toFixed(1)}; 11.5-19 s: a ${w2[0].toFixed(1)} b ${w2[1].toFixed(1)}; ${frames} video frames; ${dur} s`);
    assert.ok(w1[0] > -40 && w1[0] - w1[1] > 20, `a alone in its window: ${w1}`);
    assert.ok(w2[1] > -40 && w2[1] - w2[0] > 20, `b alone in its window: ${w2}`);

    // Scope and roles: an operator of another district sees nothing; only admins download.
    const ops = await api.post('/users', { username: 'op884', password: 'Chau-Doc-2026-ok', role: 'operator', unit: '884' });
    assert.equal(ops.status, 201, ops.text);
    const op = new Api(srv.base);
    await op.login('op884', 'Chau-Doc-2026-ok');
    assert.equal((await op.get('/recordings')).json.recordings.length, 0);
    assert.equal((await op.get(`/recordings/${list[0].id}`)).status, 403);
    assert.equal((await op.get(`/recordings/${list[0].id}/file`)).status, 403);
  } finally {
    room?.load.kill('SIGTERM');
    const res = await stopServer(srv);
    assert.equal(sanitizerReport(srv.stderr), null);
    assert.equal(res.code, 0);
  }
});

test('SIGKILL during a recording: what was written decodes, and the restart marks it interrupted', { timeout: 120000 }, async () => {
  let srv = await roomsServer();
  let room = null;
  try {
    room = await twoRooms(srv, 'Họp bị ngắt', { record: true });
    const { cid } = room;
    assert.equal((await srv.api.post(`/conferences/${cid}/start`)).status, 200); // records by itself
    await until(() => room.st.status?.media === 2, 30000, 'both rooms in media');
    const rec = (await srv.api.get(`/recordings?conference=${cid}`)).json.recordings[0];
    assert.equal(rec.state, 'recording');
    assert.equal(rec.started_by, 'auto');
    await sleep(10000);
    srv.child.kill('SIGKILL');
    await srv.exitPromise;
    room.load.kill('SIGTERM');
    const file = readdirSync(path.join(srv.dir, 'recordings')).find((f) => f.endsWith('.webm'));
    const full = path.join(srv.dir, 'recordings', file);
    const info = ffprobe(full);
    assert.equal(info.streams.filter((s) => s.codec_type === 'audio').length, 1);
    assert.equal(info.streams.filter((s) => s.codec_type === 'video').length, 1);
    const d = decode(full);
    const secs = d.pcm.length / 8000;
    const frames = videoFrames(full);
    console.log(`# killed after ~10 s: ${secs.toFixed(2)} s of audio and ${frames} video frames decode (${statSync(full).size} bytes)`);
    assert.ok(secs >= 7, `audio decoded: ${secs} s`);
    assert.ok(frames >= 6 * 25, `video frames decoded: ${frames}`);

    srv = await startServer({ dir: srv.dir, env: { MCU_ADMIN_PASSWORD: PASSWORD },
      args: ['--units-file', UNITS, '--test-conferences', 'false'] });
    srv.api = new Api(srv.base);
    await srv.api.login('admin', PASSWORD);
    let list = [];
    // The conference is still live after the restart and records again, into a new file.
    await until(async () => (list = (await srv.api.get(`/recordings?conference=${cid}`)).json.recordings).length === 2,
      5000, () => `a new recording: ${JSON.stringify(list)}`);
    const old = list.find((r) => r.id === rec.id);
    assert.equal(old.state, 'interrupted');
    assert.ok(old.duration_ms >= 5000, `duration kept: ${old.duration_ms}`);
    assert.equal(list[0].state, 'recording');
  } finally {
    room?.load.kill('SIGTERM');
    const res = await stopServer(srv);
    assert.equal(sanitizerReport(srv.stderr), null);
    assert.equal(res.code, 0);
  }
});

test('a full disk stops the recording with an event; the conference goes on', { timeout: 90000, skip: process.getuid() !== 0 && 'needs root to mount a small tmpfs' }, async () => {
  const dir = path.join(ROOT, 'build', `recfull-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { encoding: 'utf8' });
  if (mount.status !== 0) return test.skip?.(`mount: ${mount.stderr}`);
  const srv = await roomsServer({ args: ['--recording-dir', dir, '--recording-min-free-mb', '0'] });
  let room = null;
  try {
    room = await twoRooms(srv, 'Họp đầy đĩa');
    const { cid } = room;
    assert.equal((await srv.api.post(`/conferences/${cid}/start`)).status, 200);
    await until(() => room.st.status?.media === 2, 30000, 'both rooms in media');
    await control(srv.api, cid, { action: 'record_start' });
    let list;
    await until(async () => { list = (await srv.api.get(`/recordings?conference=${cid}`)).json.recordings; return list[0]?.state === 'failed'; },
      40000, () => `recording failed: ${JSON.stringify(list)}`);
    assert.match(list[0].error, /space|full/i);
    const c = (await srv.api.get(`/conferences/${cid}`)).json.conference;
    assert.equal(c.state, 'live');
    assert.equal(c.live.recording, null);
    const t = room.st.status.t;
    await until(() => room.st.status.t > t + 1, 5000, 'status goes on');
    assert.equal(room.st.status.media, 2, 'both rooms still in the conference');
    const audit = (await srv.api.get('/audit?limit=50')).json.entries;
    assert.ok(audit.some((e) => e.action === 'conference.record' && e.result === 'failed'), 'audited');
  } finally {
    room?.load.kill('SIGTERM');
    const res = await stopServer(srv);
    spawnSync('umount', [dir]);
    assert.equal(sanitizerReport(srv.stderr), null);
    assert.equal(res.code, 0);
  }
});

test('retention: finished recordings older than recording_retention_days go, with their files', { timeout: 60000 }, async () => {
  let srv = await roomsServer();
  const { dir } = srv;
  try {
    const conf = await srv.api.post('/conferences', { title: 'Họp cũ', host_unit: '883' });
    const cid = conf.json.conference.id;
    await stopServer(srv, 2000, { keepDir: true });
    const day = 86400000, now = Date.now();
    const rows = [[1, now - 40 * day, 'done'], [2, now - 10 * day, 'done'], [3, now - 50 * day, 'interrupted']];
    mkdirSync(path.join(dir, 'recordings'), { recursive: true });
    const sql = rows.map(([id, at, state]) => `INSERT INTO recordings(id, conference_id, host_unit, title, file, started_at, ended_at, duration_ms, bytes, state) VALUES (${id}, ${cid}, '883', 'Họp cũ', 'conference-${cid}-rec-${id}.webm', ${at - 60000}, ${at}, 60000, 5, '${state}');`).join('');
    const r = spawnSync('sqlite3', [path.join(dir, 'mcu.db'), sql], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    for (const [id] of rows) writeFileSync(path.join(dir, 'recordings', `conference-${cid}-rec-${id}.webm`), 'webm!');
    srv = await startServer({ dir, env: { MCU_ADMIN_PASSWORD: PASSWORD },
      args: ['--units-file', UNITS, '--test-conferences', 'false', '--recording-retention-days', '30'] });
    srv.api = new Api(srv.base);
    await srv.api.login('admin', PASSWORD);
    let list = [];
    await until(async () => (list = (await srv.api.get('/recordings')).json.recordings).length === 1, 5000,
      () => `only the recent one is left: ${JSON.stringify(list)}`);
    assert.equal(list[0].id, 2);
    assert.deepEqual(readdirSync(path.join(dir, 'recordings')).filter((f) => f.endsWith('.webm')), [`conference-${cid}-rec-2.webm`]);
  } finally {
    const res = await stopServer(srv);
    assert.equal(sanitizerReport(srv.stderr), null);
    assert.equal(res.code, 0);
  }
});
