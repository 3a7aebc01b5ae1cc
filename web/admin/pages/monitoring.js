// Link monitoring: for a unit and each unit below it, link utilisation in 5-minute samples
// against the configured link capacity of its sites, with the alarm above 90 % (the
// provincial regulation's threshold), as charts; and the alarms the server raised.
import { t, fmtNum, fmtPct, fmtDateTime } from '../../i18n.js';
import { h, icon, replace } from '../../ui.js';
import { get, errorText, ref, loadUnits, unitName, unitPath } from '../api.js';
import { empty, tabs, statCard } from './common.js';
import { utilisationChart } from './chart.js';

const RANGES = { '6h': 6 * 3600e3, '24h': 24 * 3600e3, '7d': 7 * 24 * 3600e3 };
let range = '24h';

export default {
  name: 'monitoring',
  title: 'nav.monitoring',
  async mount(el, params, ctx) {
    await loadUnits();
    const unit = params.unit && ref.units.has(params.unit) ? params.unit : ref.roots[0];
    if (!unit) { el.append(empty('chart', t('mon.nodata'), t('mon.nodata.units'))); return null; }
    const bar = h('div', { class: 'toolbar' });
    const alarmsEl = h('div', { class: 'alarms', id: 'alarms' });
    const mainCard = h('section', { class: 'card pad mon-main', id: 'mon-main' });
    const kidsEl = h('div', { class: 'mon-grid', id: 'mon-children' });
    el.append(bar, alarmsEl, mainCard, kidsEl);
    let alive = true;

    const span = () => { const to = Date.now(); return [to - RANGES[range], to]; };
    const fetchUnit = (code, from, to) => get(`/monitoring/units/${encodeURIComponent(code)}?from=${Math.round(from)}&to=${Math.round(to)}`);

    function drawBar() {
      const [from, to] = span();
      const path = unitPath(unit);
      replace(bar, h('nav', { class: 'unit-path' }, path.map((c, i) => [i ? h('span', { class: 'sep' }, icon('chevron')) : null,
        c === unit ? h('strong', {}, unitName(c)) : h('a', { href: `#/monitoring/${c}` }, unitName(c))])),
      h('div', { class: 'spacer' }),
      tabs([['6h', t('mon.range.6h')], ['24h', t('mon.range.24h')], ['7d', t('mon.range.7d')]], range, (k) => { range = k; drawAll(); }),
      h('a', { class: 'btn', id: 'mon-csv', download: '', href: `/api/v1/monitoring/units/${encodeURIComponent(unit)}?from=${Math.round(from)}&to=${Math.round(to)}&format=csv` }, icon('download'), t('mon.csv')));
    }

    async function drawAlarms() {
      const r = await get('/monitoring/alarms');
      if (!alive) return;
      const list = r.ok && Array.isArray(r.json?.alarms) ? r.json.alarms : [];
      alarmsEl.hidden = !list.length;
      if (!list.length) return;
      replace(alarmsEl, h('div', { class: 'alarm-head' }, icon('alert'), h('strong', {}, t('mon.alarms.title', { n: list.length })), h('span', { class: 'muted' }, t('mon.alarms.text'))),
        h('ul', { class: 'alarm-list' }, list.slice(0, 8).map((a) => h('li', {}, h('a', { href: `#/monitoring/${a.unit}` }, a.name || unitName(a.unit)),
          h('span', { class: 'pill bad num' }, fmtPct(a.utilisation, 0)), h('span', { class: 'muted num' }, fmtDateTime(a.t))))));
    }

    function summary(d) {
      const s = d.samples;
      const last = s[s.length - 1];
      const peak = s.reduce((m, x) => Math.max(m, x.utilisation || 0), 0);
      const avg = s.reduce((a, x) => a + (x.utilisation || 0), 0) / s.length;
      const over = s.filter((x) => x.alarm || (x.utilisation || 0) > (d.threshold ?? 0.9)).length;
      return { last, peak, avg, over };
    }

    async function drawMain() {
      const [from, to] = span();
      const r = await fetchUnit(unit, from, to);
      if (!alive) return;
      const u = ref.units.get(unit);
      const title = h('div', { class: 'card-head' }, h('div', {}, h('h2', {}, u.name), h('div', { class: 'sub' }, t('mon.sub'))));
      if (!r.ok || !Array.isArray(r.json?.samples) || !r.json.samples.length) {
        replace(mainCard, title, empty('chart', t('mon.nodata'), r.ok ? t('mon.nodata.range') : t('mon.nodata.server'),
          !r.ok && r.error?.code !== 'not_found' ? h('p', { class: 'hint' }, errorText(r.error)) : null));
        mainCard.dataset.state = 'nodata';
        return;
      }
      const d = r.json;
      const sm = summary(d);
      const thr = d.threshold ?? 0.9;
      const box = h('div', { class: 'chart-box', id: 'mon-chart' });
      replace(mainCard, title, h('div', { class: 'stats' },
        statCard(t('mon.stat.capacity'), `${fmtNum(d.capacity_kbps)} kbit/s`),
        statCard(t('mon.stat.now'), fmtPct(sm.last.utilisation || 0, 1), (sm.last.utilisation || 0) > thr ? 'bad' : 'ok', `↓${fmtNum(sm.last.kbps_in || 0)} ↑${fmtNum(sm.last.kbps_out || 0)} kbit/s`),
        statCard(t('mon.stat.peak'), fmtPct(sm.peak, 1), sm.peak > thr ? 'bad' : ''),
        statCard(t('mon.stat.avg'), fmtPct(sm.avg, 1)),
        statCard(t('mon.stat.over'), fmtNum(sm.over), sm.over ? 'bad' : 'ok', t('mon.stat.over.sub', { p: Math.round(thr * 100) }))),
      box, h('div', { class: 'legend' }, h('span', { class: 'lg ok' }, t('mon.legend.ok')), h('span', { class: 'lg alarm' }, t('mon.legend.alarm', { p: Math.round(thr * 100) })),
        h('span', { class: 'lg thr' }, t('mon.legend.thr'))));
      mainCard.dataset.state = 'data';
      utilisationChart(box, d, from, to);
    }

    async function drawChildren() {
      const kids = ref.children.get(unit) || [];
      if (!kids.length) { replace(kidsEl); return; }
      const [from, to] = span();
      const cards = kids.map((code) => {
        const box = h('div', { class: 'chart-box small' });
        const val = h('span', { class: 'mon-val num' });
        const card = h('a', { class: 'card pad mon-card', href: `#/monitoring/${code}`, 'data-unit': code },
          h('div', { class: 'mon-card-head' }, h('span', { class: 'strong ell', title: unitName(code) }, unitName(code)), val), box);
        return { code, box, val, card };
      });
      replace(kidsEl, h('h3', { class: 'grid-title' }, t('mon.children', { n: kids.length })), cards.map((c) => c.card));
      await Promise.all(cards.map(async (c) => {
        const r = await fetchUnit(c.code, from, to);
        if (!alive) return;
        if (!r.ok || !r.json?.samples?.length) {
          replace(c.box, h('div', { class: 'mini-empty' }, t('mon.nodata.short')));
          c.val.textContent = '';
          return;
        }
        const d = r.json;
        const last = d.samples[d.samples.length - 1].utilisation || 0;
        c.val.textContent = fmtPct(last, 0);
        c.val.className = `mon-val num pill ${last > (d.threshold ?? 0.9) ? 'bad' : 'ok'}`;
        c.card.classList.toggle('alarmed', d.samples.some((x) => x.alarm));
        utilisationChart(c.box, d, from, to, { small: true });
      }));
    }

    function drawAll() { drawBar(); drawAlarms(); drawMain(); drawChildren(); }
    drawAll();
    const timer = setInterval(drawAll, 60000);
    let rs = null;
    const onResize = () => { clearTimeout(rs); rs = setTimeout(drawAll, 200); };
    window.addEventListener('resize', onResize);
    return () => { alive = false; clearInterval(timer); window.removeEventListener('resize', onResize); };
  },
};
