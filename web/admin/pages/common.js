// Pieces several admin pages share: state pills, tables, empty states, stat cards,
// level meters and the conference actions (start, end, delete) with their confirmations.
import { t, fmtDateTime, fmtTime, fmtDate } from '../../i18n.js';
import { h, icon } from '../../ui.js';
import { post, del, errorText } from '../api.js';

export function confPill(state) {
  return h('span', { class: `pill ${state === 'live' ? 'live' : state === 'scheduled' ? 'info' : ''}` },
    state === 'live' ? h('span', { class: 'dot' }) : null, t(`conf.state.${state}`));
}

export function sitePill(state) {
  const cls = { conference: 'live', online: 'ok', offline: '' }[state];
  return h('span', { class: `pill ${cls}` }, h('span', { class: 'dot' }), t(`site.state.${state}`));
}

// "08:00–11:00 02/06/2025", or "Permanent" for a conference without a schedule.
export function scheduleText(c) {
  if (!c.start_at) return t('conf.permanent');
  const sameDay = fmtDate(c.start_at) === fmtDate(c.end_at);
  return sameDay ? `${fmtTime(c.start_at)}–${fmtTime(c.end_at)} ${fmtDate(c.start_at)}` : `${fmtDateTime(c.start_at)} – ${fmtDateTime(c.end_at)}`;
}

export function empty(iconName, title, text, action) {
  return h('div', { class: 'empty-state' }, h('div', { class: 'empty-icon' }, icon(iconName)), h('h3', {}, title),
    text ? h('p', {}, text) : null, action || null);
}

export function statCard(label, value, kind = '', sub = '') {
  return h('div', { class: `stat ${kind}` }, h('div', { class: 'stat-label' }, label), h('div', { class: 'stat-value num' }, value),
    sub ? h('div', { class: 'stat-sub' }, sub) : null);
}

export function table(cols, rows, cls = '') {
  return h('table', { class: `grid ${cls}` }, h('thead', {}, h('tr', {}, cols.map((c) => h('th', { class: c.cls || '' }, c.label)))),
    h('tbody', {}, rows));
}

export function tabs(items, activeKey, onpick) {
  return h('div', { class: 'tabs', role: 'tablist' }, items.map(([key, label, count]) =>
    h('button', { type: 'button', role: 'tab', class: `tab ${key === activeKey ? 'active' : ''}`, 'aria-selected': String(key === activeKey),
      'data-tab': key, onclick: () => onpick(key) }, label, count !== undefined ? h('span', { class: 'tab-count num' }, count) : null)));
}

export async function startConference(ctx, c) {
  const r = await post(`/conferences/${c.id}/start`);
  if (r.ok) ctx.toast(t('conf.toast.started', { title: c.title }), 'ok');
  else ctx.toast(errorText(r.error), 'bad');
  return r.ok;
}

export async function endConference(ctx, c) {
  if (!await ctx.confirm(t('conf.end.title'), t('conf.end.text', { title: c.title }), t('conf.end.ok'))) return false;
  const r = await post(`/conferences/${c.id}/end`);
  if (r.ok) ctx.toast(t('conf.toast.ended', { title: c.title }), 'ok');
  else ctx.toast(errorText(r.error), 'bad');
  return r.ok;
}

export async function deleteConference(ctx, c) {
  if (!await ctx.confirm(t('conf.delete.title'), t('conf.delete.text', { title: c.title }), t('conf.delete.ok'))) return false;
  const r = await del(`/conferences/${c.id}`);
  if (r.ok) ctx.toast(t('conf.toast.deleted'), 'ok');
  else ctx.toast(errorText(r.error), 'bad');
  return r.ok;
}

// A level meter from an RFC 6464 level (0 loudest .. 127 silence): -60..0 dBov over the bar.
export function levelFraction(level) {
  if (level === undefined || level === null) return 0;
  return Math.max(0, Math.min(1, (60 - level) / 60));
}

export function download(href, label, id) {
  return h('a', { class: 'btn', href, download: '', id }, icon('download'), label);
}
