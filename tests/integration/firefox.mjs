// Debian's Firefox driven over WebDriver BiDi (the standard protocol Firefox speaks by
// itself), for the web pages' Firefox checks. playwright-core's Firefox needs its own
// patched build, so this is a small client of its own: tabs, navigation, evaluation in the
// page, waiting for a condition, screenshots. Fake camera and microphone, no prompts.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';

export const FIREFOX = process.env.FIREFOX || '/usr/bin/firefox-esr';

const PREFS = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.autoplay.default': 0,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'browser.shell.checkDefaultBrowser': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.reporting.enabled': false,
  'app.update.enabled': false,
  'network.captive-portal-service.enabled': false,
};

export async function launchFirefox() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcu-firefox-'));
  writeFileSync(path.join(dir, 'user.js'), Object.entries(PREFS).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});`).join('\n'));
  const proc = spawn(FIREFOX, ['--headless', '--remote-debugging-port=0', '--profile', dir, '--no-remote'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('firefox did not start its BiDi server')), 30000);
    const on = (d) => { const m = /WebDriver BiDi listening on (ws:\/\/\S+)/.exec(d.toString()); if (m) { clearTimeout(timer); resolve(m[1]); } };
    proc.stderr.on('data', on);
    proc.stdout.on('data', on);
    proc.on('exit', () => reject(new Error('firefox exited')));
  });
  const ws = new WebSocket(`${url}/session`);
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  const ff = new Firefox(proc, ws, dir);
  const s = await ff.call('session.new', { capabilities: { alwaysMatch: { acceptInsecureCerts: true } } });
  ff.version = s.capabilities.browserVersion;
  return ff;
}

class Firefox {
  constructor(proc, ws, dir) {
    Object.assign(this, { proc, ws, dir, id: 0, pending: new Map() });
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      const p = m.id && this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.type === 'error') p.reject(new Error(`${m.error}: ${m.message}`)); else p.resolve(m.result);
    });
  }
  call(method, params = {}) {
    return new Promise((resolve, reject) => {
      const id = ++this.id;
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }
  async newTab(width = 1280, height = 720) {
    const { context } = await this.call('browsingContext.create', { type: 'tab' });
    await this.call('browsingContext.setViewport', { context, viewport: { width, height } });
    return new Tab(this, context);
  }
  async close() {
    try { await this.call('session.end'); } catch { /* already gone */ }
    this.ws.close();
    this.proc.kill('SIGTERM');
    await new Promise((r) => { if (this.proc.exitCode !== null) r(); else { this.proc.once('exit', r); setTimeout(r, 5000); } });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

class Tab {
  constructor(ff, context) { Object.assign(this, { ff, context }); }
  goto(url) { return this.ff.call('browsingContext.navigate', { context: this.context, url, wait: 'complete' }); }
  // Runs `fn` (a function, or the text of an expression) in the page; resolves its JSON value.
  async eval(fn, ...args) {
    const expression = typeof fn === 'function' ? `(${fn})(...${JSON.stringify(args)})` : fn;
    const r = await this.ff.call('script.evaluate', { expression: `(async () => JSON.stringify(await (${expression})))()`,
      target: { context: this.context }, awaitPromise: true });
    if (r.type === 'exception') throw new Error(`in page: ${r.exceptionDetails.text}`);
    return r.result.value === undefined ? undefined : JSON.parse(r.result.value);
  }
  async waitFor(fn, ms = 15000, what = 'condition', ...args) {
    const deadline = Date.now() + ms;
    for (;;) {
      try { if (await this.eval(fn, ...args)) return; } catch { /* page still loading */ }
      if (Date.now() > deadline) throw new Error(`firefox: timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  async screenshot(file) {
    const { data } = await this.ff.call('browsingContext.captureScreenshot', { context: this.context });
    writeFileSync(file, Buffer.from(data, 'base64'));
  }
}
