// Server status for operators: /healthz (each worker answers a ping) and /metrics, every 2 s.
'use strict';
const $ = (id) => document.getElementById(id);
let previous = null; // last metrics sample, for per-second rates

function parseMetrics(text) {
  const out = [];
  for (const line of text.split('\n')) {
    const m = line.match(/^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})?\s+(\S+)$/);
    if (!m) continue;
    const labels = {};
    if (m[2]) for (const kv of m[2].matchAll(/(\w+)="([^"]*)"/g)) labels[kv[1]] = kv[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}
const pick = (ms, name, f = {}) => ms.filter((s) => s.name === name && Object.entries(f).every(([k, v]) => s.labels[k] === v));
const sum = (ms, name, f) => pick(ms, name, f).reduce((a, s) => a + s.value, 0);
const fmtDur = (s) => { const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : `${m}m ${Math.floor(s % 60)}s`; };
const cell = (text, cls) => `<td${cls ? ` class="${cls}"` : ''}>${text}</td>`;

async function refresh() {
  let health, ms;
  try {
    const [h, m] = await Promise.all([fetch('/healthz'), fetch('/metrics')]);
    health = await h.json();
    ms = parseMetrics(await m.text());
  } catch (e) {
    $('overall').textContent = 'Mất kết nối / Unreachable';
    $('overall').className = 'pill bad';
    return;
  }
  const now = performance.now() / 1000;
  const ok = health.status === 'ok';
  $('overall').textContent = ok ? 'Hoạt động tốt / Healthy' : 'Có sự cố / Degraded';
  $('overall').className = `pill ${ok ? 'ok' : 'bad'}`;
  $('version').textContent = health.version;
  $('uptime').textContent = fmtDur(health.uptime_s);
  $('sessions').textContent = sum(ms, 'mcu_worker_sessions');
  $('mem').textContent = `${(sum(ms, 'process_resident_memory_bytes') / 1048576).toFixed(1)} MiB`;
  const cpu = sum(ms, 'process_cpu_seconds_total');
  if (previous) $('cpu').textContent = `${(100 * (cpu - previous.cpu) / (now - previous.t)).toFixed(1)} %`;
  const rows = health.workers.map((w) => {
    const f = { worker: String(w.index) };
    const inPk = sum(ms, 'mcu_udp_packets_total', { ...f, direction: 'in' });
    const outPk = sum(ms, 'mcu_udp_packets_total', { ...f, direction: 'out' });
    const p = previous && previous.pk[w.index];
    const rate = p ? `${Math.round((inPk - p.in) / (now - previous.t))} / ${Math.round((outPk - p.out) / (now - previous.t))}` : '…';
    const jit = pick(ms, 'mcu_worker_tick_jitter_seconds', { ...f, quantile: '0.99' })[0];
    return `<tr data-worker="${w.index}">${cell(w.index)}${cell(w.udp_port)}${cell(w.alive ? 'Hoạt động / Alive' : 'Không phản hồi / Not responding', w.alive ? 'ok' : 'bad')}`
      + `${cell(`${w.last_tick_age_ms.toFixed(0)} ms`)}${cell(w.ping_rtt_ms === null ? '–' : `${w.ping_rtt_ms.toFixed(2)} ms`)}`
      + `${cell(jit ? `${(jit.value * 1000).toFixed(2)} ms` : '–')}${cell(sum(ms, 'mcu_worker_sessions', f))}${cell(rate)}</tr>`;
  });
  $('workers').querySelector('tbody').innerHTML = rows.join('');
  const byReason = {};
  for (const s of pick(ms, 'mcu_drops_total')) byReason[s.labels.reason] = (byReason[s.labels.reason] || 0) + s.value;
  const drops = Object.entries(byReason).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]);
  $('drops').querySelector('tbody').innerHTML = drops.length
    ? drops.map(([r, v]) => `<tr>${cell(r)}${cell(v)}</tr>`).join('')
    : `<tr>${cell('Không có / None')}${cell(0)}</tr>`;
  previous = { t: now, cpu, pk: health.workers.map((w) => ({
    in: sum(ms, 'mcu_udp_packets_total', { worker: String(w.index), direction: 'in' }),
    out: sum(ms, 'mcu_udp_packets_total', { worker: String(w.index), direction: 'out' }) })) };
}
refresh();
setInterval(refresh, 2000);
