// Create or change a conference: title, host unit, which sites of its subtree it invites
// (the whole subtree, one level, or units picked in a tree), a schedule or none, the chair
// site, an optional PIN, and whether it is recorded and streamed live whenever it runs. The
// invited count is worked out here as the server will.
import { t, fmtNum } from '../../i18n.js';
import { h, icon, replace } from '../../ui.js';
import { get, post, patch, errorText, ref, loadUnits, loadSites, subtree, unitName } from '../api.js';
import { empty } from './common.js';

const LEVEL_KEYS = { 1: 'level.1', 2: 'level.2', 3: 'level.3' };

export default {
  name: 'conference-form',
  title: (p) => (p.id ? 'cform.edit' : 'cform.new'),
  async mount(el, params, ctx) {
    await Promise.all([loadUnits(), loadSites(true)]);
    let conf = null;
    if (params.id) {
      const r = await get(`/conferences/${params.id}`);
      if (!r.ok) { el.append(empty('alert', t('common.loadfail'), errorText(r.error))); return; }
      conf = r.json.conference;
      ctx.setCrumbs([[t('nav.conferences'), '#/conferences'], [conf.title, `#/conferences/${conf.id}`]]);
    } else ctx.setCrumbs([[t('nav.conferences'), '#/conferences']]);
    if (!ctx.can('operator')) { el.append(empty('lock', t('common.noright'), t('cform.noright'))); return; }

    // The state of the form.
    const hosts = [...ref.units.values()].filter((u) => ref.children.has(u.id) || ref.units.size === 1 || u.sites > 0)
      .sort((a, b) => a.level - b.level || a.name.localeCompare(b.name, 'vi'));
    const st = {
      host: conf?.host_unit || ctx.user.unit || ref.roots[0],
      preset: 'subtree',       // subtree, level-N, custom
      own: true,
      picked: new Set(),       // custom: unit codes
      scheduled: !!conf?.start_at,
      chair: conf?.chair_site ?? null,
    };
    if (conf) fromRule(st, conf.invite);

    const title = h('input', { id: 'cf-title', maxlength: 159, required: true, value: conf?.title || '', placeholder: t('cform.title.ph') });
    const host = h('select', { id: 'cf-host', disabled: !!conf, onchange: () => { st.host = host.value; st.picked = new Set(); st.chair = null; draw(); } },
      hosts.map((u) => h('option', { value: u.id, selected: u.id === st.host }, `${'\u2003'.repeat(Math.max(0, u.level - (ref.units.get(ref.roots[0])?.level || 1)))}${u.name}`)));
    const pin = h('input', { id: 'cf-pin', inputmode: 'numeric', maxlength: 12, placeholder: t('cform.pin.ph'), autocomplete: 'off' });
    const record = h('input', { type: 'checkbox', id: 'cf-record', checked: !!conf?.record });
    const stream = h('input', { type: 'checkbox', id: 'cf-stream', checked: !!conf?.stream });
    const day = h('input', { type: 'date', id: 'cf-day' });
    const from = h('input', { type: 'time', id: 'cf-from' });
    const to = h('input', { type: 'time', id: 'cf-to' });
    const start0 = conf?.start_at ? new Date(conf.start_at) : nextHour();
    const end0 = conf?.end_at ? new Date(conf.end_at) : new Date(start0.getTime() + 2 * 3600000);
    day.value = isoDay(start0); from.value = isoTime(start0); to.value = isoTime(end0);

    const inviteBox = h('div', { class: 'invite-box' });
    const countEl = h('div', { class: 'invite-count', id: 'cf-count' });
    const chairSel = h('select', { id: 'cf-chair', onchange: () => { st.chair = Number(chairSel.value) || null; } });
    const schedBox = h('div', { class: 'sched-box' });
    const err = h('div', { class: 'form-error', hidden: true, id: 'cf-error' });

    const radio = (name, value, checked, label, onchange, id) => h('label', { class: 'radio' },
      h('input', { type: 'radio', name, value, checked, id, onchange }), h('span', {}, label));

    function draw() {
      // Invitation presets: the whole subtree, each level present below the host, or a pick.
      const below = subtree(st.host).filter((c) => c !== st.host);
      const levels = [...new Set(below.map((c) => ref.units.get(c).level))].sort();
      const opts = [radio('cf-inv', 'subtree', st.preset === 'subtree', t('cform.inv.subtree'), pick, 'inv-subtree')];
      for (const l of levels) opts.push(radio('cf-inv', `level-${l}`, st.preset === `level-${l}`, t('cform.inv.level', { level: t(LEVEL_KEYS[l] || 'level.n') }), pick, `inv-level-${l}`));
      opts.push(radio('cf-inv', 'custom', st.preset === 'custom', t('cform.inv.custom'), pick, 'inv-custom'));
      const ownBox = h('label', { class: 'check' }, h('input', { type: 'checkbox', id: 'cf-own', checked: st.own, disabled: st.preset === 'custom',
        onchange: (e) => { st.own = e.target.checked; drawCount(); } }), h('span', {}, t('cform.inv.own', { unit: unitName(st.host) })));
      replace(inviteBox, h('div', { class: 'radios' }, opts), ownBox, st.preset === 'custom' ? pickTree() : null);
      drawCount();
    }
    function pick(e) { st.preset = e.target.value; if (st.preset === 'custom' && !st.picked.size) st.picked = new Set(subtree(st.host)); draw(); }

    // The checkbox tree of the host's subtree; a parent's box ticks or clears all below it.
    function pickTree() {
      const open = new Set([st.host]);
      const box = h('div', { class: 'pick-tree', id: 'cf-tree' });
      const node = (code, depth) => {
        const u = ref.units.get(code);
        const kids = ref.children.get(code) || [];
        const all = subtree(code);
        const n = all.filter((c) => st.picked.has(c)).length;
        const cb = h('input', { type: 'checkbox', checked: n === all.length, 'data-unit': code,
          onchange: (e) => { for (const c of all) { if (e.target.checked) st.picked.add(c); else st.picked.delete(c); } redraw(); } });
        cb.indeterminate = n > 0 && n < all.length;
        const tw = kids.length ? h('button', { type: 'button', class: `twisty ${open.has(code) ? 'open' : ''}`, 'aria-label': t('tree.toggle'),
          onclick: () => { if (open.has(code)) open.delete(code); else open.add(code); redraw(); } }, icon('chevron')) : h('span', { class: 'twisty-pad' });
        const row = h('div', { class: 'pick-row', 'data-depth': depth }, tw, h('label', { class: 'check' }, cb, h('span', {}, u.name)),
          u.sites ? h('span', { class: 'pick-n' }, t('cform.sites', { n: u.sites })) : null);
        row.style.paddingLeft = `${depth * 18}px`;
        return [row, open.has(code) ? kids.map((k) => node(k, depth + 1)) : null];
      };
      const redraw = () => { replace(box, node(st.host, 0)); drawCount(); };
      replace(box, node(st.host, 0));
      return box;
    }

    function invited() {
      const rule = toRule(st);
      const units = new Set();
      if (rule.own) units.add(st.host);
      const below = subtree(st.host).filter((c) => c !== st.host);
      if (rule.subtree) below.forEach((c) => units.add(c));
      for (const l of rule.levels || []) below.filter((c) => ref.units.get(c).level === l).forEach((c) => units.add(c));
      for (const c of rule.units || []) units.add(c);
      return [...ref.sites.values()].filter((s) => units.has(s.unit))
        .sort((a, b) => ref.units.get(a.unit).level - ref.units.get(b.unit).level || a.name.localeCompare(b.name, 'vi'));
    }

    function drawCount() {
      const list = invited();
      replace(countEl, icon('users'), h('span', {}, t('cform.count', { n: fmtNum(list.length) })));
      countEl.classList.toggle('zero', list.length === 0);
      if (st.chair === null || !list.some((s) => s.id === st.chair)) st.chair = list.find((s) => s.unit === st.host)?.id ?? list[0]?.id ?? null;
      replace(chairSel, h('option', { value: '' }, t('cform.chair.none')),
        list.map((s) => h('option', { value: s.id, selected: s.id === st.chair }, s.name)));
    }

    const drawSched = () => replace(schedBox,
      radio('cf-sched', 'perm', !st.scheduled, t('cform.sched.perm'), () => { st.scheduled = false; drawSched(); }, 'sched-perm'),
      radio('cf-sched', 'when', st.scheduled, t('cform.sched.when'), () => { st.scheduled = true; drawSched(); }, 'sched-when'),
      st.scheduled ? h('div', { class: 'sched-fields' }, h('label', {}, h('span', {}, t('cform.sched.day')), day),
        h('label', {}, h('span', {}, t('cform.sched.from')), from), h('label', {}, h('span', {}, t('cform.sched.to')), to)) : null);

    async function save(startNow) {
      err.hidden = true;
      const body = { title: title.value.trim(), invite: toRule(st), chair_site: st.chair, record: record.checked, stream: stream.checked };
      if (!conf) body.host_unit = st.host;
      if (st.scheduled) {
        const s = new Date(`${day.value}T${from.value}`), e = new Date(`${day.value}T${to.value}`);
        if (!(e > s)) return fail(t('cform.err.times'));
        body.schedule = { start: s.getTime(), end: e.getTime() };
      } else body.schedule = null;
      if (pin.value.trim()) body.pin = pin.value.trim();
      if (!body.title) return fail(t('cform.err.title'));
      if (!invited().length) return fail(t('cform.err.nobody'));
      const r = conf ? await patch(`/conferences/${conf.id}`, body) : await post('/conferences', body);
      if (!r.ok) return fail(errorText(r.error));
      const id = r.json.conference.id;
      if (startNow) {
        const s = await post(`/conferences/${id}/start`);
        if (!s.ok) ctx.toast(errorText(s.error), 'bad');
      }
      ctx.toast(t(conf ? 'cform.saved' : 'cform.created', { title: body.title }), 'ok');
      ctx.navigate(`#/conferences/${id}`);
      return null;
    }
    const fail = (text) => { err.textContent = text; err.hidden = false; return text; };

    const form = h('form', { class: 'cform', id: 'conf-form', onsubmit: (e) => { e.preventDefault(); save(false); } },
      h('div', { class: 'cform-cols' },
        h('div', { class: 'cform-col' },
          h('section', { class: 'card pad' }, h('h2', {}, t('cform.general')),
            h('label', {}, h('span', {}, t('cform.title')), title),
            h('label', {}, h('span', {}, t('cform.host')), host),
            h('div', { class: 'check-row', id: 'cf-rec', title: t('cform.rec.hint') },
              h('label', { class: 'check' }, record, h('span', {}, t('cform.rec.record'))),
              h('label', { class: 'check' }, stream, h('span', {}, t('cform.rec.stream'))))),
          h('section', { class: 'card pad' }, h('h2', {}, t('cform.sched')), schedBox),
          h('section', { class: 'card pad' }, h('h2', {}, t('cform.chairpin')),
            h('div', { class: 'pair' }, h('label', {}, h('span', {}, t('cform.chair')), chairSel),
              h('label', {}, h('span', {}, t('cform.pin')), pin)))),
        h('section', { class: 'card pad cform-invite' }, h('div', { class: 'card-head' }, h('h2', {}, t('cform.invite')), countEl), inviteBox)),
      err,
      h('div', { class: 'form-foot' },
        h('a', { class: 'btn', href: conf ? `#/conferences/${conf.id}` : '#/conferences' }, t('common.cancel')),
        !conf ? h('button', { type: 'button', class: 'btn', id: 'cf-save-start', onclick: () => save(true) }, icon('play'), t('cform.savestart')) : null,
        h('button', { type: 'submit', class: 'btn primary', id: 'cf-save' }, t(conf ? 'common.save' : 'cform.create'))));
    el.append(form);
    draw();
    drawSched();
  },
};

// The rule the form describes (InviteRule in docs/openapi.yaml).
function toRule(st) {
  if (st.preset === 'subtree') return { own: st.own, subtree: true };
  if (st.preset.startsWith('level-')) return { own: st.own, levels: [Number(st.preset.slice(6))] };
  const all = subtree(st.host);
  if (all.every((c) => st.picked.has(c))) return { own: true, subtree: true };
  return { own: st.picked.has(st.host), units: [...st.picked].filter((c) => c !== st.host) };
}

function fromRule(st, rule = {}) {
  st.own = rule.own !== false;
  if (rule.subtree && !rule.units?.length && !rule.sites?.length) st.preset = 'subtree';
  else if (rule.levels?.length === 1 && !rule.units?.length && !rule.subtree && !rule.sites?.length) st.preset = `level-${rule.levels[0]}`;
  else {
    st.preset = 'custom';
    st.picked = new Set(rule.units || []);
    if (st.own) st.picked.add(st.host);
    const below = subtree(st.host).filter((c) => c !== st.host);
    if (rule.subtree) below.forEach((c) => st.picked.add(c));
    for (const l of rule.levels || []) below.filter((c) => ref.units.get(c)?.level === l).forEach((c) => st.picked.add(c));
  }
}

function nextHour() { const d = new Date(); d.setMinutes(0, 0, 0); d.setHours(d.getHours() + 1); return d; }
const pad = (n) => String(n).padStart(2, '0');
const isoDay = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const isoTime = (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}`;
