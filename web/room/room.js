// The meeting-room client: what a commune clerk sees on the room PC. It signs the site in
// (remembered on this PC), waits idle with device checks, joins its conference by itself
// when it starts, and rejoins after a drop. The protocol is docs/protocol.md ("Rooms"); this
// file holds the state and the flow, view.js draws it.
import { t, applyI18n, langSwitch, onLang } from '../i18n.js';
import { $ } from '../ui.js';
import { Signal } from './signal.js';
import { openDevices, LevelMeter, Peer, grade, loadDevices, saveDevices } from './media.js';
import * as view from './view.js';

const CRED_KEY = 'mcu.room.credential';

// Everything the screens show. Exposed as window.room for the browser tests.
const S = window.room = {
  cred: null,            // {site, secret}
  site: null,            // {id, name, unit} from signedin
  next: null,            // the next scheduled conference, when the server says
  screen: 'loading',     // signin, idle, meeting
  conn: 'stopped',       // the signalling link: connecting, signing, signedin, waiting, stopped
  stopReason: null,
  invite: null,          // the live conference we are invited to
  confId: null,          // the conference we are in (or joining)
  conf: null,            // its live state (the `conference` message)
  roster: new Map(),     // site id -> roster entry
  speaker: null,
  tracks: null,          // the server's mid -> site mapping
  remote: {},            // mid -> MediaStreamTrack
  selfMuted: false,
  camOff: false,
  pinned: null,
  left: new Set(),       // conferences the room chose to leave: not joined again by itself
  pins: {},              // conference id -> PIN given by the clerk
  peer: null,
  joining: false,
  media: 'none',         // none, connecting, connected
  rejoinAt: 0,
  endingAt: 0,
  quality: null,         // {grade, rtt, loss, jitter, kbpsIn, kbpsOut}
  stream: null,
  devErrors: { audio: null, video: null },
  meter: null,
  notice: null,          // {key, params, kind}: the last thing the clerk should know on the idle screen
  log: [],               // every message received (tests read it)
  signedAt: 0,
};
const me = () => S.site?.id;

const signal = new Signal(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);

// ---- credentials: typed in, or from a provisioning link /room/#site=12&secret=...

function readLink() {
  const p = new URLSearchParams(location.hash.slice(1));
  const site = p.get('site'), secret = p.get('secret');
  if (!site || !secret) return null;
  history.replaceState(null, '', location.pathname + location.search); // keep the secret out of the address bar
  return { site: Number(site), secret };
}

function loadCred() {
  try { const c = JSON.parse(localStorage.getItem(CRED_KEY)); return c && c.site && c.secret ? c : null; } catch { return null; }
}
function saveCred(c) { try { localStorage.setItem(CRED_KEY, JSON.stringify(c)); } catch { /* private mode */ } }

function setScreen(s) {
  S.screen = s;
  document.body.dataset.screen = s;
  view.render(S, actions);
}

// ---- devices

let devicesReady = null;
function ensureDevices() {
  if (!devicesReady) devicesReady = reopenDevices();
  return devicesReady;
}

async function reopenDevices(changed) {
  const prefs = loadDevices();
  if (changed) Object.assign(prefs, changed);
  saveDevices(prefs);
  const old = S.stream;
  const { stream, errors } = await openDevices({ micId: prefs.mic, camId: prefs.cam });
  S.stream = stream;
  S.devErrors = errors;
  S.meter?.close();
  S.meter = stream.getAudioTracks()[0] ? new LevelMeter(stream.getAudioTracks()[0]) : null;
  applySelfState();
  if (S.peer) {
    await S.peer.replaceTrack('audio', stream.getAudioTracks()[0]);
    await S.peer.replaceTrack('video', stream.getVideoTracks()[0]);
  }
  if (old) old.getTracks().forEach((tr) => tr.stop());
  view.render(S, actions);
  return stream;
}

// The mic track stays on while the chair mutes us (the server leaves us out of the mix),
// but our own mute also silences it here, so nothing leaves the room.
function applySelfState() {
  S.stream?.getAudioTracks().forEach((tr) => { tr.enabled = !S.selfMuted; });
  S.stream?.getVideoTracks().forEach((tr) => { tr.enabled = !S.camOff; });
}

// ---- joining and leaving

async function join(confId) {
  if (S.peer || S.joining) return;
  S.joining = true;
  S.confId = confId;
  S.media = 'connecting';
  setScreen('meeting');
  await ensureDevices();
  const peer = S.peer = new Peer(S.stream, onTrack);
  peer.pc.addEventListener('connectionstatechange', () => onPcState(peer));
  let sdp;
  try { sdp = await peer.offer(); } catch (e) { return joinFailed(peer, { code: 'bad_offer', message: String(e) }); }
  if (S.peer !== peer) return;
  const req = { type: 'join', conference: confId, sdp };
  if (S.pins[confId]) req.pin = S.pins[confId];
  const r = await signal.request(req, 15000);
  if (S.peer !== peer) return;
  if (r.type !== 'answer') return joinFailed(peer, r);
  S.joining = false;
  S.session = r.session;
  try { await peer.answer(r.sdp); } catch (e) { return joinFailed(peer, { code: 'bad_offer', message: String(e) }); }
  view.attachAudio(peer.remoteAudio(), loadDevices().spk);
  if (S.selfMuted) signal.request({ type: 'mute', muted: true }); // the server resets it at each join
  view.render(S, actions);
}

function joinFailed(peer, r) {
  if (S.peer !== peer) return;
  S.log.push({ joinError: r.code, message: r.message });
  teardown();
  const code = r.code || 'internal';
  if (code === 'bad_pin') { view.askPin(S, (pin) => { S.pins[S.invite?.id] = pin; join(S.invite.id); }); toIdle(); return; }
  if (['not_live', 'not_invited', 'removed', 'locked'].includes(code)) {
    toIdle({ key: `room.join.${code}`, kind: 'bad' });
    return;
  }
  if (code === 'disconnected') return; // the link is down; the invite follows the next sign-in
  if (code === 'already_joined') signal.request({ type: 'leave' }); // a session we gave up on
  scheduleRejoin(S.invite?.id);        // busy, internal, bad_offer, timeout: try again
}

function scheduleRejoin(confId) {
  teardown();
  if (!confId) { toIdle(); return; }
  const delay = signal.nextDelay();
  S.rejoinAt = Date.now() + delay;
  setScreen('meeting');
  setTimeout(() => {
    S.rejoinAt = 0;
    if (signal.status === 'signedin' && S.invite?.id === confId && !S.peer) join(confId);
    else view.render(S, actions);
  }, delay);
}

function teardown() {
  S.peer?.close();
  S.peer = null;
  S.joining = false;
  S.media = 'none';
  S.tracks = null;
  S.remote = {};
  S.session = null;
  S.quality = null;
}

function toIdle(notice) {
  teardown();
  S.conf = null;
  S.confId = null;
  S.roster = new Map();
  S.speaker = null;
  S.pinned = null;
  S.endingAt = 0;
  if (notice !== undefined) S.notice = notice;
  setScreen(S.cred ? 'idle' : 'signin');
}

function onTrack(mid, track) {
  S.remote[mid] = track;
  view.render(S, actions);
}

function onPcState(peer) {
  if (S.peer !== peer) return;
  const st = peer.pc.connectionState;
  S.log.push({ pc: st });
  if (st === 'connected') { S.media = 'connected'; signal.resetBackoff(); }
  if (st === 'failed') { // the server may not know yet: end its session before the new join
    if (S.session) signal.request({ type: 'leave' });
    scheduleRejoin(S.confId);
    return;
  }
  view.render(S, actions);
}

// ---- server messages

const handlers = {
  invite(m) {
    S.invite = m.conference;
    // After the room left on purpose the server invites it again only when it signs in anew
    // (then it stays out) or when an operator calls the absent sites (then it comes).
    if (S.left.has(m.conference.id) && Date.now() - S.signedAt > 500) S.left.delete(m.conference.id);
    if (!S.peer && !S.joining && !S.left.has(m.conference.id) && !S.rejoinAt) join(m.conference.id);
    else view.render(S, actions);
  },
  roster(m) {
    if (m.conference !== S.confId) return;
    S.roster = new Map(m.sites.map((s) => [s.site, s]));
  },
  presence(m) {
    if (m.conference !== S.confId) return;
    const old = S.roster.get(m.site);
    S.roster.set(m.site, m);
    // Muting shows as an alert on the stage; unmuting is worth a word too.
    if (m.site === me() && old && old.muted && !m.muted) view.toast(t('room.toast.chairunmuted'), 'ok');
  },
  conference(m) {
    if (m.conference.id !== S.confId) return;
    const was = S.conf;
    S.conf = m.conference;
    S.speaker = m.conference.speaker;
    if (was && was.floor !== me() && m.conference.floor === me()) view.toast(t('room.toast.floor'), 'ok');
  },
  speaker(m) { if (m.conference === S.confId) S.speaker = m.site; },
  tracks(m) { if (m.conference === S.confId) S.tracks = m; },
  // The server pauses the simulcast layers nobody receives: stop encoding them.
  layers(m) { if (m.conference === S.confId && S.peer) S.peer.setLayers(m.active); },
  select() {},
  rollcall(m) {
    if (m.conference === S.confId && m.site === me()) view.toast(t(`room.toast.rollcall.${m.result}`), m.result === 'present' ? 'ok' : 'bad');
  },
  ending(m) { if (m.conference === S.confId) { S.endingAt = Date.now() + m.seconds * 1000; view.toast(t('room.toast.ending', { n: m.seconds })); } },
  ended(m) {
    if (m.conference !== S.confId && m.conference !== S.invite?.id) return;
    S.invite = null;
    S.left.delete(m.conference);
    toIdle({ key: `room.notice.ended.${m.reason || 'operator'}`, kind: 'info', at: Date.now() });
  },
  removed(m) {
    if (m.conference !== S.confId) return;
    toIdle({ key: 'room.notice.removed', kind: 'bad', at: Date.now() });
  },
  state(m) {
    if (m.session !== S.session) return;
    if (m.state === 'connected') { S.media = 'connected'; signal.resetBackoff(); }
  },
  closed(m) { if (m.session === S.session) scheduleRejoin(S.confId); },
  schedule(m) { S.next = m.next || null; },
  error(m) {
    if (m.code === 'replaced') {
      teardown();
      signal.stop('replaced');
    }
  },
};

signal.addEventListener('message', (e) => {
  const m = e.detail;
  S.log.push(m.type === 'answer' ? { type: 'answer' } : m);
  if (S.log.length > 500) S.log.splice(0, 100);
  (handlers[m.type] || (() => {}))(m);
  view.render(S, actions);
});

signal.addEventListener('status', (e) => {
  const { status, reason, msg } = e.detail;
  S.log.push({ link: status, reason, at: Date.now() });
  S.conn = status;
  S.attempt = signal.attempt;
  S.retryAt = signal.retryAt;
  if (status === 'signedin') {
    S.signedAt = Date.now();
    S.site = msg.site;
    if ('next' in msg) S.next = msg.next;
    S.stopReason = null;
    if (S.screen === 'meeting' && !S.peer) {
      // Back after a drop: the invite follows at once if the meeting still runs.
      setTimeout(() => { if (!S.peer && !S.joining && S.screen === 'meeting') toIdle(); }, 4000);
    } else if (S.screen !== 'meeting') setScreen('idle');
  }
  if (status === 'waiting') {
    teardown(); // the server ended our session with the socket
  }
  if (status === 'stopped') {
    S.stopReason = reason;
    teardown();
    if (reason === 'bad_credentials') {
      const site = S.cred?.site;
      forget();
      view.signinError(t('room.signin.bad'), site);
      return;
    }
    if (reason === 'replaced') { S.conf = null; S.confId = null; setScreen('idle'); return; }
  }
  view.render(S, actions);
});
signal.addEventListener('rtt', () => {
  S.rtt = signal.rtt;
  if (!S.peer) S.quality = { grade: grade({ rtt: signal.rtt }), rtt: signal.rtt, ws: true };
  view.renderQuality(S);
});

function forget() {
  try { localStorage.removeItem(CRED_KEY); } catch { /* private mode */ }
  S.cred = null;
  S.site = null;
}

// ---- what the clerk can do

const actions = {
  signin(site, secret) {
    S.cred = { site: Number(site), secret };
    saveCred(S.cred);
    begin();
  },
  signout() {
    signal.stop('signout');
    teardown();
    forget();
    S.invite = null;
    setScreen('signin');
  },
  takeOver() { S.stopReason = null; signal.start(S.cred); view.render(S, actions); },
  retryNow() { signal.retryNow(); },
  toggleMute() {
    S.selfMuted = !S.selfMuted;
    applySelfState();
    if (S.peer) signal.request({ type: 'mute', muted: S.selfMuted });
    view.render(S, actions);
  },
  toggleCamera() { S.camOff = !S.camOff; applySelfState(); view.render(S, actions); },
  async toggleHand() {
    const mine = S.roster.get(me());
    const raised = !(mine && mine.hand);
    const r = await signal.request({ type: 'hand', raised });
    if (r.type === 'error') view.toast(t('room.err.generic', { code: r.code }), 'bad');
  },
  pin(site) {
    if (!site || !S.peer) return;
    S.pinned = S.pinned === site ? null : site;
    signal.request({ type: 'select', main: S.pinned });
    view.render(S, actions);
  },
  async control(action, site) {
    const r = await signal.request({ type: 'control', action, ...(site ? { site } : {}) });
    if (r.type === 'error') view.toast(t('room.err.generic', { code: r.code }), 'bad');
  },
  leave() {
    const id = S.confId;
    signal.request({ type: 'leave' });
    S.left.add(id);
    toIdle({ key: 'room.notice.left', kind: 'info', at: Date.now() });
  },
  rejoin() {
    if (!S.invite) return;
    S.left.delete(S.invite.id);
    join(S.invite.id);
  },
  changeDevices(changed) {
    if ('spk' in changed) { saveDevices({ ...loadDevices(), ...changed }); view.setSink(changed.spk); view.render(S, actions); return null; }
    return reopenDevices(changed);
  },
  fullscreen() {
    if (document.fullscreenElement) document.exitFullscreen();
    else document.documentElement.requestFullscreen().catch(() => {});
  },
};

function begin() {
  S.notice = null;
  setScreen('idle');
  signal.start(S.cred);
  ensureDevices();
}

// Quality: the peer connection's stats in a meeting, the signalling ping otherwise.
setInterval(async () => {
  if (S.peer && S.media === 'connected') {
    const q = await S.peer.stats();
    if (q) { S.quality = q; view.renderQuality(S); }
  }
}, 2000);
setInterval(() => view.tick(S, actions), 500);

// A room PC must not dim or sleep in the middle of a meeting, nor while it waits for one.
let wakeLock = null;
async function keepAwake() {
  if (!S.cred || document.visibilityState !== 'visible' || wakeLock || !navigator.wakeLock) return;
  try {
    wakeLock = await navigator.wakeLock.request('screen');
    wakeLock.addEventListener('release', () => { wakeLock = null; });
  } catch { /* not allowed here (no HTTPS, or a power policy): the OS settings decide */ }
}
document.addEventListener('visibilitychange', keepAwake);
setInterval(keepAwake, 30000);

function init() {
  applyI18n();
  langSwitch($('#lang'));
  onLang(() => view.render(S, actions));
  view.init(S, actions);
  const link = readLink();
  if (link) saveCred(link);
  S.cred = loadCred();
  if (S.cred) begin();
  else setScreen('signin');
  // A provisioning link opened in the running page (pasted into the address bar).
  window.addEventListener('hashchange', () => {
    const l = readLink();
    if (!l) return;
    saveCred(l);
    signal.stop('relink');
    teardown();
    S.cred = l;
    S.site = null;
    S.stopReason = null;
    begin();
  });
  document.addEventListener('fullscreenchange', () => view.render(S, actions));
  navigator.mediaDevices?.addEventListener?.('devicechange', () => view.render(S, actions));
}

init();
