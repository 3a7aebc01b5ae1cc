// Three browsers in one audio conference, each fed its own tone: each must hear the other
// two tones and not its own (mix-minus), measured in the page with WebAudio.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, stopServer, sanitizerReport, sleep, metrics, metricSum } from './lib.mjs';
import { launchChromium } from './browser.mjs';

// A 48 kHz mono 16-bit WAV of a sine at `freq` Hz, -12 dBFS, `seconds` long.
function toneWav(file, freq, seconds = 10) {
  const rate = 48000, n = rate * seconds, data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) data.writeInt16LE(Math.round(8000 * Math.sin(2 * Math.PI * freq * i / rate)), i * 2);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0); h.writeUInt32LE(36 + data.length, 4); h.write('WAVE', 8); h.write('fmt ', 12);
  h.writeUInt32LE(16, 16); h.writeUInt16LE(1, 20); h.writeUInt16LE(1, 22); h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28); h.writeUInt16LE(2, 32); h.writeUInt16LE(16, 34); h.write('data', 36); h.writeUInt32LE(data.length, 40);
  writeFileSync(file, Buffer.concat([h, data]));
}

test('three browsers each hear the other two tones and not their own', async (t) => {
  const tones = [440, 700, 1100];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcu-tones-'));
  const srv = await startServer({ workers: 2 });
  const browsers = [];
  try {
    const pages = [];
    for (const f of tones) {
      const wav = path.join(dir, `tone${f}.wav`);
      toneWav(wav, f);
      const b = await launchChromium([`--use-file-for-fake-audio-capture=${wav}`, '--autoplay-policy=no-user-gesture-required']);
      browsers.push(b);
      const page = await b.newPage();
      await page.goto(`${srv.base}/mix/?conference=mix-tones`);
      pages.push(page);
    }
    for (const page of pages) {
      await page.waitForFunction(() => window.mix && window.mix.events.some((e) => e.type === 'state' && e.state === 'connected'), null, { timeout: 20000 });
    }
    // Let the talkers be selected and the audio settle, then measure several times.
    await sleep(4000);
    const results = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < pages.length; i++) {
        const levels = await pages[i].evaluate((fs) => window.mix.toneLevels(fs), tones);
        results.push({ page: i, levels });
      }
      await sleep(500);
    }
    for (let i = 0; i < pages.length; i++) {
      const rows = results.filter((r) => r.page === i).map((r) => r.levels);
      const avg = tones.map((_, k) => rows.reduce((a, r) => a + r[k], 0) / rows.length);
      const msg = `page ${i} (${tones[i]} Hz) hears ${avg.map((v, k) => `${tones[k]}Hz=${v.toFixed(1)}dB`).join(' ')}`;
      t.diagnostic(msg);
      for (let k = 0; k < tones.length; k++) {
        if (k === i) continue;
        assert.ok(avg[k] > -40, `${msg}: another site's tone is missing`);
        assert.ok(avg[k] - avg[i] > 20, `${msg}: own tone not at least 20 dB below the others`);
      }
    }
    const ms = await metrics(srv);
    assert.equal(metricSum(ms, 'mcu_worker_sessions'), 3);
    // The dominant speaker was announced to every page, naming one of the three sessions.
    const sessions = await Promise.all(pages.map((p) => p.evaluate(() => window.mix.session)));
    for (const page of pages) {
      const speakers = await page.evaluate(() => window.mix.events.filter((e) => e.type === 'speaker').map((e) => e.session));
      assert.ok(speakers.length > 0 && speakers.every((s) => sessions.includes(s)), `speaker events ${speakers} of ${sessions}`);
    }
  } finally {
    for (const b of browsers) await b.cleanup();
    const r = await stopServer(srv);
    rmSync(dir, { recursive: true, force: true });
    assert.equal(r.code, 0, srv.stderr);
    assert.equal(sanitizerReport(srv.stderr), null, srv.stderr);
  }
});
