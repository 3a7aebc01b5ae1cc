// Video check page: joins a test conference ("mix-…") over /ws, publishes the camera
// (VP8 with three simulcast layers, VP9 SVC, or nothing) and shows the main track and the
// thumbnails the server forwards. window.vt exposes the connection and stats() for tests.
//   /video/?conference=mix-v&publish=vp8sim|vp9svc|vp8|none&thumbs=4&width=640&height=360
'use strict';
(async () => {
  const $ = (id) => document.getElementById(id);
  const q = new URLSearchParams(location.search);
  const conference = q.get('conference') || 'mix-video';
  const publish = q.get('publish') || 'vp8sim';
  const nthumbs = Number(q.get('thumbs') || 0);
  const vt = window.vt = { pc: null, events: [], tracks: null, error: null, session: null, mids: {} };
  const setStatus = (t, cls) => { $('status').textContent = t; $('status').className = `pill ${cls || ''}`; };
  $('room').textContent = conference;
  $('sending').textContent = publish;
  try {
    const want = { width: Number(q.get('width') || 640), height: Number(q.get('height') || 360), frameRate: 30 };
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: publish === 'none' ? false : want });
    const pc = vt.pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    pc.addTransceiver(stream.getAudioTracks()[0], { direction: 'sendrecv', streams: [stream] });
    let main;
    if (publish === 'none') {
      main = pc.addTransceiver('video', { direction: 'recvonly' });
    } else {
      const track = stream.getVideoTracks()[0];
      const init = { direction: 'sendrecv', streams: [stream] };
      if (publish === 'vp8sim') {
        init.sendEncodings = [
          { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150000 },
          { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500000 },
          { rid: 'f', maxBitrate: 1500000 }];
      } else if (publish === 'vp9svc') {
        init.sendEncodings = [{ scalabilityMode: q.get('mode') || 'L3T3_KEY', maxBitrate: 1500000 }];
      }
      main = pc.addTransceiver(track, init);
      const caps = RTCRtpSender.getCapabilities('video').codecs;
      const pick = publish === 'vp9svc' ? 'video/VP9' : 'video/VP8';
      const first = caps.filter((c) => c.mimeType === pick && (pick !== 'video/VP9' || !c.sdpFmtpLine || /profile-id=0/.test(c.sdpFmtpLine)));
      main.setCodecPreferences([...first, ...caps.filter((c) => !first.includes(c))]);
    }
    const thumbs = [];
    for (let i = 0; i < nthumbs; i++) thumbs.push(pc.addTransceiver('video', { direction: 'recvonly' }));
    pc.ontrack = (e) => {
      if (e.track.kind === 'audio') { $('audio').srcObject = new MediaStream([e.track]); return; }
      const mid = e.transceiver.mid;
      let el = mid === main.mid ? $('main') : null;
      if (!el) {
        el = document.createElement('video');
        el.autoplay = true; el.muted = true; el.playsInline = true; el.id = `thumb-${mid}`;
        $('thumbs').append(el);
      }
      el.srcObject = new MediaStream([e.track]);
      vt.mids[mid] = el.id;
    };
    await pc.setLocalDescription(await pc.createOffer());
    vt.mainMid = main.mid;
    if (pc.iceGatheringState !== 'complete') {
      await new Promise((r) => { pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r(); setTimeout(r, 2000); });
    }
    const ws = vt.ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
    ws.onopen = () => ws.send(JSON.stringify({ type: 'join', conference, sdp: pc.localDescription.sdp }));
    ws.onmessage = async (ev) => {
      const msg = JSON.parse(ev.data);
      vt.events.push(msg.type === 'answer' ? { type: 'answer' } : msg);
      if (msg.type === 'answer') { vt.session = msg.session; await pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp }); }
      else if (msg.type === 'state' && msg.state === 'connected') setStatus('Đã kết nối / Connected', 'ok');
      else if (msg.type === 'tracks') {
        vt.tracks = msg;
        $('main-cap').textContent = msg.audio_only ? 'Chỉ âm thanh / Audio only'
          : `Hình chính / Main: ${msg.main && (msg.main.session || msg.main.site) || '–'} (lớp / layer ${msg.main ? msg.main.layer : '–'})`;
      } else if (msg.type === 'layers' && main.sender && main.sender.track) {
        // the server pauses the simulcast layers nobody receives
        const p = main.sender.getParameters();
        if (p.encodings && p.encodings.length === msg.active.length) {
          p.encodings.forEach((e, i) => { e.active = msg.active[i]; });
          await main.sender.setParameters(p);
          vt.layers = msg.active;
        }
      } else if (msg.type === 'error') { vt.error = msg; setStatus(`Lỗi / Error: ${msg.message}`, 'bad'); }
      else if (msg.type === 'closed') setStatus(`Đã đóng / Closed (${msg.reason})`, 'bad');
    };
    // Inbound video per mid: frame size, frames decoded, freezes; outbound layers.
    vt.stats = async () => {
      const out = { inbound: {}, outbound: [], candidatePair: null };
      const all = await pc.getStats();
      all.forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') {
          out.inbound[s.mid] = { width: s.frameWidth || 0, height: s.frameHeight || 0, frames: s.framesDecoded || 0,
            keyframes: s.keyFramesDecoded || 0, freezes: s.freezeCount || 0, packets: s.packetsReceived,
            lost: s.packetsLost, nacks: s.nackCount, plis: s.pliCount, codec: s.codecId && all.get(s.codecId) ? all.get(s.codecId).mimeType : null };
        }
        if (s.type === 'outbound-rtp' && s.kind === 'video') {
          out.outbound.push({ rid: s.rid, width: s.frameWidth || 0, frames: s.framesEncoded || 0, bytes: s.bytesSent,
            limitation: s.qualityLimitationReason, active: s.active, scalabilityMode: s.scalabilityMode });
        }
        if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') {
          out.candidatePair = { availableOutgoingBitrate: s.availableOutgoingBitrate, rtt: s.currentRoundTripTime };
        }
      });
      return out;
    };
    setInterval(async () => {
      const s = await vt.stats();
      const m = s.inbound[main.mid];
      $('info').textContent = m ? `${m.width}×${m.height}, ${m.frames} khung hình / frames` : '';
    }, 1000);
    $('leave').onclick = () => { ws.send(JSON.stringify({ type: 'leave' })); pc.close(); setStatus('Đã rời / Left'); };
  } catch (e) {
    vt.error = String(e);
    setStatus(`Lỗi / Error: ${e}`, 'bad');
  }
})();
