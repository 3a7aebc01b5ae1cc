// The audit log of the account's scope, newest first: who did what, to what, from where,
// with what result; filtered on the page and paged back 200 at a time.
import { t, has, fmtDateTime } from '../../i18n.js';
import { h, icon, replace } from '../../ui.js';
import { get, errorText } from '../api.js';
import { empty, table } from './common.js';

// The server writes an entry's detail in a few fixed forms (docs/openapi.yaml, "Audit");
// those are shown in the panel's language, anything else as written.
function detailText(d) {
  if (!d) return '';
  let m;
  if ((m = /^(\d+) sites$/.exec(d))) return t('audit.d.sites', { n: Number(m[1]) });
  if ((m = /^(.*) \((\d+) sites\)$/.exec(d))) return `${m[1]} (${t('audit.d.sites', { n: Number(m[2]) })})`;
  if ((m = /^([a-z_]+)(?: site (\d+))?$/.exec(d)) && has(`audit.ctl.${m[1]}`)) {
    return m[2] ? t('audit.d.ctlsite', { action: t(`audit.ctl.${m[1]}`), id: m[2] }) : t(`audit.ctl.${m[1]}`);
  }
  if ((m = /^utilisation ([\d.]+)% of (\d+) kbps$/.exec(d))) return t('audit.d.util', { p: m[1].replace('.', t('audit.d.decimal')), kbps: m[2] });
  if (d === 'first start') return t('audit.d.first');
  if (d === 'role') return t('audit.d.role');
  if (has(`role.${d}`)) return t(`role.${d}`);
  return d;
}

export default {
  name: 'audit',
  title: 'nav.audit',
  async mount(el, params, ctx) {
    if (!ctx.can('admin')) { el.append(h('section', { class: 'card pad' }, empty('lock', t('common.noright'), t('audit.noright')))); return null; }
    let entries = [];
    let done = false;
    let q = '';
    let kind = 'all';
    const bar = h('div', { class: 'toolbar' });
    const body = h('section', { class: 'card flush' });
    el.append(bar, body);

    async function more() {
      const before = entries.length ? `&before=${entries[entries.length - 1].id}` : '';
      const r = await get(`/audit?limit=200${before}`);
      if (!r.ok) { replace(body, empty('alert', t('common.loadfail'), errorText(r.error))); return; }
      entries = entries.concat(r.json.entries);
      done = r.json.entries.length < 200;
      draw();
    }

    const label = (a) => (has(`audit.a.${a}`) ? t(`audit.a.${a}`) : a);
    const resultText = (r) => (has(`audit.r.${r}`) ? t(`audit.r.${r}`) : has(`err.${r}`) ? t(`err.${r}`) : r);
    const resultPill = (r) => h('span', { class: `pill ${r === 'ok' || r === 'cleared' ? 'ok' : r === 'denied' || r === 'forbidden' || r === 'raised' ? 'bad' : 'warn'}`, title: r }, resultText(r));

    function draw() {
      const search = h('input', { type: 'search', id: 'audit-search', placeholder: t('audit.search'), value: q, oninput: (e) => { q = e.target.value; drawRows(); } });
      const sel = h('select', { id: 'audit-kind', onchange: (e) => { kind = e.target.value; drawRows(); } },
        ['all', 'auth', 'site', 'user', 'conference', 'monitor'].map((k) => h('option', { value: k, selected: k === kind }, t(`audit.kind.${k}`))));
      if (bar.querySelector('#audit-search') !== document.activeElement) replace(bar, search, sel, h('div', { class: 'spacer' }), h('span', { class: 'muted' }, t('audit.count', { n: entries.length })));
      drawRows();
    }

    function drawRows() {
      const needle = q.trim().toLowerCase();
      const list = entries.filter((e) => (kind === 'all' || e.action.startsWith(`${kind}.`))
        && (!needle || [e.actor, e.action, label(e.action), e.target, e.address, e.detail, detailText(e.detail), e.result].some((x) => String(x || '').toLowerCase().includes(needle))));
      const rows = list.map((e) => h('tr', { 'data-id': e.id },
        h('td', { class: 'num nowrap' }, fmtDateTime(e.at)),
        h('td', {}, h('div', { class: 'ell' }, e.actor === '-' ? t('audit.server') : e.actor), h('div', { class: 'sub mono ell' }, e.address)),
        h('td', {}, h('div', { class: 'ell' }, label(e.action)), h('div', { class: 'sub mono ell' }, e.action)),
        h('td', {}, h('div', { class: 'ell mono', title: e.target }, e.target)),
        h('td', {}, resultPill(e.result)),
        h('td', {}, h('div', { class: 'ell', title: detailText(e.detail) }, detailText(e.detail)))));
      replace(body, list.length ? h('div', { class: 'table-scroll' }, table([{ label: t('audit.col.at') }, { label: t('audit.col.actor') }, { label: t('audit.col.action') },
        { label: t('audit.col.target') }, { label: t('audit.col.result') }, { label: t('audit.col.detail') }], rows, 'audit fixed'))
        : empty('list', t('audit.none')),
      !done ? h('div', { class: 'more-row' }, h('button', { type: 'button', class: 'btn', id: 'audit-more', onclick: more }, icon('refresh'), t('audit.more'))) : null);
    }

    await more();
    return null;
  },
};
