// Audio meeting page: joins a "mix" conference over /ws and plays the mix it receives.
// window.mix exposes the connection and toneLevels(freqs): the level (dB) of each frequency
// in the received audio, measured with WebAudio (tests use it to check who is heard).
'use strict';
(async () => {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const conference = params.get('conference') || 'mix';
  $('room').textContent = conference;
  const mix = window.mix = { pc: null, events: [], error: null, session: null, speaker: null };
  const setStatus = (t, cls) => { $('status').textContent = t; $('status').className = `pill ${cls || ''}`; };
  try {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false }, video: false });
    const pc = mix.pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    pc.addTransceiver(stream.getAudioTracks()[0], { direction: 'sendrecv', streams: [stream] });
    const ctx = mix.audioContext = new AudioContext({ sampleRate: 48000 });
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 8192;
    pc.ontrack = (e) => {
      const remote = new MediaStream([e.track]);
      $('remote').srcObject = remote; // Chromium feeds WebAudio only from a playing remote stream
      ctx.createMediaStreamSource(remote).connect(analyser);
      ctx.resume();
    };
    const buf = new Float32Array(analyser.fftSize);
    // Goertzel power of each frequency over the analyser's last 8192 samples, in dB.
    mix.toneLevels = (freqs) => {
      analyser.getFloatTimeDomainData(buf);
      return freqs.map((f) => {
        const k = 2 * Math.cos(2 * Math.PI * f / ctx.sampleRate);
        let s1 = 0, s2 = 0;
        for (let i = 0; i < buf.length; i++) { const s0 = buf[i] + k * s1 - s2; s2 = s1; s1 = s0; }
        const power = (s1 * s1 + s2 * s2 - k * s1 * s2) / (buf.length * buf.length / 4);
        return 10 * Math.log10(power + 1e-12);
      });
    };
    setInterval(() => {
      analyser.getFloatTimeDomainData(buf);
      let sum = 0;
      for (const v of buf) sum += v * v;
      $('level').value = Math.max(-90, 10 * Math.log10(sum / buf.length + 1e-12));
    }, 250);
    await pc.setLocalDescription(await pc.createOffer());
    if (pc.iceGatheringState !== 'complete') {
      await new Promise((r) => { pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r(); setTimeout(r, 2000); });
    }
    const ws = mix.ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
    ws.onopen = () => ws.send(JSON.stringify({ type: 'join', conference, sdp: pc.localDescription.sdp }));
    ws.onmessage = async (ev) => {
      const msg = JSON.parse(ev.data);
      mix.events.push(msg.type === 'answer' ? { type: 'answer' } : msg);
      if (msg.type === 'answer') { mix.session = msg.session; await pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp }); }
      else if (msg.type === 'state' && msg.state === 'connected') setStatus('Đã kết nối / Connected', 'ok');
      else if (msg.type === 'speaker') {
        mix.speaker = msg.session;
        $('speaker').textContent = msg.session === mix.session ? 'Bạn / You' : `Điểm cầu / Site ${msg.session}`;
      } else if (msg.type === 'error') { mix.error = msg; setStatus(`Lỗi / Error: ${msg.message}`, 'bad'); }
      else if (msg.type === 'closed') setStatus(`Đã đóng / Closed (${msg.reason})`, 'bad');
    };
    $('leave').onclick = () => { ws.send(JSON.stringify({ type: 'leave' })); pc.close(); setStatus('Đã rời / Left'); };
  } catch (e) {
    mix.error = String(e);
    setStatus(`Lỗi / Error: ${e}`, 'bad');
  }
})();
