// Draws the room client from its state (room.js): the sign-in form, the idle screen with
// the device checks, the meeting (main view, thumbnails, the chair's queue, the controls),
// the connection banner and the dialogs. The DOM is built once in init() and updated in
// place, so a render never steals focus from a control the clerk is using.
import { t, fmtTime, fmtLongDate, fmtDateTime, fmtRelative, fmtNum, fmtPct } from '../i18n.js';
import { h, $, icon, replace, initials, hue, dismissOnBackdrop } from '../ui.js';
import { Tile } from './tiles.js';
import { listDevices, playTestTone, loadDevices, THUMBS } from './media.js';

let main, self, thumbs = [], more, audioEl, devices = { audioinput: [], videoinput: [], audiooutput: [] };
let actionsRef = null;
const els = {};

export function init(S, actions) {
  actionsRef = actions;
  $('#signin-form').addEventListener('submit', (e) => {
    e.preventDefault();
    $('#signin-error').hidden = true;
    actions.signin($('#in-site').value.trim(), $('#in-secret').value.trim());
  });
  audioEl = h('audio', { autoplay: true });
  document.body.append(audioEl);
  buildIdle(actions);
  buildMeeting(actions);
  buildMenu(actions);
  for (const d of ['#dlg-devices', '#dlg-pin', '#dlg-confirm', '#dlg-quality']) dismissOnBackdrop($(d));
  $('#quality').addEventListener('click', () => openQuality(S));
  refreshDevices(S);
}

async function refreshDevices(S) {
  devices = await listDevices();
  if (S) render(S, actionsRef);
}

// The meeting's sound. A browser that forbids sound before the first click (autoplay
// policy) gets a button on the stage that the clerk presses once.
export function attachAudio(track, sinkId) {
  audioEl.srcObject = new MediaStream([track]);
  setSink(sinkId);
  audioEl.play().then(() => { els.unlock.hidden = true; }).catch(() => { els.unlock.hidden = false; });
}
export function setSink(id) { if (id !== undefined && audioEl.setSinkId) audioEl.setSinkId(id).catch(() => {}); }

export function toast(text, kind = '') {
  const el = h('div', { class: `toast ${kind}` }, text);
  $('#toasts').append(el);
  setTimeout(() => el.remove(), 6000);
}

export function signinError(text, site) {
  document.body.dataset.screen = 'signin';
  if (site) $('#in-site').value = site;
  $('#signin-error').textContent = text;
  $('#signin-error').hidden = false;
}

// ---- building

function deviceRow(id, iconName, labelKey, extra) {
  const status = h('span', { class: 'pill' });
  const detail = h('div', { class: 'check-detail' });
  const row = $(id);
  replace(row, h('div', { class: 'check-icon' }, icon(iconName)),
    h('div', { class: 'check-main' }, h('div', { class: 'check-head' }, h('span', { class: 'check-label', 'data-i18n': labelKey }, t(labelKey)), status), detail, extra));
  return { status, detail };
}

function deviceSelect(kind, key) {
  const sel = h('select', { onchange: () => actionsRef.changeDevices({ [key]: sel.value }) });
  sel.dataset.kind = kind;
  return sel;
}

function buildIdle() {
  els.net = deviceRow('#check-net', 'wifi', 'room.check.net');
  els.micSel = deviceSelect('audioinput', 'mic');
  els.micMeter = h('div', { class: 'meter' }, h('i'));
  els.mic = deviceRow('#check-mic', 'mic', 'room.check.mic', h('div', { class: 'check-ctl col' }, els.micSel, els.micMeter));
  els.spkSel = deviceSelect('audiooutput', 'spk');
  els.spkBtn = h('button', { type: 'button', class: 'btn small', onclick: () => playTestTone(loadDevices().spk) }, icon('volume'), h('span'));
  els.spk = deviceRow('#check-spk', 'volume', 'room.check.spk', h('div', { class: 'check-ctl col' }, els.spkSel, els.spkBtn));
  els.camSel = deviceSelect('videoinput', 'cam');
  els.camPreview = h('video', { autoplay: true, playsinline: true, muted: true, class: 'cam-preview' });
  els.camPreview.muted = true;
  els.cam = deviceRow('#check-cam', 'camera', 'room.check.cam', h('div', { class: 'check-ctl' }, els.camSel));
  $('#check-cam').append(els.camPreview);
}

function ctlButton(iconName, onclick, id) {
  const label = h('span', { class: 'ctl-label' });
  const ic = h('span', { class: 'ctl-icon' }, icon(iconName));
  const b = h('button', { type: 'button', class: 'ctl', id, onclick }, ic, label);
  b.setIcon = (n) => replace(ic, icon(n));
  b.label = label;
  return b;
}

function buildMeeting(actions) {
  main = new Tile('main');
  self = new Tile('self');
  els.stageTop = h('div', { class: 'stage-top' });
  els.alert = h('div', { class: 'stage-alert', hidden: true });
  els.unlock = h('button', { type: 'button', class: 'unlock', id: 'btn-sound', hidden: true, onclick: () => {
    audioEl.play().then(() => { els.unlock.hidden = true; }).catch(() => {});
    window.room.meter?.ctx.resume();
  } }, icon('volume'), h('span', { 'data-i18n': 'room.sound.unlock' }, t('room.sound.unlock')));
  replace($('#main-wrap'), main.el, els.stageTop, els.alert, els.unlock, self.el);
  thumbs = [];
  for (let i = 0; i < THUMBS; i++) thumbs.push(new Tile('thumb', (site) => actions.pin(site)));
  more = h('div', { class: 'tile more' });
  replace($('#thumbs'), thumbs.map((x) => x.el), more);

  els.btnMic = ctlButton('mic', () => actions.toggleMute(), 'btn-mic');
  els.micLevel = h('span', { class: 'ctl-level' }, h('i'));
  els.btnMic.append(els.micLevel);
  els.btnHand = ctlButton('hand', () => actions.toggleHand(), 'btn-hand');
  els.btnCam = ctlButton('camera', () => actions.toggleCamera(), 'btn-cam');
  els.btnDev = ctlButton('settings', () => openDevices(), 'btn-devices');
  els.btnFull = ctlButton('expand', () => actions.fullscreen(), 'btn-full');
  els.btnLeave = ctlButton('phone-off', () => confirmDialog('room.leave.title', 'room.leave.text', 'room.leave.ok', () => actions.leave()), 'btn-leave');
  els.btnLeave.classList.add('leave');
  els.ctlInfo = h('div', { class: 'ctl-info' });
  replace($('#controls'), h('div', { class: 'ctl-group' }, els.btnMic, els.btnHand, els.btnCam), els.ctlInfo,
    h('div', { class: 'ctl-group' }, els.btnDev, els.btnFull, els.btnLeave));
}

function buildMenu(actions) {
  const btn = $('#btn-menu');
  btn.append(icon('settings'));
  const menu = $('#menu');
  const item = (key, ic, fn) => h('button', { type: 'button', class: 'menu-item', onclick: () => { menu.hidden = true; fn(); } },
    icon(ic), h('span', { 'data-i18n': key }, t(key)));
  replace(menu,
    item('room.menu.devices', 'settings', () => openDevices()),
    item('room.menu.fullscreen', 'expand', () => actions.fullscreen()),
    item('room.menu.signout', 'logout', () => confirmDialog('room.signout.title', 'room.signout.text', 'room.signout.ok', () => actions.signout())));
  btn.addEventListener('click', (e) => { e.stopPropagation(); menu.hidden = !menu.hidden; });
  document.addEventListener('click', () => { menu.hidden = true; });
}

// ---- rendering

export function render(S, actions) {
  if (!main) return;
  const signedIn = !!S.cred && S.screen !== 'signin';
  $('#btn-menu').hidden = !signedIn;
  $('#quality').hidden = !signedIn || !S.quality;
  renderTop(S);
  renderBanner(S);
  if (S.screen === 'idle') renderIdle(S, actions);
  if (S.screen === 'meeting') renderMeeting(S, actions);
  renderDeviceSelects(S);
  renderQuality(S);
  tick(S);
}

function renderTop(S) {
  const c = $('#top-center');
  $('#top-sub').textContent = S.site ? S.site.name : t('room.product');
  // Everyone in the room must know when the meeting is recorded.
  const rec = S.screen === 'meeting' && S.conf?.recording
    ? h('span', { class: 'pill rec', id: 'rec-badge', title: t('room.rec.title') }, h('span', { class: 'dot' }), t('room.rec')) : null;
  if (S.screen === 'meeting' && S.conf && (S.conn !== 'signedin' || S.rejoinAt)) {
    replace(c, h('span', { class: 'pill warn' }, t('room.media.lost')), h('span', { class: 'top-title', title: S.conf.title }, S.conf.title), rec);
  } else if (S.screen === 'meeting' && S.conf) {
    replace(c, h('span', { class: 'pill live' }, h('span', { class: 'dot' }), t('room.live')),
      h('span', { class: 'top-title', title: S.conf.title }, S.conf.title), rec);
  } else if (S.screen === 'meeting') {
    replace(c, h('span', { class: 'pill warn' }, t('room.joining')), h('span', { class: 'top-title' }, S.invite?.title || ''));
  } else replace(c);
}

function renderBanner(S) {
  const b = $('#conn-banner');
  const now = Date.now();
  let content = null, kind = 'warn';
  if (S.conn === 'waiting') {
    content = [icon('alert'), h('span', { class: 'banner-text' }, t('room.banner.lost', { n: S.attempt || 1 })),
      h('span', { class: 'banner-count', id: 'banner-count' }),
      h('button', { type: 'button', class: 'btn small', onclick: () => actionsRef.retryNow() }, t('room.banner.retry'))];
    kind = 'bad';
  } else if ((S.conn === 'connecting' || S.conn === 'signing') && S.site) {
    content = [h('span', { class: 'spinner' }), h('span', { class: 'banner-text' }, t('room.banner.connecting'))];
  } else if (S.rejoinAt) {
    content = [h('span', { class: 'spinner' }), h('span', { class: 'banner-text' }, t('room.banner.rejoin')),
      h('span', { class: 'banner-count', id: 'banner-count' })];
  }
  b.hidden = !content;
  b.className = `conn-banner ${kind}`;
  if (content) replace(b, content);
}

function renderIdle(S, actions) {
  const site = S.site;
  $('#idle-name').textContent = site ? site.name : t('room.idle.connecting');
  $('#idle-meta').textContent = site ? t('room.idle.meta', { id: site.id, unit: site.unit }) : t('room.idle.site', { id: S.cred?.site ?? '' });
  const av = $('#idle-avatar');
  av.textContent = site ? initials(site.name) : '';
  av.style.background = `hsl(${hue(site?.id || 0)} 45% 38%)`;
  const state = S.stopReason === 'replaced' ? ['bad', 'room.state.replaced']
    : S.conn === 'signedin' ? ['ok', 'room.state.ready'] : S.conn === 'waiting' ? ['bad', 'room.state.offline'] : ['warn', 'room.state.connecting'];
  replace($('#idle-state'), h('span', { class: `pill big ${state[0]}` }, h('span', { class: 'dot' }), t(state[1])));

  const next = [];
  next.push(h('div', { class: 'today' }, h('div', { class: 'today-time', id: 'idle-clock' }), h('div', { class: 'today-date', id: 'idle-date' })));
  if (S.stopReason === 'replaced') {
    next.push(h('div', { class: 'next-box bad' }, h('h2', {}, t('room.replaced.title')), h('p', {}, t('room.replaced.text')),
      h('button', { type: 'button', class: 'btn primary', onclick: () => actions.takeOver() }, t('room.replaced.take'))));
  } else if (S.invite && S.left.has(S.invite.id)) {
    next.push(h('div', { class: 'next-box live' }, h('div', { class: 'eyebrow' }, t('room.next.live')), h('h2', {}, S.invite.title),
      h('button', { type: 'button', class: 'btn primary big', id: 'btn-rejoin', onclick: () => actions.rejoin() }, icon('signin'), t('room.next.join'))));
  } else if (S.next) {
    const n = S.next;
    next.push(h('div', { class: 'next-box', id: 'next-conf', 'data-conf': n.id }, h('div', { class: 'eyebrow' }, t('room.next.title')), h('h2', { id: 'next-title' }, n.title),
      n.host_unit_name ? h('div', { class: 'next-host muted', id: 'next-host' }, icon('tree'), t('room.next.host', { name: n.host_unit_name })) : null,
      h('div', { class: 'next-when' }, icon('calendar'), n.start_at ? fmtDateTime(n.start_at) : t('room.next.permanent'),
        n.start_at ? h('span', { class: 'pill info', id: 'next-rel' }, fmtRelative(n.start_at)) : null),
      n.end_at ? h('div', { class: 'next-when muted' }, icon('clock'), t('room.next.until', { time: fmtTime(n.end_at) })) : null,
      h('p', { class: 'muted' }, t('room.next.auto'))));
  } else {
    next.push(h('div', { class: 'next-box empty', id: 'next-conf' }, icon('calendar', 'big'), h('h2', {}, t('room.next.none')), h('p', { class: 'muted' }, t('room.next.auto'))));
  }
  next.push(h('ol', { class: 'howto' }, ['room.howto.1', 'room.howto.2', 'room.howto.3'].map((k) => h('li', {}, t(k)))));
  replace($('#next-panel'), next);

  const n = $('#idle-notice');
  n.hidden = !S.notice;
  if (S.notice) replace(n, icon(S.notice.kind === 'bad' ? 'alert' : 'check'),
    h('span', {}, t(S.notice.key, S.notice.params), S.notice.at ? ` (${fmtTime(S.notice.at)})` : ''));
  n.className = `notice ${S.notice?.kind || ''}`;

  // The checks.
  const rtt = S.rtt;
  const netOk = S.conn === 'signedin';
  setCheck(els.net, netOk ? 'ok' : S.conn === 'waiting' ? 'bad' : 'warn',
    netOk ? t('room.check.ok') : S.conn === 'waiting' ? t('room.check.net.lost') : t('room.check.net.connecting'),
    netOk ? (rtt ? t('room.check.net.rtt', { ms: fmtNum(rtt) }) : t('room.check.net.signed')) : t('room.check.net.server', { host: location.host }));
  setCheck(els.mic, S.devErrors.audio ? 'bad' : S.stream?.getAudioTracks()[0] ? 'ok' : 'warn',
    S.devErrors.audio ? t(`room.dev.err.${errKey(S.devErrors.audio)}`) : S.stream ? t('room.check.ok') : t('room.check.waiting'),
    S.devErrors.audio ? t('room.check.mic.fix') : t('room.check.mic.hint'));
  setCheck(els.spk, 'ok', t('room.check.ok'), t('room.check.spk.hint'));
  els.spkBtn.lastChild.textContent = t('room.check.spk.test');
  const cam = S.stream?.getVideoTracks()[0];
  const setting = cam?.getSettings?.() || {};
  setCheck(els.cam, S.devErrors.video ? 'bad' : cam ? 'ok' : 'warn',
    S.devErrors.video ? t(`room.dev.err.${errKey(S.devErrors.video)}`) : cam ? t('room.check.ok') : t('room.check.waiting'),
    cam && setting.width ? t('room.check.cam.res', { w: setting.width, h: setting.height }) : S.devErrors.video ? t('room.check.cam.fix') : '');
  const camStream = cam ? new MediaStream([cam]) : null;
  if ((els.camPreview.srcObject?.getTracks()[0] || null) !== (cam || null)) els.camPreview.srcObject = camStream;
}

const errKey = (name) => (['NotAllowedError', 'NotFoundError', 'NotReadableError', 'OverconstrainedError'].includes(name) ? name : 'other');

function setCheck(row, kind, status, detail) {
  row.status.className = `pill ${kind}`;
  row.status.textContent = status;
  row.detail.textContent = detail || '';
}

function renderDeviceSelects() {
  const prefs = loadDevices();
  for (const sel of document.querySelectorAll('select[data-kind]')) {
    if (sel === document.activeElement) continue;
    const list = devices[sel.dataset.kind] || [];
    const key = sel.dataset.kind === 'audioinput' ? 'mic' : sel.dataset.kind === 'videoinput' ? 'cam' : 'spk';
    const want = list.map((d, i) => [d.deviceId, d.label || t(`room.dev.${key}.n`, { n: i + 1 })]);
    if (!want.length) want.push(['', t(key === 'spk' ? 'room.dev.default' : 'room.dev.none')]);
    const sig = JSON.stringify(want);
    if (sel.dataset.sig !== sig) {
      replace(sel, want.map(([v, l]) => h('option', { value: v }, l)));
      sel.dataset.sig = sig;
    }
    const cur = prefs[key] ?? currentDevice(key);
    if (cur !== undefined && want.some(([v]) => v === cur)) sel.value = cur;
    sel.disabled = list.length === 0;
  }
}

function currentDevice(key) {
  const S = window.room;
  const tr = key === 'mic' ? S.stream?.getAudioTracks()[0] : key === 'cam' ? S.stream?.getVideoTracks()[0] : null;
  return tr?.getSettings?.().deviceId;
}

function siteInfo(S, site) {
  const r = S.roster.get(site);
  return r || { site, name: site ? t('room.site.n', { id: site }) : '', unit: '' };
}

// Who is main here: the server's video mapping, else the site the clerk pinned, else what
// the conference shows (what the chair sees, for the chair). Never this room itself: like
// the server, it keeps the previous main while it is main for everyone else.
function mainSite(S) {
  if (S.tracks?.main?.site) return S.tracks.main.site;
  const c = S.conf;
  let m = S.pinned || (c ? (c.chair === S.site?.id ? (c.chair_main ?? c.main) : c.main) : null);
  if (m && m === S.site?.id) m = S.prevMain && S.prevMain !== m ? S.prevMain : null;
  if (m) S.prevMain = m;
  return m;
}

function renderMeeting(S, actions) {
  const c = S.conf;
  const myId = S.site?.id;
  const mine = S.roster.get(myId) || {};
  const chairMuted = !!mine.muted;
  const isChair = c && c.chair === myId;

  // Main view.
  const mSite = mainSite(S);
  const mInfo = siteInfo(S, mSite);
  const mMid = S.tracks?.main?.mid;
  main.setTrack(mMid !== undefined && S.tracks.main.site ? S.remote[mMid] : null);
  let state = '';
  if (S.rejoinAt || S.conn === 'waiting') state = t('room.main.reconnecting');
  else if (!c || S.media !== 'connected') state = t('room.main.connecting');
  else if (S.tracks?.audio_only) state = t('room.main.audioonly');
  else if (!main.hasFrames()) state = t('room.main.waiting');
  main.update({ site: mSite, name: mSite ? mInfo.name : (c?.title || S.invite?.title || ''), state,
    speaking: mSite && mSite === S.speaker, chair: c && mSite === c.chair, muted: mInfo.muted || mInfo.self_muted,
    hand: mInfo.hand, pinned: S.pinned && S.pinned === mSite, you: false, empty: !mSite });
  main.el.classList.toggle('audio-only', !!S.tracks?.audio_only);

  // Self view.
  const cam = S.stream?.getVideoTracks()[0];
  self.setTrack(S.camOff ? null : cam);
  self.update({ site: myId, name: S.site?.name || '', you: true, muted: S.selfMuted || chairMuted,
    state: S.camOff ? t('room.self.camoff') : cam ? '' : t('room.self.nocam'), speaking: S.speaker === myId });

  // Chips over the stage: mode, roll call, pin, ending.
  const chips = [];
  if (c) chips.push(h('span', { class: 'chip' }, icon(modeIcon(c.mode)), t(`mode.${c.mode}`)));
  if (c?.rollcall) {
    const rc = c.rollcall;
    chips.push(h('span', { class: `chip ${rc.site === myId ? 'hot' : ''}` }, icon('roll'),
      t('room.chip.rollcall', { i: rc.index + 1, n: rc.total, name: siteInfo(S, rc.site).name })));
  }
  if (c?.floor) chips.push(h('span', { class: `chip ${c.floor === myId ? 'good' : ''}` }, icon('mic'), c.floor === myId ? t('room.chip.floor.you') : t('room.chip.floor', { name: siteInfo(S, c.floor).name })));
  if (S.pinned) chips.push(h('button', { type: 'button', class: 'chip action', onclick: () => actions.pin(S.pinned) }, icon('pin'), t('room.chip.unpin')));
  if (S.endingAt) chips.push(h('span', { class: 'chip hot', id: 'ending-chip' }));
  replace(els.stageTop, chips);

  // A clear alert when the chair muted us, or when our roll call turn comes.
  let alert = null;
  if (c?.rollcall?.site === myId) alert = ['info', 'roll', t('room.alert.rollcall')];
  else if (chairMuted) alert = ['bad', 'mic-off', t(c?.mute_all ? 'room.alert.muteall' : 'room.alert.chairmuted')];
  els.alert.hidden = !alert;
  if (alert) { els.alert.className = `stage-alert ${alert[0]}`; replace(els.alert, icon(alert[1]), h('span', {}, alert[2])); }

  // Thumbnails: the server's choice once video flows, else the joined sites by interest.
  // Thumbnails: the server's choice of video once it flows; the free places (and all of
  // them before video) go to the other joined sites by interest, as name cards.
  let thumbSites = S.tracks?.thumbs ? S.tracks.thumbs.filter((x) => x.site).map((x) => ({ site: x.site, mid: x.mid })) : [];
  const taken = new Set([mSite, myId, ...thumbSites.map((x) => x.site)]);
  const joined = [...S.roster.values()].filter((r) => r.status === 'joined' && !taken.has(r.site));
  const score = (r) => (r.site === S.speaker ? 0 : r.site === c?.chair ? 1 : r.hand ? 2 : 3);
  joined.sort((a, b) => score(a) - score(b) || a.name.localeCompare(b.name, 'vi'));
  thumbSites = thumbSites.concat(joined.slice(0, Math.max(0, THUMBS - thumbSites.length)).map((r) => ({ site: r.site, card: true })));
  thumbs.forEach((tile, i) => {
    const x = thumbSites[i];
    tile.el.hidden = !x;
    if (!x) return;
    const info = siteInfo(S, x.site);
    tile.setTrack(x.mid !== undefined ? S.remote[x.mid] : null);
    tile.update({ site: x.site, name: info.name, speaking: x.site === S.speaker, chair: c && x.site === c.chair,
      muted: info.muted || info.self_muted, hand: info.hand,
      state: x.card ? (S.tracks ? '' : t('room.thumb.waiting')) : S.tracks?.audio_only ? t('room.thumb.audioonly') : tile.hasFrames() ? '' : t('room.thumb.waiting') });
  });
  const joinedCount = c ? c.joined : [...S.roster.values()].filter((r) => r.status === 'joined').length;
  const others = Math.max(0, joinedCount - thumbSites.length - (mSite ? 1 : 0) - 1);
  more.hidden = others <= 0;
  replace(more, h('div', { class: 'more-n' }, `+${fmtNum(others)}`), h('div', { class: 'more-l' }, t('room.thumb.more')));

  renderSide(S, actions, isChair);
  renderControls(S, chairMuted, mine);
}

const modeIcon = (m) => ({ voice: 'volume', lecture: 'lecture', broadcast: 'broadcast', tour: 'tour' }[m] || 'volume');

function renderSide(S, actions, isChair) {
  const c = S.conf;
  const myId = S.site?.id;
  const side = [];
  const roster = [...S.roster.values()];
  const joined = roster.filter((r) => r.status === 'joined');
  side.push(h('div', { class: 'side-head' },
    h('div', { class: 'eyebrow' }, isChair ? t('room.side.chair') : t('room.side.conference')),
    h('h2', { title: c?.title || '' }, c?.title || S.invite?.title || ''),
    h('div', { class: 'side-chips' },
      h('span', { class: 'pill info' }, icon('users'), t('room.side.count', { j: fmtNum(c?.joined ?? joined.length), n: fmtNum(c?.invited ?? roster.length) })),
      c?.locked ? h('span', { class: 'pill warn' }, icon('lock'), t('room.side.locked')) : null,
      c?.mute_all ? h('span', { class: 'pill warn' }, icon('mic-off'), t('room.side.muteall')) : null)));

  if (isChair) {
    const hands = c?.hands || [];
    const items = hands.map((id) => {
      const r = siteInfo(S, id);
      return h('li', { class: 'hand-item', 'data-site': id }, h('span', { class: 'hand-name', title: r.name }, r.name),
        h('span', { class: 'hand-actions' },
          h('button', { type: 'button', class: 'btn small primary', onclick: () => actions.control('grant_floor', id) }, t('room.hands.grant')),
          h('button', { type: 'button', class: 'btn small', onclick: () => actions.control('refuse_hand', id) }, t('room.hands.refuse'))));
    });
    const floor = c?.floor ? h('div', { class: 'floor-row' }, icon('mic'),
      h('span', { class: 'hand-name' }, t('room.hands.floor', { name: siteInfo(S, c.floor).name })),
      h('button', { type: 'button', class: 'btn small', onclick: () => actions.control('revoke_floor') }, t('room.hands.revoke'))) : null;
    side.push(h('section', { class: 'side-sec hands', id: 'hand-queue' },
      h('h3', {}, icon('hand'), t('room.hands.title', { n: hands.length })), floor,
      items.length ? h('ol', { class: 'hand-list' }, items) : h('p', { class: 'muted small' }, t('room.hands.none'))));
  }

  const sorted = joined.slice().sort((a, b) => (b.site === c?.chair) - (a.site === c?.chair) || (b.site === S.speaker) - (a.site === S.speaker) || a.name.localeCompare(b.name, 'vi'));
  const rows = sorted.map((r) => h('li', { class: `person ${r.site === S.speaker ? 'speaking' : ''}`, 'data-site': r.site },
    h('span', { class: 'avatar sm' }, initials(r.name)),
    h('span', { class: 'person-name', title: r.name }, r.site === myId ? t('room.side.you', { name: r.name }) : r.name),
    h('span', { class: 'person-icons' },
      r.site === c?.chair ? h('span', { class: 'badge chair', title: t('room.badge.chair') }, icon('star')) : null,
      r.hand ? h('span', { class: 'badge hand', title: t('room.badge.hand') }, icon('hand')) : null,
      r.muted || r.self_muted ? h('span', { class: 'badge muted', title: t('room.badge.muted') }, icon('mic-off')) : h('span', { class: 'badge on' }, icon('mic')))));
  for (const li of rows) { const av = li.querySelector('.avatar'); av.style.background = `hsl(${hue(li.dataset.site)} 45% 38%)`; }
  const absent = roster.length - joined.length;
  side.push(h('section', { class: 'side-sec people' },
    h('h3', {}, icon('users'), t('room.side.people', { n: joined.length })),
    h('ul', { class: 'person-list' }, rows),
    absent > 0 ? h('p', { class: 'muted small' }, t('room.side.absent', { n: absent })) : null));
  replace($('#side'), side);
}

function renderControls(S, chairMuted, mine) {
  const muted = S.selfMuted || chairMuted;
  els.btnMic.setIcon(muted ? 'mic-off' : 'mic');
  els.btnMic.classList.toggle('off', muted);
  els.btnMic.classList.toggle('locked', chairMuted);
  els.btnMic.label.textContent = chairMuted ? t('room.ctl.chairmuted') : S.selfMuted ? t('room.ctl.unmute') : t('room.ctl.mute');
  els.btnMic.title = chairMuted ? t('room.ctl.chairmuted.title') : '';
  els.btnMic.setAttribute('aria-pressed', String(S.selfMuted));
  els.btnHand.classList.toggle('on', !!mine.hand);
  els.btnHand.label.textContent = mine.hand ? t('room.ctl.handdown') : t('room.ctl.hand');
  els.btnHand.setAttribute('aria-pressed', String(!!mine.hand));
  els.btnCam.setIcon(S.camOff ? 'camera' : 'camera');
  els.btnCam.classList.toggle('off', S.camOff);
  els.btnCam.label.textContent = S.camOff ? t('room.ctl.camon') : t('room.ctl.camoff');
  els.btnDev.label.textContent = t('room.ctl.devices');
  const fs = !!document.fullscreenElement;
  els.btnFull.setIcon(fs ? 'shrink' : 'expand');
  els.btnFull.label.textContent = fs ? t('room.ctl.exitfull') : t('room.ctl.full');
  els.btnLeave.label.textContent = t('room.ctl.leave');
  const status = S.media === 'connected' ? ['ok', t('room.media.connected')] : S.rejoinAt ? ['bad', t('room.media.lost')] : ['warn', t('room.media.connecting')];
  replace(els.ctlInfo, h('span', { class: `pill ${status[0]}` }, h('span', { class: 'dot' }), status[1]),
    S.site ? h('span', { class: 'ctl-site', title: S.site.name }, S.site.name) : null);
}

export function renderQuality(S) {
  const q = S.quality;
  const el = $('#quality');
  el.hidden = !q || !S.cred || S.screen === 'signin';
  if (!q) return;
  el.dataset.grade = q.grade;
  $('#quality-label').textContent = t(`quality.${q.grade}`);
  el.title = qualityText(q);
}

function qualityText(q) {
  const parts = [];
  if (q.rtt !== null && q.rtt !== undefined) parts.push(t('quality.rtt', { ms: fmtNum(q.rtt) }));
  if (q.loss !== undefined) parts.push(t('quality.loss', { p: fmtPct(q.loss, 1) }));
  if (q.jitter !== null && q.jitter !== undefined) parts.push(t('quality.jitter', { ms: fmtNum(q.jitter) }));
  return parts.join(' · ');
}

// Every half second: clocks, meters, countdowns.
export function tick(S) {
  const now = Date.now();
  $('#clock').textContent = fmtTime(now);
  const ic = $('#idle-clock');
  if (ic) { ic.textContent = fmtTime(now); $('#idle-date').textContent = fmtLongDate(now); }
  const lv = S.meter && !S.selfMuted ? S.meter.value() : 0;
  const w = `${Math.round(lv * 100)}%`;
  els.micMeter.firstChild.style.width = w;
  els.micLevel.firstChild.style.width = w;
  const dm = $('#dlg-meter');
  if (dm) dm.firstChild.style.width = w;
  const bc = $('#banner-count');
  if (bc) {
    const at = S.conn === 'waiting' ? S.retryAt : S.rejoinAt;
    bc.textContent = at ? t('room.banner.in', { s: Math.max(0, Math.ceil((at - now) / 1000)) }) : '';
  }
  const ec = $('#ending-chip');
  if (ec) replace(ec, icon('clock'), t('room.chip.ending', { s: Math.max(0, Math.ceil((S.endingAt - now) / 1000)) }));
  const nr = $('#next-rel');
  if (nr && S.next?.start_at) nr.textContent = fmtRelative(S.next.start_at, now);
}

// ---- dialogs

function dialogFrame(dlg, titleKey, body, foot) {
  replace(dlg, h('div', { class: 'dlg-head' }, h('h2', {}, t(titleKey)),
    h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('common.close'), onclick: () => dlg.close() }, icon('x'))),
  h('div', { class: 'dlg-body' }, body), h('div', { class: 'dlg-foot' }, foot));
}

function openDevices() {
  const S = window.room;
  const dlg = $('#dlg-devices');
  const row = (key, kind, extra) => h('label', {}, h('span', {}, t(key)), deviceSelect(kind, kind === 'audioinput' ? 'mic' : kind === 'videoinput' ? 'cam' : 'spk'), extra);
  const prev = h('video', { autoplay: true, playsinline: true, muted: true, class: 'cam-preview' });
  prev.muted = true;
  const cam = S.stream?.getVideoTracks()[0];
  if (cam) prev.srcObject = new MediaStream([cam]);
  dialogFrame(dlg, 'room.dev.title', [
    row('room.check.mic', 'audioinput', h('div', { class: 'meter', id: 'dlg-meter' }, h('i'))),
    row('room.check.spk', 'audiooutput', h('button', { type: 'button', class: 'btn small spk-test', onclick: () => playTestTone(loadDevices().spk) }, icon('volume'), t('room.check.spk.test'))),
    row('room.check.cam', 'videoinput'), prev,
  ], h('button', { type: 'button', class: 'btn primary', onclick: () => dlg.close() }, t('common.done')));
  renderDeviceSelects(S);
  refreshDevices(S);
  dlg.showModal();
}

function openQuality(S) {
  const q = S.quality;
  if (!q) return;
  const dlg = $('#dlg-quality');
  const rows = [
    ['quality.d.grade', t(`quality.${q.grade}`)],
    ['quality.d.rtt', q.rtt !== null && q.rtt !== undefined ? `${fmtNum(q.rtt)} ms` : '–'],
  ];
  if (!q.ws) {
    rows.push(['quality.d.loss', fmtPct(q.loss || 0, 1)], ['quality.d.jitter', q.jitter !== null ? `${fmtNum(q.jitter)} ms` : '–'],
      ['quality.d.in', `${fmtNum(q.kbpsIn || 0)} kbit/s`], ['quality.d.out', `${fmtNum(q.kbpsOut || 0)} kbit/s`]);
  }
  dialogFrame(dlg, 'quality.d.title', [
    h('p', { class: 'muted' }, t(q.ws ? 'quality.d.ws' : 'quality.d.media')),
    h('table', { class: 'kv' }, rows.map(([k, v]) => h('tr', {}, h('th', {}, t(k)), h('td', {}, v)))),
  ], h('button', { type: 'button', class: 'btn primary', onclick: () => dlg.close() }, t('common.close')));
  dlg.showModal();
}

export function askPin(S, done) {
  const dlg = $('#dlg-pin');
  const input = h('input', { inputmode: 'numeric', pattern: '[0-9]{4,12}', required: true, autocomplete: 'off' });
  const form = h('form', { method: 'dialog', onsubmit: (e) => { e.preventDefault(); dlg.close(); done(input.value.trim()); } });
  dialogFrame(dlg, 'room.pin.title', [h('p', {}, t('room.pin.text', { title: S.invite?.title || '' })), h('label', {}, h('span', {}, t('room.pin.label')), input)],
    [h('button', { type: 'button', class: 'btn', onclick: () => dlg.close() }, t('common.cancel')),
      h('button', { type: 'button', class: 'btn primary', onclick: () => form.requestSubmit() }, t('room.pin.ok'))]);
  form.append(...dlg.childNodes);
  dlg.append(form);
  dlg.showModal();
}

function confirmDialog(titleKey, textKey, okKey, fn) {
  const dlg = $('#dlg-confirm');
  dialogFrame(dlg, titleKey, h('p', {}, t(textKey)), [
    h('button', { type: 'button', class: 'btn', onclick: () => dlg.close() }, t('common.cancel')),
    h('button', { type: 'button', class: 'btn danger', id: 'confirm-ok', onclick: () => { dlg.close(); fn(); } }, t(okKey))]);
  dlg.showModal();
}
