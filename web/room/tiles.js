// Video tiles of the meeting screen. A tile keeps its <video> element for its whole life
// (re-creating it would flash), shows the site's name card until real frames arrive, and
// carries the overlays: the name, chair and mute badges, the speaking highlight.
import { t } from '../i18n.js';
import { h, icon, initials, hue, replace } from '../ui.js';

export class Tile {
  constructor(kind, onclick) {
    this.kind = kind;                          // 'main', 'thumb' or 'self'
    this.video = h('video', { autoplay: true, playsinline: true, muted: true });
    this.video.muted = true;                   // audio comes from the mix, never from a tile
    this.avatar = h('div', { class: 'avatar' });
    this.cardName = h('div', { class: 'card-name' });
    this.cardState = h('div', { class: 'card-state' });
    this.cardBadges = h('div', { class: 'card-badges' });
    this.card = h('div', { class: 'tile-card' }, this.avatar, this.cardName, this.cardBadges, this.cardState);
    this.label = h('div', { class: 'tile-label' });
    this.badges = h('div', { class: 'tile-badges' });
    this.el = h('div', { class: `tile ${kind}`, onclick: onclick ? () => onclick(this.site) : null },
      this.video, this.card, h('div', { class: 'tile-foot' }, this.badges, this.label));
    if (onclick) { this.el.tabIndex = 0; this.el.setAttribute('role', 'button'); }
    this.site = null;
    this.track = null;
    const seen = () => this.el.classList.toggle('has-video', this.hasFrames());
    this.video.addEventListener('resize', seen);
    this.video.addEventListener('playing', seen);
    this.video.addEventListener('emptied', seen);
    this.seen = seen;
  }

  hasFrames() {
    return !!this.track && this.track.readyState === 'live' && !this.track.muted && this.video.videoWidth > 0;
  }

  setTrack(track) {
    if (track === this.track) return;
    this.track = track || null;
    this.video.srcObject = track ? new MediaStream([track]) : null;
    if (track) {
      track.addEventListener('mute', this.seen);
      track.addEventListener('unmute', this.seen);
      this.video.play().catch(() => {});
    }
    this.seen();
  }

  // info: {site, name, sub, state, speaking, chair, muted, hand, you, pinned, empty}
  update(info) {
    this.site = info.site ?? null;
    const name = info.name || '';
    this.el.classList.toggle('speaking', !!info.speaking);
    this.el.classList.toggle('empty', !!info.empty);
    this.el.classList.toggle('pinned', !!info.pinned);
    this.avatar.textContent = info.empty ? '' : initials(name);
    this.avatar.style.background = `hsl(${hue(info.site || 0)} 45% 38%)`;
    this.cardName.textContent = name;
    this.cardState.textContent = info.state || '';
    this.label.textContent = info.you ? t('room.tile.you') : name;
    this.label.title = name;
    const b = [];
    if (info.chair) b.push(h('span', { class: 'badge chair', title: t('room.badge.chair') }, icon('star')));
    if (info.muted) b.push(h('span', { class: 'badge muted', title: t('room.badge.muted') }, icon('mic-off')));
    if (info.hand) b.push(h('span', { class: 'badge hand', title: t('room.badge.hand') }, icon('hand')));
    if (info.speaking) b.push(h('span', { class: 'badge speaking', title: t('room.badge.speaking') }, icon('volume')));
    if (info.pinned) b.push(h('span', { class: 'badge pinned', title: t('room.badge.pinned') }, icon('pin')));
    replace(this.badges, b);
    // Without video the main tile's card carries the name, so its badges go there, spelled out.
    if (this.kind === 'main') {
      replace(this.cardBadges, b.map((x) => h('span', { class: `card-badge ${x.className.replace('badge ', '')}` }, x.cloneNode(true), x.title)));
    }
    if (this.kind === 'thumb' && info.site) this.el.title = t('room.tile.pin', { name });
    else this.el.removeAttribute('title');
    this.seen();
  }
}
