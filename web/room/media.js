// The room's media: the microphone and camera (each may fail on its own), a level meter,
// and the peer connection with the transceivers the server expects: audio sendrecv; video
// sendrecv with three simulcast layers (the server sends the main view on its receiver);
// then four recvonly video transceivers for the thumbnails.

export const THUMBS = 4;
const DEV_KEY = 'mcu.room.devices';

// The devices the clerk chose ({mic, cam, spk} device ids), remembered on this PC.
export function loadDevices() { try { return JSON.parse(localStorage.getItem(DEV_KEY)) || {}; } catch { return {}; } }
export function saveDevices(d) { try { localStorage.setItem(DEV_KEY, JSON.stringify(d)); } catch { /* private mode */ } }
const SIMULCAST = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500000 },
  { rid: 'f', maxBitrate: 1500000 },
];

// Opens the chosen devices. Resolves {stream, errors: {audio, video}}; a device that fails
// leaves its kind out of the stream and its error name in `errors`.
export async function openDevices({ micId, camId } = {}) {
  const audio = { echoCancellation: true, noiseSuppression: true, autoGainControl: true,
    ...(micId ? { deviceId: { exact: micId } } : {}) };
  const video = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 25 },
    ...(camId ? { deviceId: { exact: camId } } : {}) };
  const errors = { audio: null, video: null };
  if (!navigator.mediaDevices?.getUserMedia) return { stream: new MediaStream(), errors: { audio: 'NotSupported', video: 'NotSupported' } };
  try {
    return { stream: await navigator.mediaDevices.getUserMedia({ audio, video }), errors };
  } catch { /* find out which of the two failed */ }
  const stream = new MediaStream();
  for (const [kind, c] of [['audio', audio], ['video', video]]) {
    try {
      const s = await navigator.mediaDevices.getUserMedia({ [kind]: c });
      s.getTracks().forEach((tr) => stream.addTrack(tr));
    } catch (e) {
      errors[kind] = e.name || 'Error';
    }
  }
  return { stream, errors };
}

export async function listDevices() {
  const out = { audioinput: [], videoinput: [], audiooutput: [] };
  if (!navigator.mediaDevices?.enumerateDevices) return out;
  for (const d of await navigator.mediaDevices.enumerateDevices()) if (out[d.kind]) out[d.kind].push(d);
  return out;
}

// The loudness of an audio track, 0..1 (RMS on a dB scale from -60 to 0 dBFS).
export class LevelMeter {
  constructor(track) {
    this.ctx = new AudioContext();
    this.analyser = this.ctx.createAnalyser();
    this.analyser.fftSize = 1024;
    this.buf = new Float32Array(this.analyser.fftSize);
    this.src = this.ctx.createMediaStreamSource(new MediaStream([track]));
    this.src.connect(this.analyser);
  }
  value() {
    if (this.ctx.state === 'suspended') this.ctx.resume();
    this.analyser.getFloatTimeDomainData(this.buf);
    let sum = 0;
    for (const v of this.buf) sum += v * v;
    const db = 10 * Math.log10(sum / this.buf.length + 1e-12);
    return Math.max(0, Math.min(1, (db + 60) / 60));
  }
  close() { this.src.disconnect(); this.ctx.close(); }
}

// A short tone on the chosen speaker, to check that the room hears the meeting.
export async function playTestTone(sinkId) {
  const el = new Audio();
  const ctx = new AudioContext();
  const dest = ctx.createMediaStreamDestination();
  const osc = ctx.createOscillator();
  const gain = ctx.createGain();
  osc.frequency.value = 660;
  gain.gain.setValueAtTime(0.0001, ctx.currentTime);
  gain.gain.exponentialRampToValueAtTime(0.3, ctx.currentTime + 0.05);
  gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + 1.2);
  osc.connect(gain).connect(dest);
  el.srcObject = dest.stream;
  if (sinkId && el.setSinkId) await el.setSinkId(sinkId).catch(() => {});
  await el.play().catch(() => {});
  osc.start();
  osc.stop(ctx.currentTime + 1.3);
  setTimeout(() => { el.pause(); ctx.close(); }, 1500);
}

export class Peer {
  // stream: the local stream (may lack audio or video); ontrack(mid, track) for each receiver.
  constructor(stream, ontrack) {
    const pc = this.pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    const a = stream.getAudioTracks()[0] || 'audio';
    const v = stream.getVideoTracks()[0] || 'video';
    this.audio = pc.addTransceiver(a, { direction: 'sendrecv', streams: [stream] });
    this.video = pc.addTransceiver(v, { direction: 'sendrecv', streams: [stream], sendEncodings: SIMULCAST });
    this.thumbs = [];
    for (let i = 0; i < THUMBS; i++) this.thumbs.push(pc.addTransceiver('video', { direction: 'recvonly' }));
    pc.ontrack = (e) => ontrack(e.transceiver.mid, e.track, e.transceiver);
    this.last = null;
  }

  // Makes the complete offer (the server takes no trickled candidates).
  async offer() {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    if (this.pc.iceGatheringState !== 'complete') {
      await new Promise((r) => {
        this.pc.addEventListener('icegatheringstatechange', () => this.pc.iceGatheringState === 'complete' && r());
        setTimeout(r, 2000);
      });
    }
    return this.pc.localDescription.sdp;
  }

  answer(sdp) { return this.pc.setRemoteDescription({ type: 'answer', sdp }); }

  // The receiving track of each mid: mid -> MediaStreamTrack.
  receivers() {
    const out = {};
    for (const tr of [this.video, ...this.thumbs]) if (tr.mid !== null) out[tr.mid] = tr.receiver.track;
    return out;
  }

  replaceTrack(kind, track) {
    const tr = kind === 'audio' ? this.audio : this.video;
    return tr.sender.replaceTrack(track || null);
  }

  remoteAudio() { return this.audio.receiver.track; }

  // active[i]: whether simulcast layer i (lowest first) is sent; the others stop encoding.
  async setLayers(active) {
    const p = this.video.sender.getParameters();
    if (!p.encodings || p.encodings.length !== active.length) return;
    p.encodings.forEach((e, i) => { e.active = !!active[i]; });
    try { await this.video.sender.setParameters(p); } catch { /* renegotiating: the next message applies */ }
    this.layers = active.slice();
  }

  // Measures the link since the last call: round trip, loss, jitter, bitrates, and a grade.
  async stats() {
    const now = performance.now();
    const s = { rtt: null, lost: 0, recv: 0, jitter: null, bytesIn: 0, bytesOut: 0 };
    (await this.pc.getStats()).forEach((r) => {
      if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded' && r.currentRoundTripTime !== undefined)
        s.rtt = r.currentRoundTripTime * 1000;
      if (r.type === 'inbound-rtp') {
        s.lost += Math.max(0, r.packetsLost || 0);
        s.recv += r.packetsReceived || 0;
        s.bytesIn += r.bytesReceived || 0;
        if (r.kind === 'audio' && r.jitter !== undefined) s.jitter = r.jitter * 1000;
      }
      if (r.type === 'outbound-rtp') s.bytesOut += r.bytesSent || 0;
      if (r.type === 'remote-inbound-rtp' && s.rtt === null && r.roundTripTime !== undefined) s.rtt = r.roundTripTime * 1000;
    });
    const p = this.last;
    this.last = { ...s, t: now };
    if (!p) return null;
    const dt = (now - p.t) / 1000;
    const lost = s.lost - p.lost, recv = s.recv - p.recv;
    const q = {
      rtt: s.rtt, jitter: s.jitter,
      loss: lost + recv > 0 ? lost / (lost + recv) : 0,
      kbpsIn: (s.bytesIn - p.bytesIn) * 8 / 1000 / dt,
      kbpsOut: (s.bytesOut - p.bytesOut) * 8 / 1000 / dt,
      flowing: recv > 0,
    };
    q.grade = grade(q);
    return q;
  }

  close() { try { this.pc.close(); } catch { /* already closed */ } }
}

// good / fair / poor from round trip, loss and jitter (what a meeting needs: under 150 ms,
// 2 % and 30 ms is good; past 400 ms, 8 % or 80 ms speech breaks up).
export function grade({ rtt, loss, jitter }) {
  if ((rtt ?? 0) > 400 || (loss ?? 0) > 0.08 || (jitter ?? 0) > 80) return 'poor';
  if ((rtt ?? 0) > 150 || (loss ?? 0) > 0.02 || (jitter ?? 0) > 30) return 'fair';
  return 'good';
}
