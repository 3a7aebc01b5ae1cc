// The recordings of the account's scope, newest first (or of one conference, from
// #/recordings?conference=ID): conference, host unit, start, length, size and state, with
// the file to download and delete for admins. recordingTable() is also the list on a
// conference's own page.
import { t, fmtNum, fmtDateTime } from '../../i18n.js';
import { h, icon, replace } from '../../ui.js';
import { get, del, errorText, unitName, ref, loadUnits, loadSites } from '../api.js';
import { empty, table } from './common.js';

const PILL = { recording: 'rec', done: 'ok', failed: 'bad', interrupted: 'warn' };

// 3725000 ms -> "1:02:05".
export function clockText(ms) {
  const s = Math.max(0, Math.floor((ms || 0) / 1000));
  const pad = (n) => String(n).padStart(2, '0');
  return `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

export const sizeText = (bytes) => t('rec.mb', { n: fmtNum((bytes || 0) / 1e6, 1) });

// How long it ran: the stored length, or the time since its start while it still records.
const lengthMs = (r) => (r.state === 'recording' ? Math.max(r.duration_ms || 0, Date.now() - r.started_at) : r.duration_ms);

function byText(who) {
  if (who === 'auto') return t('rec.by.auto');
  const m = /^site:(\d+)$/.exec(who || '');
  if (m) return ref.sites.get(Number(m[1]))?.name || t('room.site.n', { id: m[1] });
  return t('rec.by.operator');
}

export function recPill(r) {
  return h('span', { class: `pill ${PILL[r.state] || ''}`, 'data-state': r.state, title: r.error || null },
    r.state === 'recording' ? h('span', { class: 'dot' }) : null, t(`rec.state.${r.state}`));
}

async function remove(ctx, r, done) {
  if (!await ctx.confirm(t('rec.delete.title'), t('rec.delete.text', { title: r.title, time: fmtDateTime(r.started_at) }), t('rec.delete.ok'))) return;
  const x = await del(`/recordings/${r.id}`);
  if (x.ok) ctx.toast(t('rec.toast.deleted'), 'ok');
  else ctx.toast(errorText(x.error), 'bad');
  done();
}

// The table of a list of recordings; `withConf` adds the conference column. `changed` runs
// after a deletion.
export function recordingTable(list, ctx, { withConf = true, changed = () => {} } = {}) {
  const admin = ctx.can('admin');
  const rows = list.map((r) => h('tr', { 'data-rec': r.id, 'data-state': r.state },
    withConf ? h('td', {}, h('a', { class: 'strong block ell', href: `#/conferences/${r.conference}`, title: r.title }, r.title),
      h('div', { class: 'sub ell' }, unitName(r.host_unit))) : null,
    h('td', { class: 'num' }, h('div', { class: 'nowrap' }, fmtDateTime(r.started_at)), h('div', { class: 'sub ell' }, byText(r.started_by))),
    h('td', { class: 'num right', 'data-len': r.id }, clockText(lengthMs(r))),
    h('td', { class: 'num right' }, sizeText(r.bytes)),
    h('td', {}, recPill(r), r.error ? h('div', { class: 'sub ell rec-error', title: r.error }, r.error) : null),
    h('td', { class: 'actions' },
      admin && r.bytes > 0 ? h('a', { class: 'icon-btn', href: r.file, download: '', 'data-act': 'download', title: t('rec.download'), 'aria-label': t('rec.download') }, icon('download')) : null,
      admin && r.state !== 'recording' ? h('button', { type: 'button', class: 'icon-btn', 'data-act': 'delete', title: t('rec.delete'), 'aria-label': t('rec.delete'),
        onclick: () => remove(ctx, r, changed) }, icon('trash')) : null)));
  const cols = [withConf ? { label: t('rec.col.conf') } : null, { label: t('rec.col.start') }, { label: t('rec.col.length'), cls: 'right' },
    { label: t('rec.col.size'), cls: 'right' }, { label: t('rec.col.state') }, { label: '', cls: 'actions' }].filter(Boolean);
  return table(cols, rows, `recs fixed ${withConf ? '' : 'short'}`);
}

// The running lengths of recordings still going, redrawn in place each second.
export function tickLengths(root, list) {
  for (const r of list) {
    if (r.state !== 'recording') continue;
    const cell = root.querySelector(`[data-len="${r.id}"]`);
    if (cell) cell.textContent = clockText(lengthMs(r));
  }
}

export default {
  name: 'recordings',
  title: 'nav.recordings',
  async mount(el, params, ctx) {
    await Promise.all([loadUnits(), loadSites()]);
    const conf = params.conference ? Number(params.conference) : 0;
    const bar = h('div', { class: 'toolbar' });
    const body = h('section', { class: 'card flush' });
    el.append(bar, body);
    let list = [];

    async function load() {
      const r = await get(`/recordings${conf ? `?conference=${conf}` : ''}`);
      if (!r.ok) { replace(body, empty('alert', t('common.loadfail'), errorText(r.error))); return; }
      list = r.json.recordings;
      draw();
    }

    function draw() {
      const title = list[0]?.title;
      replace(bar, conf ? h('span', { class: 'filter-chip', id: 'rec-filter' }, icon('video', 'tiny'),
        h('span', { class: 'ell' }, title ? t('rec.filter', { title }) : t('rec.filter.id', { id: conf })),
        h('a', { href: '#/recordings', class: 'chip-x', title: t('rec.filter.clear'), 'aria-label': t('rec.filter.clear') }, icon('x'))) : null,
      h('div', { class: 'spacer' }), list.length ? h('span', { class: 'muted', id: 'rec-count' }, t('rec.count', { n: list.length })) : null);
      if (!list.length) {
        replace(body, empty('record', t(conf ? 'rec.none.conf' : 'rec.none'), t('rec.none.text'),
          conf ? h('a', { class: 'btn', href: `#/conferences/${conf}` }, t('rec.toconf')) : null));
        return;
      }
      replace(body, h('div', { class: 'table-scroll' }, recordingTable(list, ctx, { changed: load })));
    }

    await load();
    const tick = setInterval(() => tickLengths(body, list), 1000);
    const timer = setInterval(load, 10000);
    return () => { clearInterval(tick); clearInterval(timer); };
  },
};
