// The unit tree the account may see, and the meeting rooms (sites) of the chosen unit and
// below it: online, idle or in a conference, and when last seen. Admins add rooms, change
// their link capacity and issue new credentials as provisioning links for the room PC.
import { t, fmtNum, fmtRelative, fmtDateTime } from '../../i18n.js';
import { h, icon, replace } from '../../ui.js';
import { get, post, patch, errorText, ref, loadUnits, loadSites, subtree, unitName, unitPath } from '../api.js';
import { sitePill, empty, table, statCard, tabs } from './common.js';

const open = new Set();     // expanded units, kept while the panel is open
let stateFilter = 'all';

export default {
  name: 'sites',
  title: 'nav.sites',
  async mount(el, params, ctx) {
    await loadUnits();
    const unit = params.unit && ref.units.has(params.unit) ? params.unit : ref.roots[0];
    if (!unit) { el.append(empty('tree', t('sites.nounits'), t('sites.nounits.text'))); return null; }
    for (const c of unitPath(unit).slice(0, -1)) open.add(c);
    if (ref.roots.length === 1) open.add(ref.roots[0]);
    let liveConfs = new Map(); // live conference id -> {id, title}, for the name of the one a site is in
    let search = '';

    const treeEl = h('div', { class: 'tree', id: 'unit-tree', role: 'tree' });
    const treeSearch = h('input', { type: 'search', placeholder: t('sites.tree.search'), id: 'tree-search', oninput: (e) => { search = e.target.value.trim().toLowerCase(); drawTree(); } });
    const main = h('div', { class: 'sites-main' });
    el.append(h('div', { class: 'split' }, h('aside', { class: 'card tree-card' }, h('div', { class: 'tree-head' }, treeSearch), treeEl), main));

    // The sites with their state (offline, idle, in_conference), and the live conferences'
    // titles for the ones they are in.
    async function loadPresence() {
      const [, live] = await Promise.all([loadSites(true), get('/conferences?state=live')]);
      liveConfs = new Map((live.ok ? live.json.conferences : []).map((c) => [String(c.id), c]));
    }
    const stateOf = (s) => (s.state === 'in_conference' ? 'conference' : s.online ? 'online' : 'offline');
    // A conference hosted outside the account's scope is not listed: only its code shows.
    const confLabel = (s) => {
      const c = liveConfs.get(String(s.conference));
      return c ? h('a', { class: 'sub block ell', href: `#/conferences/${c.id}`, title: c.title }, c.title)
        : h('span', { class: 'sub block ell' }, t('sites.inconf', { id: s.conference }));
    };

    function sitesUnder(code) {
      const units = new Set(subtree(code));
      return [...ref.sites.values()].filter((s) => units.has(s.unit));
    }

    function drawTree() {
      const node = (code, depth) => {
        const u = ref.units.get(code);
        const kids = ref.children.get(code) || [];
        const sites = sitesUnder(code);
        const on = sites.filter((s) => s.online).length;
        const match = !search || subtree(code).some((c) => ref.units.get(c).name.toLowerCase().includes(search));
        if (!match) return null;
        const isOpen = open.has(code) || (search && kids.length);
        const row = h('div', { class: `tree-row ${code === unit ? 'active' : ''}`, role: 'treeitem', 'data-unit': code },
          kids.length ? h('button', { type: 'button', class: `twisty ${isOpen ? 'open' : ''}`, 'aria-label': t('tree.toggle'),
            onclick: (e) => { e.stopPropagation(); if (open.has(code)) open.delete(code); else open.add(code); drawTree(); } }, icon('chevron')) : h('span', { class: 'twisty-pad' }),
          h('a', { class: 'tree-name', href: `#/sites/${code}`, title: u.name }, u.name),
          sites.length ? h('span', { class: `tree-count num ${on ? 'on' : ''}`, title: t('sites.tree.online', { on, n: sites.length }) }, `${on}/${sites.length}`) : null);
        row.style.paddingLeft = `${8 + depth * 16}px`;
        return [row, isOpen ? kids.map((k) => node(k, depth + 1)) : null];
      };
      replace(treeEl, ref.roots.map((r) => node(r, 0)));
    }

    function drawMain() {
      const u = ref.units.get(unit);
      const all = sitesUnder(unit);
      const own = all.filter((s) => s.unit === unit);
      const st = { conference: 0, online: 0, offline: 0 };
      for (const s of all) st[stateOf(s)]++;
      const list = all.filter((s) => stateFilter === 'all' || stateOf(s) === stateFilter)
        .sort((a, b) => ref.units.get(a.unit).level - ref.units.get(b.unit).level || a.name.localeCompare(b.name, 'vi'));
      const path = unitPath(unit).slice(0, -1).map((c) => unitName(c)).join(' › ');
      const head = h('div', { class: 'sites-head' },
        h('div', { class: 'unit-title' }, h('div', { class: 'sub' }, path || t(`level.${u.level}`)), h('h2', {}, u.name),
          h('div', { class: 'sub' }, t('sites.unitmeta', { code: u.id, type: u.type, n: fmtNum(own.length) }))),
        ctx.can('admin') ? h('button', { type: 'button', class: 'btn primary', id: 'btn-add-site', onclick: () => addSite(u) }, icon('plus'), t('sites.add')) : null);
      const stats = h('div', { class: 'stats' }, statCard(t('sites.stat.total'), fmtNum(all.length)),
        statCard(t('sites.stat.conference'), fmtNum(st.conference), 'live'), statCard(t('sites.stat.online'), fmtNum(st.online), 'ok'),
        statCard(t('sites.stat.offline'), fmtNum(st.offline), st.offline ? 'muted' : ''));
      const bar = h('div', { class: 'toolbar tight' }, tabs([['all', t('sites.f.all'), all.length], ['conference', t('site.state.conference'), st.conference],
        ['online', t('site.state.online'), st.online], ['offline', t('site.state.offline'), st.offline]], stateFilter, (k) => { stateFilter = k; drawMain(); }));
      const rows = list.map((s) => {
        const state = stateOf(s);
        return h('tr', { 'data-site': s.id },
          h('td', {}, h('div', { class: 'strong ell', title: s.name }, s.name), h('div', { class: 'sub ell' }, t('sites.code', { id: s.id }), ' · ', unitName(s.unit), ' · ', `${fmtNum(s.link_kbps)} kbit/s`)),
          h('td', {}, sitePill(state), state === 'conference' && s.conference ? confLabel(s) : null),
          h('td', { class: 'num seen' }, h('div', { class: 'ell' }, lastSeen(s, state))),
          h('td', { class: 'actions' }, ctx.can('admin') ? [
            h('button', { type: 'button', class: 'btn small', 'data-act': 'link', title: t('sites.newcred.title'), onclick: () => newCredential(s) }, icon('key'), t('sites.newcred')),
            h('button', { type: 'button', class: 'icon-btn', title: t('sites.edit'), 'aria-label': t('sites.edit'), onclick: () => editSite(s) }, icon('settings'))] : null));
      });
      replace(main, head, stats, h('section', { class: 'card flush' }, bar, list.length
        ? h('div', { class: 'table-scroll' }, table([{ label: t('sites.col.site') }, { label: t('sites.col.state') },
          { label: t('sites.col.seen') }, { label: '', cls: 'actions' }], rows, 'sites fixed'))
        : empty('tree', all.length ? t('sites.none.filter') : t('sites.none'), all.length ? '' : t('sites.none.text'))));
    }

    const lastSeen = (s, state) => {
      if (state !== 'offline') return h('span', { class: 'muted' }, t('sites.seen.now'));
      if (s.last_seen) return h('span', { title: fmtDateTime(s.last_seen), 'data-seen': s.last_seen }, fmtRelative(s.last_seen));
      return h('span', { class: 'muted', title: t('sites.seen.never.title') }, t('sites.seen.never'));
    };

    // The credential shown once, as a link the room PC opens to sign in by itself.
    function showLink(site, secret) {
      const link = `${location.origin}/room/#site=${site.id}&secret=${encodeURIComponent(secret)}`;
      const input = h('input', { readonly: true, value: link, id: 'prov-link', class: 'mono' });
      ctx.dialog(t('sites.link.title', { name: site.name }), [
        h('p', {}, t('sites.link.text')),
        h('label', {}, h('span', {}, t('sites.link.label')), h('div', { class: 'copy-row' }, input,
          h('button', { type: 'button', class: 'btn', onclick: async () => { input.select(); try { await navigator.clipboard.writeText(link); ctx.toast(t('sites.link.copied'), 'ok'); } catch { document.execCommand('copy'); } } }, icon('copy'), t('sites.link.copy')))),
        h('div', { class: 'kv-grid' }, h('span', {}, t('room.signin.site')), h('strong', { class: 'mono' }, String(site.id)),
          h('span', {}, t('room.signin.secret')), h('strong', { class: 'mono', id: 'prov-secret' }, secret)),
        h('p', { class: 'hint' }, t('sites.link.once')),
      ], { cancelText: t('common.close') });
    }

    async function newCredential(s) {
      if (!await ctx.confirm(t('sites.newcred.title'), t('sites.newcred.text', { name: s.name }), t('sites.newcred.ok'), false)) return;
      const r = await post(`/sites/${s.id}/credential`);
      if (!r.ok) { ctx.toast(errorText(r.error), 'bad'); return; }
      showLink(r.json.site, r.json.secret);
    }

    function siteFields(s) {
      const name = h('input', { id: 'site-name', maxlength: 159, value: s?.name || '' });
      const kbps = h('input', { type: 'number', id: 'site-kbps', min: 64, max: 10000000, value: s?.link_kbps || 2000 });
      return { name, kbps, body: [h('label', {}, h('span', {}, t('sites.f.name')), name), h('label', {}, h('span', {}, t('sites.f.kbps')), kbps), h('p', { class: 'hint' }, t('sites.f.kbps.hint'))] };
    }

    function addSite(u) {
      const f = siteFields({ name: `${t('sites.defaultname')} ${u.name}` });
      ctx.dialog(t('sites.add.title', { unit: u.name }), f.body, { okText: t('sites.add.ok'), submit: async (close) => {
        const r = await post('/sites', { unit: u.id, name: f.name.value.trim(), link_kbps: Number(f.kbps.value) });
        if (!r.ok) return errorText(r.error);
        close();
        await loadSites(true);
        drawTree(); drawMain();
        showLink(r.json.site, r.json.secret);
        return null;
      } });
    }

    function editSite(s) {
      const f = siteFields(s);
      ctx.dialog(t('sites.edit.title'), f.body, { submit: async (close) => {
        const r = await patch(`/sites/${s.id}`, { name: f.name.value.trim(), link_kbps: Number(f.kbps.value) });
        if (!r.ok) return errorText(r.error);
        close();
        ctx.toast(t('common.saved'), 'ok');
        await loadSites(true);
        drawMain();
        return null;
      } });
    }

    drawTree();
    await loadPresence();
    drawTree();
    drawMain();
    const timer = setInterval(async () => { await loadPresence(); drawTree(); drawMain(); }, 10000);
    return () => clearInterval(timer);
  },
};
