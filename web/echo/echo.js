// The echo page: joins the "echo" conference over /ws and shows what comes back.
// Tests read window.echo (the RTCPeerConnection and the protocol log).
'use strict';
(async () => {
  const statusEl = document.getElementById('status');
  const setStatus = (text, cls) => { statusEl.textContent = text; statusEl.className = cls || ''; };
  const echo = window.echo = { pc: null, events: [], error: null };
  const params = new URLSearchParams(location.search);
  const wsUrl = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
    document.getElementById('local').srcObject = stream;
    const pc = echo.pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    const remote = new MediaStream();
    document.getElementById('remote').srcObject = remote;
    pc.ontrack = (e) => remote.addTrack(e.track);
    for (const t of stream.getTracks()) pc.addTransceiver(t, { direction: 'sendrecv', streams: [stream] });
    pc.onconnectionstatechange = () => {
      echo.events.push({ pc: pc.connectionState });
      if (pc.connectionState === 'connected') setStatus('Đã kết nối / Connected', 'ok');
      if (pc.connectionState === 'failed') setStatus('Kết nối thất bại / Connection failed', 'bad');
    };
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    // Wait for host candidates so the server sees a complete offer (it does not take trickle).
    if (pc.iceGatheringState !== 'complete') {
      await new Promise((r) => { pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r(); setTimeout(r, 2000); });
    }
    const ws = echo.ws = new WebSocket(wsUrl);
    ws.onmessage = async (ev) => {
      const msg = JSON.parse(ev.data);
      echo.events.push(msg.type === 'answer' ? { type: 'answer' } : msg);
      if (msg.type === 'answer') await pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp });
      else if (msg.type === 'error') { echo.error = msg; setStatus(`Lỗi / Error: ${msg.message}`, 'bad'); }
      else if (msg.type === 'closed') setStatus(`Phiên đã đóng / Session closed (${msg.reason})`, 'bad');
    };
    ws.onopen = () => ws.send(JSON.stringify({ type: 'join', conference: params.get('conference') || 'echo', sdp: pc.localDescription.sdp }));
    ws.onclose = () => echo.events.push({ ws: 'closed' });
    document.getElementById('leave').onclick = () => { ws.send(JSON.stringify({ type: 'leave' })); pc.close(); setStatus('Đã rời / Left'); };
    setInterval(async () => {
      if (pc.connectionState === 'closed') return;
      const rows = [];
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp') rows.push([`in ${s.kind}`, `${s.packetsReceived} packets`, s.framesDecoded !== undefined ? `${s.framesDecoded} frames` : '']);
        if (s.type === 'outbound-rtp') rows.push([`out ${s.kind}`, `${s.packetsSent} packets`, '']);
      });
      document.getElementById('stats').innerHTML = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('');
    }, 1000);
  } catch (e) {
    echo.error = String(e);
    setStatus(`Lỗi / Error: ${e}`, 'bad');
  }
})();
