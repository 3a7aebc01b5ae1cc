// Server status: /healthz (each media worker answers a ping) and /metrics, every 2 s: the
// workers' health, tick jitter, sessions and packet rates, and dropped packets by reason.
import { t, fmtNum, fmtDuration } from '../../i18n.js';
import { h, replace } from '../../ui.js';
import { statCard, table } from './common.js';

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

export default {
  name: 'status',
  title: 'nav.status',
  async mount(el) {
    const head = h('div', { class: 'status-head' });
    const cards = h('div', { class: 'stats', id: 'status-cards' });
    const workers = h('section', { class: 'card flush' });
    const drops = h('section', { class: 'card flush' });
    el.append(head, cards, h('h3', { class: 'sec-title' }, t('status.workers')), workers, h('h3', { class: 'sec-title' }, t('status.drops')), drops,
      h('p', { class: 'hint' }, t('status.note'), ' ', h('a', { href: '/metrics' }, '/metrics'), ' · ', h('a', { href: '/healthz' }, '/healthz'), ' · ',
        h('a', { href: '/echo/' }, t('status.echo'))));
    let previous = null;

    async function refresh() {
      let health, ms;
      try {
        const [hr, mr] = await Promise.all([fetch('/healthz'), fetch('/metrics')]);
        health = await hr.json();
        ms = parseMetrics(await mr.text());
      } catch {
        replace(head, h('span', { class: 'pill bad big', id: 'overall' }, t('status.unreachable')));
        return;
      }
      const now = performance.now() / 1000;
      const ok = health.status === 'ok';
      replace(head, h('span', { class: `pill big ${ok ? 'ok' : 'bad'}`, id: 'overall' }, h('span', { class: 'dot' }), t(ok ? 'status.healthy' : 'status.degraded')),
        h('span', { class: 'muted' }, t('status.version', { v: health.version })));
      const cpu = sum(ms, 'process_cpu_seconds_total');
      replace(cards, statCard(t('status.uptime'), fmtDuration(health.uptime_s)), statCard(t('status.sessions'), fmtNum(sum(ms, 'mcu_worker_sessions'))),
        statCard(t('status.cpu'), previous ? `${fmtNum(100 * (cpu - previous.cpu) / (now - previous.t), 1)} %` : '…'),
        statCard(t('status.mem'), `${fmtNum(sum(ms, 'process_resident_memory_bytes') / 1048576, 1)} MiB`),
        statCard(t('status.nworkers'), fmtNum(health.workers.length)));
      const rows = health.workers.map((w) => {
        const f = { worker: String(w.index) };
        const inPk = sum(ms, 'mcu_udp_packets_total', { ...f, direction: 'in' });
        const outPk = sum(ms, 'mcu_udp_packets_total', { ...f, direction: 'out' });
        const p = previous && previous.pk[w.index];
        const rate = p ? `${fmtNum((inPk - p.in) / (now - previous.t))} / ${fmtNum((outPk - p.out) / (now - previous.t))}` : '…';
        const jit = pick(ms, 'mcu_worker_tick_jitter_seconds', { ...f, quantile: '0.99' })[0];
        return h('tr', { 'data-worker': w.index }, h('td', { class: 'num' }, w.index), h('td', { class: 'num' }, w.udp_port),
          h('td', { class: w.alive ? 'ok' : 'bad' }, h('span', { class: `pill ${w.alive ? 'ok' : 'bad'}` }, t(w.alive ? 'status.alive' : 'status.dead'))),
          h('td', { class: 'num' }, `${fmtNum(w.last_tick_age_ms)} ms`), h('td', { class: 'num' }, w.ping_rtt_ms === null ? '–' : `${fmtNum(w.ping_rtt_ms, 2)} ms`),
          h('td', { class: 'num' }, jit ? `${fmtNum(jit.value * 1000, 2)} ms` : '–'), h('td', { class: 'num' }, fmtNum(sum(ms, 'mcu_worker_sessions', f))),
          h('td', { class: 'num' }, rate));
      });
      replace(workers, table([{ label: '#' }, { label: t('status.col.port') }, { label: t('status.col.state') }, { label: t('status.col.tick') },
        { label: t('status.col.ping') }, { label: t('status.col.jitter') }, { label: t('status.col.sessions') }, { label: t('status.col.pps') }], rows, 'workers'));
      workers.querySelector('table').id = 'workers';
      const byReason = {};
      for (const s of pick(ms, 'mcu_drops_total')) byReason[s.labels.reason] = (byReason[s.labels.reason] || 0) + s.value;
      const list = Object.entries(byReason).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]);
      replace(drops, table([{ label: t('status.col.reason') }, { label: t('status.col.count'), cls: 'right' }],
        list.length ? list.map(([r, v]) => h('tr', {}, h('td', { class: 'mono' }, r), h('td', { class: 'num right' }, fmtNum(v))))
          : h('tr', {}, h('td', {}, t('status.nodrops')), h('td', { class: 'num right' }, '0')), 'drops'));
      drops.querySelector('table').id = 'drops';
      previous = { t: now, cpu, pk: health.workers.map((w) => ({
        in: sum(ms, 'mcu_udp_packets_total', { worker: String(w.index), direction: 'in' }),
        out: sum(ms, 'mcu_udp_packets_total', { worker: String(w.index), direction: 'out' }) })) };
    }
    await refresh();
    const timer = setInterval(refresh, 2000);
    return () => clearInterval(timer);
  },
};
