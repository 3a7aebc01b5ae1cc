// Helpers for integration tests: start the real server on free ports, talk HTTP and UDP to it,
// stop it with SIGTERM and check it exited cleanly (exit 0, no sanitizer report).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
export const MCU_BIN = process.env.MCU_BIN || path.join(ROOT, 'build/asan/mcu');

export async function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Starts build/asan/mcu with its own database directory; resolves once /healthz answers.
// `port` and `dir` restart a server where an earlier one ran (same address, same database).
export async function startServer({ args = [], env = {}, workers = 2, listenHost = '127.0.0.1', tls = false,
  port = 0, dir = null } = {}) {
  port = port || await freePort(listenHost);
  dir = dir || mkdtempSync(path.join(os.tmpdir(), 'mcu-it-'));
  const hostPart = listenHost.includes(':') ? `[${listenHost}]` : listenHost;
  const argv = ['--listen', `${hostPart}:${port}`, '--media-port', '0', '--workers', String(workers),
    '--db', path.join(dir, 'mcu.db'), '--web-root', path.join(ROOT, 'web'), '--test-conferences', 'true', ...args];
  const child = spawn(MCU_BIN, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const srv = { child, port, dir, base: `${tls ? 'https' : 'http'}://${hostPart}:${port}`, stderr: '', exited: null };
  child.stderr.on('data', (d) => { srv.stderr += d; });
  child.stdout.on('data', (d) => { srv.stderr += d; });
  srv.exitPromise = new Promise((resolve) => child.on('exit', (code, signal) => {
    srv.exited = { code, signal }; resolve(srv.exited);
  }));
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    if (srv.exited) throw new Error(`server exited early: ${JSON.stringify(srv.exited)}\n${srv.stderr}`);
    try {
      if (tls) { // fetch() cannot skip certificate checks: probe the TCP port instead
        await new Promise((res, rej) => { const s = net.connect(port, listenHost, () => { s.end(); res(); }); s.on('error', rej); });
        return srv;
      }
      const r = await fetch(`${srv.base}/healthz`);
      if (r.status === 200) { srv.health = await r.json(); return srv; }
    } catch { /* not up yet */ }
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`server did not become healthy:\n${srv.stderr}`);
}

// SIGTERM, then wait at most `limitMs`; returns {code, signal, ms}. Cleans the temp dir.
export async function stopServer(srv, limitMs = 2000, { keepDir = false } = {}) {
  if (srv.exited) return { ...srv.exited, ms: 0 };
  const t0 = Date.now();
  srv.child.kill('SIGTERM');
  const res = await Promise.race([srv.exitPromise, sleep(limitMs + 3000).then(() => null)]);
  const ms = Date.now() - t0;
  if (!res) srv.child.kill('SIGKILL');
  if (process.env.MCU_KEEP_LOG) writeFileSync(`${process.env.MCU_KEEP_LOG}/server-${srv.port}.log`, srv.stderr);
  if (!keepDir) rmSync(srv.dir, { recursive: true, force: true });
  return { ...(res || { code: null, signal: 'timeout' }), ms };
}

export function sanitizerReport(text) {
  const m = text.match(/(ERROR: (Address|Leak)Sanitizer|runtime error:)[^\n]*/);
  return m ? m[0] : null;
}

export async function getJson(url, opts) {
  const r = await fetch(url, opts);
  const body = await r.text();
  let json = null;
  try { json = JSON.parse(body); } catch { /* not JSON */ }
  return { status: r.status, json, body, headers: r.headers };
}

// Parses Prometheus text into {name: [{labels, value}]}.
export function parseMetrics(text) {
  const out = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)$/);
    if (!m) throw new Error(`bad metrics line: ${line}`);
    const labels = {};
    if (m[3]) for (const kv of m[3].matchAll(/(\w+)="([^"]*)"/g)) labels[kv[1]] = kv[2];
    (out[m[1]] ||= []).push({ labels, value: Number(m[4]) });
  }
  return out;
}

export async function metrics(srv) {
  const r = await fetch(`${srv.base}/metrics`);
  return parseMetrics(await r.text());
}

export function metricSum(ms, name, filter = {}) {
  return (ms[name] || []).filter((s) => Object.entries(filter).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}
