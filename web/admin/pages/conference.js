// One conference. While it is live, the operator's console: the roster with audio meters,
// speaking highlight and per-site link quality; the request-to-speak queue; the main-view
// mode; roll call with its running results; mute, lock, remove. At any time: its details,
// attendance and roll-call results with their CSV exports; recording and live streaming
// (with the REC clock) and the conference's recordings. Live data comes from the events
// socket (watch), actions go through POST /conferences/{id}/control.
import { t, fmtNum, fmtPct, fmtDateTime, fmtDuration } from '../../i18n.js';
import { h, icon, replace, initials, hue } from '../../ui.js';
import { get, post, errorText, Events, unitName, ref, loadUnits } from '../api.js';
import { confPill, scheduleText, empty, table, tabs, statCard, startConference, endConference, levelFraction, download } from './common.js';
import { clockText, sizeText, recordingTable, tickLengths } from './recordings.js';

export default {
  name: 'conference',
  title: () => 'conf.page',
  async mount(el, params, ctx) {
    await loadUnits();
    const id = Number(params.id);
    const S = {
      conf: null, live: null, roster: new Map(), levels: {}, quality: {}, results: {},
      tab: 'control', filter: 'all', search: '', sock: 'connecting', attendance: null, watchedAt: Date.now(),
      recordings: [], stopping: {}, // stopping: {recording, streaming} asked to stop, not stopped yet
    };
    window.adminConference = S; // the browser tests read it
    const op = ctx.can('operator');

    const head = h('div', { class: 'conf-head card pad' });
    const tabBar = h('div', { class: 'conf-tabs' });
    const body = h('div', { class: 'conf-body' });

    async function loadConf() {
      const r = await get(`/conferences/${id}`);
      if (!r.ok) { replace(el, empty('alert', t(r.status === 404 ? 'conf.notfound' : 'common.loadfail'), errorText(r.error), h('a', { class: 'btn', href: '#/conferences' }, t('conf.back')))); return false; }
      S.conf = r.json.conference;
      S.live = r.json.conference.live || null;
      ctx.setCrumbs([[t('nav.conferences'), '#/conferences']], S.conf.title);
      return true;
    }
    if (!await loadConf()) return null;
    await loadResults();
    el.append(head, tabBar, body); // drawn in this same task (drawAll below): never shown empty

    // ---- live data
    const ev = new Events(onEvent, (open) => { S.sock = open ? 'open' : 'closed'; drawHead(); });
    ev.watch(id);
    function onEvent(m) {
      if (m.type === 'watching') {
        S.watchedAt = Date.now();
        S.live = m.live;
        S.roster = new Map(m.sites.map((s) => [s.site, s]));
        drawAll();
      } else if (m.type === 'conference') {
        const wasLive = !!S.live;
        S.live = m.conference;
        if (!wasLive) { ev.watch(id); loadConf().then(drawAll); } // started: fetch the whole roster again
        else drawLive();
      } else if (m.type === 'presence') {
        S.roster.set(m.site, m);
        drawRosterRow(m.site);
        drawSideSoon();
      } else if (m.type === 'speaker') {
        if (S.live) S.live.speaker = m.site;
        drawSpeaking();
      } else if (m.type === 'levels') {
        const now = Date.now();
        for (const [k, v] of Object.entries(m.sites || {})) S.levels[k] = { ...v, at: now };
        drawMeters();
      } else if (m.type === 'quality') {
        for (const [k, v] of Object.entries(m.sites || {})) S.quality[k] = { ...v, at: Date.now() };
        drawQuality();
      } else if (m.type === 'rollcall') {
        S.results[m.site] = m.result;
        drawSideSoon();
      } else if (m.type === 'ending') {
        ctx.toast(t('live.toast.ending', { n: m.seconds }));
      } else if (m.type === 'ended') {
        S.live = null;
        ctx.toast(t('live.toast.ended'), 'ok');
        loadConf().then(() => { loadResults(); drawAll(); loadRecordings(); });
      } else if (m.type === 'recording' || m.type === 'streaming') {
        onRecEvent(m);
      } else if (m.type === 'error' && m.id === 'w') {
        ctx.toast(errorText(m), 'bad');
      }
    }

    // Started, stopping, stopped or failed; the new live state follows as `conference`.
    function onRecEvent(m) {
      const key = m.type === 'recording' ? 'rec' : 'stream';
      if (m.state === 'failed') ctx.toast(t(`live.${key}.toast.failed`, { error: m.error || t('err.io_error') }), 'bad');
      else if (m.state === 'started' || m.state === 'stopped') ctx.toast(t(`live.${key}.toast.${m.state}`), 'ok');
      S.stopping[m.type] = m.state === 'stopping';
      if ((m.state === 'stopped' || m.state === 'failed') && S.live) S.live = { ...S.live, [m.type]: null };
      drawLive();
      if (m.type === 'recording' && m.state !== 'started') loadRecordings();
    }

    async function loadRecordings() {
      const r = await get(`/recordings?conference=${id}`);
      if (!r.ok) return;
      const had = S.recordings.length;
      S.recordings = r.json.recordings;
      if (S.tab === 'attendance') { if (had !== S.recordings.length) drawAttendance(); } else drawRecList();
    }

    async function loadResults() {
      const r = await get(`/conferences/${id}/rollcall`);
      if (r.ok) S.results = Object.fromEntries(r.json.rollcall.filter((x) => x.rollcall).map((x) => [x.site, x.rollcall]));
    }

    async function control(body, okKey) {
      const r = await post(`/conferences/${id}/control`, body);
      if (!r.ok) { ctx.toast(errorText(r.error), 'bad'); return false; }
      if (r.json.live) { S.live = r.json.live; drawLive(); }
      if (okKey) ctx.toast(t(okKey), 'ok');
      return true;
    }

    // ---- drawing

    const site = (sid) => S.roster.get(sid) || { site: sid, name: ref.sites.get(sid)?.name || t('room.site.n', { id: sid }), status: 'offline' };
    const siteName = (sid) => (sid ? site(sid).name : '–');

    function drawHead() {
      const c = S.conf;
      const meta = [h('span', {}, icon('tree', 'tiny'), unitName(c.host_unit)), h('span', {}, icon('clock', 'tiny'), scheduleText(c)),
        h('span', {}, icon('users', 'tiny'), t('live.invited', { n: fmtNum(c.invited) }))];
      if (c.pin) meta.push(h('span', {}, icon('lock', 'tiny'), t('conf.haspin')));
      if (S.live) meta.push(h('span', { class: `sock ${S.sock}` }, h('span', { class: 'dot' }), t(`live.sock.${S.sock}`)));
      const btns = [];
      if (op && c.state !== 'live') btns.push(h('button', { type: 'button', class: 'btn primary', id: 'btn-start', onclick: async () => { if (await startConference(ctx, c)) { await loadConf(); ev.watch(id); drawAll(); } } }, icon('play'), t('conf.start')));
      if (op && c.state === 'scheduled') btns.push(h('a', { class: 'btn', href: `#/conferences/${id}/edit` }, t('conf.edit')));
      if (op && c.state === 'live') btns.push(h('button', { type: 'button', class: 'btn danger', id: 'btn-end', onclick: async () => { if (await endConference(ctx, c)) { await loadConf(); drawAll(); } } }, icon('stop'), t('conf.end')));
      replace(head, h('div', { class: 'conf-title' }, h('div', { class: 'conf-title-row' }, h('h2', { title: c.title }, c.title), confPill(c.state), recBadges()),
        h('div', { class: 'conf-meta' }, meta)), h('div', { class: 'conf-btns' }, btns));
    }

    // The red REC with its running clock, and the live stream with its viewers.
    function recBadges() {
      const L = S.live || {};
      return [L.recording ? h('span', { class: 'rec-badge', id: 'rec-indicator', title: t('live.rec.on') }, h('span', { class: 'rec-dot' }), t('live.rec.badge'),
        h('span', { class: 'num rec-clock' }, recClock())) : null,
      L.streaming ? h('span', { class: 'pill info nowrap', id: 'stream-indicator', title: t('live.stream.on') }, icon('broadcast', 'tiny'),
        t('live.stream.badge', { n: L.streaming.viewers })) : null];
    }
    const recClock = () => clockText(S.live?.recording ? Date.now() - S.live.recording.started_at : 0);
    function tickClock() {
      const text = recClock();
      for (const e of document.querySelectorAll('.rec-clock')) e.textContent = text;
      tickLengths(body, S.recordings);
    }

    function drawTabs() {
      replace(tabBar, tabs([['control', S.live ? t('live.tab.control') : t('live.tab.overview')], ['attendance', t('live.tab.attendance')]], S.tab,
        (k) => { S.tab = k; drawAll(); }));
    }

    let rosterBody, rosterRows = new Map(), sideEl, filterBar;
    function drawAll() {
      drawHead();
      drawTabs();
      if (S.tab === 'attendance') { drawAttendance(); return; }
      if (!S.live) { drawIdle(); return; }
      rosterBody = h('tbody');
      rosterRows = new Map();
      filterBar = h('div', { class: 'toolbar tight' });
      sideEl = h('div', { class: 'live-side' });
      replace(body, h('div', { class: 'live-grid' },
        h('section', { class: 'card flush roster-card' }, filterBar,
          h('div', { class: 'roster-scroll' }, h('table', { class: 'grid roster', id: 'roster' },
            h('thead', {}, h('tr', {}, h('th', {}, t('live.col.site')), h('th', {}, t('live.col.state')), h('th', {}, t('live.col.level')),
              h('th', { title: t('live.col.quality.title') }, t('live.col.quality')), h('th', { class: 'actions' }, op ? t('live.col.actions') : ''))),
            rosterBody))),
        sideEl));
      drawLive();
    }

    function drawIdle() {
      const c = S.conf;
      const text = c.state === 'ended' ? t('live.idle.ended', { time: fmtDateTime(c.ended_at) }) : c.start_at ? t('live.idle.scheduled', { time: fmtDateTime(c.start_at) }) : t('live.idle.permanent');
      replace(body, h('div', { class: 'idle-col' }, h('section', { class: 'card pad' }, empty(c.state === 'ended' ? 'check' : 'calendar', t(`live.idle.title.${c.state}`), text,
        op ? h('button', { type: 'button', class: 'btn primary', onclick: async () => { if (await startConference(ctx, c)) { await loadConf(); ev.watch(id); drawAll(); } } }, icon('play'), t('conf.start')) : null)),
      recSection()));
    }

    function drawLive() {
      drawHead();
      if (!S.live || S.tab !== 'control' || !rosterBody) return;
      drawFilter();
      const list = shownSites();
      const want = new Set(list.map((s) => s.site));
      for (const [sid, tr] of rosterRows) if (!want.has(sid)) { tr.remove(); rosterRows.delete(sid); }
      for (const s of list) { drawRosterRow(s.site, true); rosterBody.append(rosterRows.get(s.site)); }
      if (!list.length) replace(rosterBody, h('tr', {}, h('td', { colspan: 5 }, empty('users', t('live.roster.none')))));
      drawSide();
      drawMeters();
      drawQuality();
    }

    function shownSites() {
      const q = S.search.trim().toLowerCase();
      const chair = S.live?.chair;
      return [...S.roster.values()].filter((s) => {
        if (q && !s.name.toLowerCase().includes(q) && !unitName(s.unit).toLowerCase().includes(q)) return false;
        if (S.filter === 'joined') return s.status === 'joined';
        if (S.filter === 'absent') return s.status !== 'joined';
        if (S.filter === 'hands') return s.hand;
        return true;
      }).sort((a, b) => (b.site === chair) - (a.site === chair) || (b.status === 'joined') - (a.status === 'joined'));
    }

    function drawFilter() {
      const all = [...S.roster.values()];
      const joined = all.filter((s) => s.status === 'joined').length;
      const search = h('input', { type: 'search', id: 'roster-search', placeholder: t('live.search'), value: S.search,
        oninput: (e) => { S.search = e.target.value; drawLive(); } });
      if (filterBar.querySelector('#roster-search') === document.activeElement) return; // do not steal the typing
      replace(filterBar, tabs([['all', t('live.f.all'), all.length], ['joined', t('live.f.joined'), joined], ['absent', t('live.f.absent'), all.length - joined],
        ['hands', t('live.f.hands'), all.filter((s) => s.hand).length]], S.filter, (k) => { S.filter = k; drawLive(); }), h('div', { class: 'spacer' }), search);
    }

    function drawRosterRow(sid, create = false) {
      if (!rosterBody) return;
      let tr = rosterRows.get(sid);
      if (!tr && !create) { if (S.tab === 'control' && S.live) drawSoon(); return; }
      const s = site(sid);
      const c = S.live || {};
      const parent = ref.units.get(ref.units.get(s.unit)?.parent);
      const av = h('span', { class: 'avatar sm' }, initials(s.name));
      av.style.background = `hsl(${hue(sid)} 45% 40%)`;
      const flags = [];
      if (sid === c.chair) flags.push(h('span', { class: 'flag chair', title: t('room.badge.chair') }, icon('star'), t('live.flag.chair')));
      if (sid === c.floor) flags.push(h('span', { class: 'flag floor' }, icon('mic'), t('live.flag.floor')));
      if (s.hand) flags.push(h('span', { class: 'flag hand' }, icon('hand'), t('live.flag.hand')));
      if (s.muted) flags.push(h('span', { class: 'flag muted', 'data-flag': 'muted' }, icon('mic-off'), t('live.flag.muted')));
      else if (s.self_muted) flags.push(h('span', { class: 'flag self' }, icon('mic-off'), t('live.flag.selfmuted')));
      const stateKey = s.removed ? 'removed' : s.status;
      const cells = [
        h('td', {}, h('div', { class: 'site-cell' }, av, h('div', { class: 'site-text' }, h('div', { class: 'strong ell', title: s.name }, s.name),
          h('div', { class: 'sub ell' }, parent ? parent.name : unitName(s.unit))))),
        h('td', {}, h('div', { class: 'state-cell' }, h('span', { class: `pill ${{ joined: 'ok', idle: 'info', removed: 'bad' }[stateKey] || ''}` }, t(`live.state.${stateKey}`)), flags)),
        h('td', {}, h('div', { class: 'meter level', 'data-meter': sid }, h('i'))),
        h('td', { class: 'q-cell', 'data-q': sid }),
        h('td', { class: 'actions' }, op ? rowActions(s) : null),
      ];
      const fresh = h('tr', { 'data-site': sid, class: [s.status === 'joined' ? 'joined' : 'away', sid === c.speaker ? 'speaking' : ''].join(' ') }, cells);
      if (tr) tr.replaceWith(fresh);
      rosterRows.set(sid, fresh);
      drawMeters(sid);
      drawQuality(sid);
    }

    let soon = null;
    function drawSoon() { if (!soon) soon = setTimeout(() => { soon = null; drawLive(); }, 150); }
    let sideSoon = null;
    function drawSideSoon() { if (!sideSoon) sideSoon = setTimeout(() => { sideSoon = null; drawSide(); drawFilter(); }, 100); }

    function rowActions(s) {
      const out = [];
      const joined = s.status === 'joined';
      out.push(h('button', { type: 'button', class: `icon-btn mic ${s.muted ? 'muted' : ''}`, 'data-act': s.muted ? 'unmute' : 'mute',
        title: t(s.muted ? 'live.act.unmute' : 'live.act.mute'), 'aria-label': t(s.muted ? 'live.act.unmute' : 'live.act.mute'),
        onclick: () => control({ action: s.muted ? 'unmute' : 'mute', site: s.site }) }, icon(s.muted ? 'mic-off' : 'mic')));
      out.push(h('button', { type: 'button', class: 'icon-btn', 'data-act': 'broadcast', title: t('live.act.broadcast'), 'aria-label': t('live.act.broadcast'),
        disabled: !joined, onclick: () => control({ action: 'broadcast', site: s.site }, 'live.ok.broadcast') }, icon('broadcast')));
      out.push(h('button', { type: 'button', class: 'icon-btn', 'data-act': 'more', title: t('live.act.more'), 'aria-label': t('live.act.more'),
        onclick: (e) => moreMenu(e.currentTarget, s) }, icon('chevron-down')));
      return out;
    }

    function moreMenu(anchor, s) {
      document.querySelector('.popmenu')?.remove();
      const item = (key, fn, danger) => h('button', { type: 'button', class: `menu-item ${danger ? 'danger' : ''}`, 'data-menu': key, onclick: () => { menu.remove(); fn(); } }, t(key));
      const joined = s.status === 'joined';
      const menu = h('div', { class: 'popmenu' },
        joined ? item('live.act.floor', () => control({ action: 'grant_floor', site: s.site })) : null,
        item('live.act.chair', () => control({ action: 'transfer_chair', site: s.site }, 'live.ok.chair')),
        s.hand ? item('live.act.refuse', () => control({ action: 'refuse_hand', site: s.site })) : null,
        item('live.act.remove', async () => {
          if (await ctx.confirm(t('live.remove.title'), t('live.remove.text', { name: s.name }), t('live.remove.ok'))) control({ action: 'remove', site: s.site }, 'live.ok.removed');
        }, true));
      document.body.append(menu);
      const r = anchor.getBoundingClientRect();
      menu.style.top = `${Math.min(r.bottom + 4, window.innerHeight - menu.offsetHeight - 8)}px`;
      menu.style.left = `${Math.max(8, r.right - menu.offsetWidth)}px`;
      setTimeout(() => document.addEventListener('click', () => menu.remove(), { once: true }), 0);
    }

    function drawMeters(only) {
      const now = Date.now();
      const sp = S.live?.speaker;
      for (const [sid, tr] of rosterRows) {
        if (only !== undefined && sid !== only) continue;
        const lv = S.levels[sid];
        const f = lv && now - lv.at < 1500 && site(sid).status === 'joined' ? levelFraction(lv.level) : 0;
        const bar = tr.querySelector('[data-meter] > i');
        if (bar) bar.style.width = `${Math.round(f * 100)}%`;
        tr.classList.toggle('talking', f > 0.45);
        tr.classList.toggle('speaking', sid === sp);
      }
    }
    function drawSpeaking() { drawMeters(); drawSide(); }

    function drawQuality(only) {
      for (const [sid, tr] of rosterRows) {
        if (only !== undefined && sid !== only) continue;
        const cell = tr.querySelector('[data-q]');
        const q = S.quality[sid];
        if (!cell) continue;
        if (!q || site(sid).status !== 'joined' || Date.now() - q.at > 10000) {
          const joined = site(sid).status === 'joined';
          const waited = Date.now() - S.watchedAt > 6000;
          replace(cell, joined ? h('span', { class: 'muted small', title: waited ? t('live.q.none.title') : '' }, t(waited ? 'live.q.none' : 'live.q.wait')) : null);
          continue;
        }
        const g = q.loss > 0.08 || q.rtt_ms > 400 || q.jitter_ms > 80 ? 'poor' : q.loss > 0.02 || q.rtt_ms > 150 || q.jitter_ms > 30 ? 'fair' : 'good';
        replace(cell, h('div', { class: `q ${g}`, title: t(`quality.${g}`) },
          h('div', { class: 'q-rate num' }, h('span', { class: 'dot' }), `↓${fmtNum(q.kbps_in || 0)} ↑${fmtNum(q.kbps_out || 0)} kbit/s`),
          h('div', { class: 'q-link num' }, [q.loss == null ? '–' : fmtPct(q.loss, 1), q.jitter_ms == null ? '–' : `${fmtNum(q.jitter_ms)} ms`,
            q.rtt_ms == null ? '–' : `${fmtNum(q.rtt_ms)} ms`].join(' · '))));
      }
    }

    function drawSide() {
      if (!sideEl || !S.live) return;
      const c = S.live;
      const cards = [recCard(c)];
      // What everyone sees, and how it is chosen.
      const modes = [['voice', 'voice_switching', 'volume'], ['lecture', 'lecture', 'lecture'], ['tour', 'tour_start', 'tour']];
      // The side cards are redrawn on every event: what the operator typed lives in S.
      const secs = h('input', { type: 'number', min: 2, max: 3600, value: S.modeSecs ?? 10, id: 'mode-seconds', class: 'secs', title: t('live.mode.seconds'),
        oninput: (e) => { S.modeSecs = e.target.value; } });
      cards.push(h('section', { class: 'card pad side-card', id: 'card-view' }, h('h3', {}, icon('video'), t('live.view.title')),
        h('div', { class: 'now-main' }, h('div', { class: 'sub' }, t('live.view.main')), h('div', { class: 'strong ell', id: 'main-name', title: siteName(c.main) }, siteName(c.main)),
          c.mode === 'lecture' && c.chair_main !== c.main ? h('div', { class: 'sub ell' }, t('live.view.chairsees', { name: siteName(c.chair_main) })) : null,
          h('div', { class: 'sub ell' }, t('live.view.speaker', { name: siteName(c.speaker) }))),
        h('div', { class: 'seg', role: 'group', id: 'mode-seg' }, modes.map(([m, action, ic]) => h('button', { type: 'button', class: `seg-btn ${c.mode === m ? 'active' : ''}`,
          'data-mode': m, disabled: !op, onclick: () => control(m === 'voice' ? { action } : { action, seconds: Number(secs.value) || 10 }) }, icon(ic), t(`live.mode.${m}`)))),
        c.mode === 'broadcast' ? h('div', { class: 'mode-note' }, icon('broadcast'), t('live.mode.broadcasting', { name: siteName(c.main) })) : null,
        h('div', { class: 'secs-row' }, h('label', { class: 'inline' }, h('span', {}, t('live.mode.seconds')), secs),
          c.mode === 'tour' && op ? h('button', { type: 'button', class: 'btn small', onclick: () => control({ action: 'tour_stop' }) }, t('live.mode.tourstop')) : null)));

      // The request-to-speak queue.
      const hands = c.hands || [];
      cards.push(h('section', { class: 'card pad side-card', id: 'card-hands' }, h('h3', {}, icon('hand'), t('live.hands.title', { n: hands.length })),
        c.floor ? h('div', { class: 'floor-now' }, icon('mic'), h('span', { class: 'ell' }, t('live.hands.floor', { name: siteName(c.floor) })),
          op ? h('button', { type: 'button', class: 'btn small', onclick: () => control({ action: 'revoke_floor' }) }, t('live.hands.revoke')) : null) : null,
        hands.length ? h('ol', { class: 'queue', id: 'hand-queue' }, hands.map((sid) => h('li', { 'data-site': sid }, h('span', { class: 'ell' }, siteName(sid)),
          op ? h('span', { class: 'queue-btns' }, h('button', { type: 'button', class: 'btn small primary', onclick: () => control({ action: 'grant_floor', site: sid }) }, t('live.hands.grant')),
            h('button', { type: 'button', class: 'btn small', onclick: () => control({ action: 'refuse_hand', site: sid }) }, t('live.hands.refuse'))) : null)))
          : h('p', { class: 'muted small' }, t('live.hands.none'))));

      // Roll call and its running attendance.
      const res = Object.values(S.results);
      const count = (r) => res.filter((x) => x === r).length;
      const rc = c.rollcall;
      const rcSecs = h('input', { type: 'number', min: 2, max: 3600, value: S.rcSecs ?? 15, id: 'rc-seconds', class: 'secs',
        oninput: (e) => { S.rcSecs = e.target.value; } });
      cards.push(h('section', { class: 'card pad side-card', id: 'card-rollcall' }, h('h3', {}, icon('roll'), t('live.rc.title')),
        rc ? h('div', { class: 'rc-now' }, h('div', { class: 'sub' }, t('live.rc.calling', { i: rc.index + 1, n: rc.total })),
          h('div', { class: 'strong ell', id: 'rc-site' }, siteName(rc.site)),
          h('div', { class: 'rc-bar' }, h('i', { class: 'rc-fill' }))) : null,
        h('div', { class: 'rc-counts', id: 'rc-counts' },
          h('span', { class: 'pill ok' }, t('live.rc.present', { n: count('present') })),
          h('span', { class: 'pill bad' }, t('live.rc.absent', { n: count('absent') })),
          h('span', { class: 'pill warn' }, t('live.rc.late', { n: count('late') }))),
        op ? (rc ? h('div', { class: 'btn-row' },
          h('button', { type: 'button', class: 'btn small primary', id: 'rc-present', onclick: () => control({ action: 'rollcall_confirm', result: 'present' }) }, t('live.rc.mark.present')),
          h('button', { type: 'button', class: 'btn small', id: 'rc-absent', onclick: () => control({ action: 'rollcall_confirm', result: 'absent' }) }, t('live.rc.mark.absent')),
          h('button', { type: 'button', class: 'btn small', id: 'rc-stop', onclick: () => control({ action: 'rollcall_stop' }) }, t('live.rc.stop')))
          : h('div', { class: 'btn-row' }, h('label', { class: 'inline' }, h('span', {}, t('live.rc.seconds')), rcSecs),
            h('button', { type: 'button', class: 'btn small primary', id: 'rc-start', onclick: () => control({ action: 'rollcall_start', seconds: Number(rcSecs.value) || 15 }) }, icon('play'), t('live.rc.start')))) : null));
      // Microphones and the door.
      cards.push(h('section', { class: 'card pad side-card', id: 'card-room' }, h('h3', {}, icon('settings'), t('live.room.title')),
        h('div', { class: 'btn-col' },
          h('button', { type: 'button', class: `btn ${c.mute_all ? 'on' : ''}`, id: 'btn-muteall', disabled: !op,
            onclick: () => control({ action: c.mute_all ? 'unmute_all' : 'mute_all_except_chair' }) }, icon(c.mute_all ? 'mic' : 'mic-off'), t(c.mute_all ? 'live.room.unmuteall' : 'live.room.muteall')),
          h('button', { type: 'button', class: `btn ${c.locked ? 'on' : ''}`, id: 'btn-lock', disabled: !op,
            onclick: () => control({ action: c.locked ? 'unlock' : 'lock' }) }, icon(c.locked ? 'unlock' : 'lock'), t(c.locked ? 'live.room.unlock' : 'live.room.lock')),
          h('button', { type: 'button', class: 'btn', id: 'btn-callabsent', disabled: !op, onclick: () => control({ action: 'call_absent' }, 'live.ok.called') }, icon('refresh'), t('live.room.callabsent')))));

      if (rc) {
        const fill = cards.find((x) => x.id === 'card-rollcall').querySelector('.rc-fill');
        fill.style.width = `${Math.round(100 * rc.index / Math.max(1, rc.total))}%`;
      }
      replace(sideEl, cards);
    }

    // Recording and the live stream: their state and the buttons that start and stop them.
    function recCard(c) {
      const rec = c.recording, st = c.streaming;
      const url = st ? new URL(st.url, location.href).href : '';
      const copy = async () => { try { await navigator.clipboard.writeText(url); ctx.toast(t('live.stream.copied'), 'ok'); } catch { ctx.toast(url); } };
      return h('section', { class: 'card pad side-card', id: 'card-rec' }, h('h3', {}, icon('record'), t('live.rec.title')),
        h('div', { class: 'rec-block' },
          rec ? h('div', { class: 'rec-now', id: 'rec-now' }, h('span', { class: 'rec-dot' }), h('span', { class: 'strong' }, t('live.rec.now')),
            h('span', { class: 'num rec-clock' }, recClock()), rec.bytes >= 1e5 ? h('span', { class: 'sub num', title: t('live.rec.size') }, sizeText(rec.bytes)) : null)
            : h('div', { class: 'sub' }, t('live.rec.off')),
          recButton('recording', 'btn-rec', 'record', 'live.rec')),
        h('div', { class: 'rec-block' },
          st ? h('div', { class: 'stream-now', id: 'stream-now' }, h('div', { class: 'strong' }, icon('broadcast', 'tiny'), t('live.stream.now')),
            h('div', { class: 'sub num', id: 'stream-viewers' }, t('live.stream.viewers', { n: st.viewers, max: st.max_viewers })),
            h('div', { class: 'stream-link' }, h('a', { href: url, target: '_blank', rel: 'noopener', class: 'mono ell', id: 'stream-url', title: url }, url),
              h('button', { type: 'button', class: 'icon-btn', title: t('live.stream.copy'), 'aria-label': t('live.stream.copy'), onclick: copy }, icon('copy'))))
            : h('div', { class: 'sub' }, t('live.stream.off')),
          recButton('streaming', 'btn-stream', 'broadcast', 'live.stream')));
    }
    // Start, or stop (then "stopping…" until the server says it has).
    function recButton(what, bid, ic, key) {
      const on = !!S.live[what], stopping = on && S.stopping[what];
      const verb = what === 'recording' ? 'record' : 'stream';
      return h('button', { type: 'button', class: `btn ${on ? 'danger' : ''}`, id: bid, disabled: !op || stopping,
        onclick: async (e) => {
          e.currentTarget.disabled = true;
          const ok = await control({ action: `${verb}_${on ? 'stop' : 'start'}` });
          if (ok && on && S.live?.[what]) S.stopping[what] = true;
          drawSide();
        } }, icon(stopping ? 'clock' : on ? 'stop' : ic), t(`${key}.${stopping ? 'stopping' : on ? 'stop' : 'start'}`));
    }

    // The conference's recordings, under its overview or its attendance.
    let recBox = null;
    function drawRecList() {
      if (!recBox) return; // (a new box is drawn before it is in the page: no isConnected check)
      const list = S.recordings;
      replace(recBox, !list.length ? null : [h('div', { class: 'card-head rec-head' }, h('h2', {}, t('live.rec.list', { n: list.length })),
        h('a', { class: 'btn small', href: `#/recordings?conference=${id}` }, t('live.rec.all'))),
      recordingTable(list, ctx, { withConf: false, changed: loadRecordings })]);
      recBox.hidden = !list.length;
    }
    function recSection() {
      recBox = h('section', { class: 'card flush rec-card', id: 'conf-recs', hidden: true });
      drawRecList();
      return recBox;
    }

    // ---- attendance
    async function drawAttendance() {
      const r = await get(`/conferences/${id}/attendance`);
      if (S.tab !== 'attendance') return;
      if (!r.ok) { replace(body, h('section', { class: 'card pad' }, empty('alert', t('common.loadfail'), errorText(r.error)))); return; }
      const rows = r.json.attendance;
      S.attendance = rows;
      const attended = rows.filter((x) => x.joins > 0).length;
      const rcCount = (k) => rows.filter((x) => x.rollcall === k).length;
      const stats = h('div', { class: 'stats' }, statCard(t('att.invited'), fmtNum(rows.length)), statCard(t('att.attended'), fmtNum(attended), 'ok', fmtPct(rows.length ? attended / rows.length : 0)),
        statCard(t('att.present'), fmtNum(rcCount('present')), 'ok'), statCard(t('att.absent'), fmtNum(rcCount('absent')), 'bad'), statCard(t('att.late'), fmtNum(rcCount('late')), 'warn'));
      const trs = rows.map((x) => h('tr', { 'data-site': x.site },
        h('td', {}, h('div', { class: 'strong ell', title: x.name }, x.name), h('div', { class: 'sub ell' }, x.unit_name)),
        h('td', { class: 'num' }, x.first_join ? fmtDateTime(x.first_join) : h('span', { class: 'muted' }, t('att.never'))),
        h('td', { class: 'num' }, x.last_leave ? fmtDateTime(x.last_leave) : x.first_join ? h('span', { class: 'pill ok' }, t('att.still')) : ''),
        h('td', { class: 'num right' }, fmtNum(x.joins)),
        h('td', { class: 'num right' }, x.seconds ? fmtDuration(x.seconds) : ''),
        h('td', { 'data-rollcall': x.rollcall || '' }, x.rollcall ? h('span', { class: `pill ${{ present: 'ok', absent: 'bad', late: 'warn' }[x.rollcall]}` }, t(`rc.${x.rollcall}`)) : h('span', { class: 'muted' }, t('rc.none')))));
      const scroll = body.querySelector('.att-scroll')?.scrollTop || 0;
      replace(body, h('div', { class: 'att' }, h('div', { class: 'att-top' }, stats, h('div', { class: 'att-btns' },
        download(`/api/v1/conferences/${id}/attendance?format=csv`, t('att.csv'), 'btn-att-csv'),
        download(`/api/v1/conferences/${id}/rollcall?format=csv`, t('att.rccsv'), 'btn-rc-csv'),
        S.recordings.length ? h('a', { class: 'btn', href: `#/recordings?conference=${id}`, id: 'btn-att-recs' }, icon('record'), t('att.recs', { n: S.recordings.length })) : null)),
      h('section', { class: 'card flush att-card' }, h('div', { class: 'att-scroll' }, table([{ label: t('att.col.site') }, { label: t('att.col.first') }, { label: t('att.col.last') },
        { label: t('att.col.joins'), cls: 'right' }, { label: t('att.col.time'), cls: 'right' }, { label: t('att.col.rollcall') }], trs, 'att-table')))));
      body.querySelector('.att-scroll').scrollTop = scroll;
    }

    drawAll();
    loadRecordings();
    let ticks = 0;
    const timer = setInterval(() => {
      drawMeters();
      tickClock();
      if (ticks % 3 === 0) drawQuality();
      if (++ticks % 5 === 0 && S.tab === 'attendance' && S.live) drawAttendance();
      if (ticks % 5 === 0 && !S.live && S.recordings.some((x) => x.state === 'recording')) loadRecordings();
    }, 1000);
    const attTimer = setInterval(() => { if (S.tab === 'control' && S.live) loadResults().then(drawSideSoon); }, 15000);
    return () => { ev.close(); clearInterval(timer); clearInterval(attTimer); document.querySelector('.popmenu')?.remove(); };
  },
};
