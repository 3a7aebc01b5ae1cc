// Link-utilisation charts drawn as plain SVG: one column per 5-minute sample, red above the
// threshold (90 % by the provincial regulation), a dashed threshold line, time and percent
// axes, and a hover readout. Sized in real pixels from the element it is drawn into.
import { t, fmtTime, fmtDate, fmtNum, fmtPct } from '../../i18n.js';
import { h } from '../../ui.js';

const NS = 'http://www.w3.org/2000/svg';
const s = (tag, attrs = {}, text) => {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
};

// data: {samples: [{t, kbps_in, kbps_out, utilisation, alarm}], threshold, sample_s,
// capacity_kbps}; from/to in Unix ms. opts.small draws a sparkline without axes text.
export function utilisationChart(box, data, from, to, opts = {}) {
  const W = Math.max(160, box.clientWidth || 600);
  const H = opts.height || (opts.small ? 90 : 260);
  const pad = opts.small ? { l: 2, r: 2, t: 6, b: 4 } : { l: 46, r: 12, t: 14, b: 28 };
  const thr = data.threshold ?? 0.9;
  const maxU = Math.max(1, ...data.samples.map((x) => x.utilisation || 0)) * (opts.small ? 1.05 : 1.08);
  const x = (ms) => pad.l + (ms - from) / (to - from) * (W - pad.l - pad.r);
  const y = (u) => H - pad.b - (u / maxU) * (H - pad.t - pad.b);
  const svg = s('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img' });
  svg.setAttribute('aria-label', t('mon.chart.aria', { unit: data.name || data.unit || '' }));

  // Grid and axes.
  if (!opts.small) {
    for (const u of gridSteps(maxU)) {
      svg.append(s('line', { x1: pad.l, x2: W - pad.r, y1: y(u), y2: y(u), class: 'grid-line' }));
      svg.append(s('text', { x: pad.l - 6, y: y(u) + 4, class: 'axis', 'text-anchor': 'end' }, `${Math.round(u * 100)}%`));
    }
    for (const tick of timeTicks(from, to, W)) {
      if (x(tick) < pad.l + 18 || x(tick) > W - pad.r - 18) continue; // its label would not fit
      svg.append(s('line', { x1: x(tick), x2: x(tick), y1: H - pad.b, y2: H - pad.b + 4, class: 'axis-line' }));
      svg.append(s('text', { x: x(tick), y: H - pad.b + 17, class: 'axis', 'text-anchor': 'middle' }, tickLabel(tick, to - from)));
    }
    svg.append(s('line', { x1: pad.l, x2: W - pad.r, y1: H - pad.b, y2: H - pad.b, class: 'axis-line' }));
  }

  // One column per sample.
  const step = (data.sample_s || 300) * 1000;
  const colW = Math.max(1, (x(from + step) - x(from)) - (opts.small ? 0 : 0.6));
  for (const smp of data.samples) {
    if (smp.t + step < from || smp.t > to || smp.utilisation == null) continue;
    const u = smp.utilisation || 0;
    const top = y(u);
    svg.append(s('rect', { x: x(smp.t), y: top, width: colW, height: Math.max(0, H - pad.b - top), class: smp.alarm || u > thr ? 'col alarm' : 'col' }));
  }

  // The threshold.
  svg.append(s('line', { x1: pad.l, x2: W - pad.r, y1: y(thr), y2: y(thr), class: 'threshold' }));
  if (!opts.small) svg.append(s('text', { x: W - pad.r - 4, y: y(thr) - 5, class: 'threshold-label', 'text-anchor': 'end' }, t('mon.threshold', { p: Math.round(thr * 100) })));

  // Hover readout.
  if (!opts.small) {
    const cursor = s('line', { y1: pad.t, y2: H - pad.b, class: 'cursor', visibility: 'hidden' });
    svg.append(cursor);
    const tip = h('div', { class: 'chart-tip', hidden: true });
    svg.addEventListener('mousemove', (e) => {
      const r = svg.getBoundingClientRect();
      const ms = from + (e.clientX - r.left - pad.l) / (W - pad.l - pad.r) * (to - from);
      const smp = data.samples.find((q) => ms >= q.t && ms < q.t + step);
      if (!smp) { tip.hidden = true; cursor.setAttribute('visibility', 'hidden'); return; }
      cursor.setAttribute('x1', x(smp.t) + colW / 2); cursor.setAttribute('x2', x(smp.t) + colW / 2);
      cursor.setAttribute('visibility', 'visible');
      tip.hidden = false;
      tip.textContent = `${fmtTime(smp.t)} ${fmtDate(smp.t)} · ${fmtPct(smp.utilisation || 0, 1)} · ↓${fmtNum(smp.kbps_in || 0)} ↑${fmtNum(smp.kbps_out || 0)} kbit/s`;
      tip.style.left = `${Math.min(W - 260, Math.max(0, e.clientX - r.left - 120))}px`;
    });
    svg.addEventListener('mouseleave', () => { tip.hidden = true; cursor.setAttribute('visibility', 'hidden'); });
    box.replaceChildren(svg, tip);
  } else box.replaceChildren(svg);
}

function gridSteps(maxU) {
  const step = maxU > 2 ? 0.5 : 0.25;
  const out = [];
  for (let u = 0; u <= maxU + 1e-9; u += step) out.push(u);
  return out;
}

function timeTicks(from, to, W) {
  const span = to - from;
  const want = Math.max(2, Math.floor(W / 90));
  const steps = [3600e3, 2 * 3600e3, 3 * 3600e3, 6 * 3600e3, 12 * 3600e3, 24 * 3600e3, 48 * 3600e3];
  const st = steps.find((x) => span / x <= want) || steps[steps.length - 1];
  const out = [];
  const d = new Date(from);
  d.setMinutes(0, 0, 0);
  let tick = d.getTime();
  if (st >= 24 * 3600e3) { d.setHours(0); tick = d.getTime(); }
  for (; tick <= to; tick += st) if (tick >= from) out.push(tick);
  return out;
}

const tickLabel = (ms, span) => (span > 36 * 3600e3 ? fmtDate(ms).slice(0, 5) : fmtTime(ms));
