// The conferences of the account's scope: live, scheduled and ended, with start, end,
// open, export and delete; and the way to create one.
import { t, fmtNum, fmtDate, fmtTime } from '../../i18n.js';
import { h, icon, replace } from '../../ui.js';
import { get, errorText, unitName } from '../api.js';
import { confPill, empty, table, tabs, startConference, endConference, deleteConference } from './common.js';

let filter = 'all';

export default {
  name: 'conferences',
  title: 'nav.conferences',
  async mount(el, params, ctx) {
    const bar = h('div', { class: 'toolbar' });
    const body = h('div', { class: 'card flush' });
    el.append(bar, body);
    let list = [];

    const load = async () => {
      const r = await get('/conferences');
      if (!r.ok) { replace(body, empty('alert', t('common.loadfail'), errorText(r.error))); return; }
      list = r.json.conferences;
      draw();
    };

    const draw = () => {
      const counts = { all: list.length, live: 0, scheduled: 0, ended: 0 };
      for (const c of list) counts[c.state]++;
      replace(bar, tabs([['all', t('conf.tab.all'), counts.all], ['live', t('conf.tab.live'), counts.live],
        ['scheduled', t('conf.tab.scheduled'), counts.scheduled], ['ended', t('conf.tab.ended'), counts.ended]], filter,
      (k) => { filter = k; draw(); }), h('div', { class: 'spacer' }),
      ctx.can('operator') ? h('a', { class: 'btn primary', href: '#/conferences/new', id: 'btn-new-conf' }, icon('plus'), t('conf.new')) : null);
      const shown = list.filter((c) => filter === 'all' || c.state === filter)
        .sort((a, b) => (a.state === 'live' ? 0 : 1) - (b.state === 'live' ? 0 : 1) || (a.state === 'scheduled' && b.state === 'scheduled' ? (a.start_at || 0) - (b.start_at || 0) : 0));
      if (!shown.length) {
        replace(body, empty('video', t(filter === 'all' ? 'conf.none' : `conf.none.${filter}`), t('conf.none.text'),
          ctx.can('operator') ? h('a', { class: 'btn primary', href: '#/conferences/new' }, icon('plus'), t('conf.new')) : null));
        return;
      }
      const rows = shown.map((c) => h('tr', { 'data-conf': c.id },
        h('td', {}, h('a', { class: 'strong block', href: `#/conferences/${c.id}` }, c.title),
          h('div', { class: 'sub' }, unitName(c.host_unit), ' · ', t('conf.by', { user: c.created_by }),
            c.pin ? [' · ', icon('lock', 'tiny'), t('conf.haspin')] : null)),
        h('td', { class: 'num' }, whenCell(c)),
        h('td', { class: 'num right' }, fmtNum(c.invited)),
        h('td', {}, confPill(c.state)),
        h('td', { class: 'actions' }, actionsFor(c))));
      replace(body, table([{ label: t('conf.col.title') }, { label: t('conf.col.time') },
        { label: t('conf.col.invited'), cls: 'right' }, { label: t('conf.col.state') }, { label: '', cls: 'actions' }], rows, 'confs fixed'));
    };

    // When: the day, then the hours; or "permanent".
    const whenCell = (c) => {
      if (!c.start_at) return h('span', { class: 'muted' }, t('conf.permanent'));
      return [h('div', {}, fmtDate(c.start_at)), h('div', { class: 'sub' }, `${fmtTime(c.start_at)}–${fmtTime(c.end_at)}`)];
    };

    const actionsFor = (c) => {
      const out = [];
      const op = ctx.can('operator');
      if (c.state === 'live') {
        out.push(h('a', { class: 'btn small primary', href: `#/conferences/${c.id}` }, icon('video'), t('conf.open')));
        if (op) out.push(h('button', { type: 'button', class: 'btn small danger', onclick: async () => { if (await endConference(ctx, c)) load(); } }, icon('stop'), t('conf.end')));
      } else if (op) {
        out.push(h('button', { type: 'button', class: 'btn small primary', 'data-action': 'start', onclick: async () => { if (await startConference(ctx, c)) ctx.navigate(`#/conferences/${c.id}`); } }, icon('play'), t('conf.start')));
      }
      if (c.state === 'ended') out.push(h('a', { class: 'icon-btn', href: `/api/v1/conferences/${c.id}/attendance?format=csv`, download: '', title: t('conf.csv.short'), 'aria-label': t('conf.csv.short') }, icon('download')));
      if (op && c.state !== 'live') out.push(h('button', { type: 'button', class: 'icon-btn', title: t('conf.delete'), 'aria-label': t('conf.delete'), onclick: async () => { if (await deleteConference(ctx, c)) load(); } }, icon('trash')));
      return out;
    };

    await load();
    const timer = setInterval(load, 10000);
    return () => clearInterval(timer);
  },
};
