// The room's signalling link: one WebSocket to /ws that signs the site in, matches replies
// to requests by id, notices a dead link with pings, and reconnects with the protocol's
// backoff (0.5 s doubling to 8 s, each delay changed at random by up to ±25 %).

const PING_EVERY_MS = 5000;
const PONG_TIMEOUT_MS = 6000;

export class Signal extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.ws = null;
    this.cred = null;
    this.status = 'stopped';   // stopped, connecting, signing, signedin, waiting (to reconnect)
    this.backoff = 500;
    this.attempt = 0;          // failed attempts since the last sign-in
    this.retryAt = 0;          // when the next attempt starts (status 'waiting')
    this.rtt = null;           // last ping round trip, ms
    this.nextId = 1;
    this.pending = new Map();  // id -> {resolve, timer}
    this.timer = null;
    this.pingTimer = null;
  }

  start(cred) {
    this.cred = cred;
    this.stopped = false;
    this.connect();
  }

  // Stops for good (sign-out, a refused credential, or replaced by another PC).
  stop(reason = 'stopped') {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pingTimer);
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close();
    this.setStatus('stopped', { reason });
  }

  retryNow() {
    if (this.status !== 'waiting') return;
    clearTimeout(this.timer);
    this.connect();
  }

  resetBackoff() { this.backoff = 500; this.attempt = 0; }

  // The delay before the next attempt, advancing the backoff.
  nextDelay() {
    const d = this.backoff * (0.75 + Math.random() * 0.5);
    this.backoff = Math.min(this.backoff * 2, 8000);
    return d;
  }

  setStatus(status, detail = {}) {
    this.status = status;
    this.dispatchEvent(new CustomEvent('status', { detail: { status, ...detail } }));
  }

  connect() {
    if (this.stopped) return;
    const ws = new WebSocket(this.url);
    this.ws = ws;
    this.setStatus('connecting');
    ws.onopen = () => {
      this.setStatus('signing');
      this.request({ type: 'signin', site: this.cred.site, secret: this.cred.secret }, 10000).then((m) => {
        if (m.type === 'signedin') {
          this.resetBackoff();
          this.setStatus('signedin', { site: m.site, msg: m });
          this.ping();
        } else if (m.type === 'error' && m.code === 'bad_credentials') {
          this.stop('bad_credentials');
        } else if (m.type === 'error') {
          this.drop(); // rate_limited, a timeout...: try again after the backoff
        }
      });
      this.lastPong = Date.now();
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => this.ping(), PING_EVERY_MS);
    };
    ws.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      if (msg.id !== undefined && this.pending.has(msg.id)) {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        clearTimeout(p.timer);
        p.resolve(msg);
        return;
      }
      this.dispatchEvent(new CustomEvent('message', { detail: msg }));
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.pingTimer);
      for (const [, p] of this.pending) { clearTimeout(p.timer); p.resolve({ type: 'error', code: 'disconnected' }); }
      this.pending.clear();
      if (this.stopped) return;
      this.attempt++;
      const delay = this.nextDelay();
      this.retryAt = Date.now() + delay;
      this.setStatus('waiting', { delay });
      this.timer = setTimeout(() => this.connect(), delay);
    };
  }

  // Half-open links (a cut cable) never close by themselves: a ping that goes unanswered
  // makes us drop the socket and reconnect.
  ping() {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    if (Date.now() - this.lastPong > PING_EVERY_MS + PONG_TIMEOUT_MS) { this.drop(); return; }
    const t0 = performance.now();
    this.request({ type: 'ping' }, PONG_TIMEOUT_MS).then((m) => {
      if (m.type === 'pong') {
        this.lastPong = Date.now();
        this.rtt = performance.now() - t0;
        this.dispatchEvent(new CustomEvent('rtt', { detail: this.rtt }));
      }
    });
  }

  drop() { if (this.ws) this.ws.close(); }

  send(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) { this.ws.send(JSON.stringify(msg)); return true; }
    return false;
  }

  // Sends msg with a fresh id; resolves with the reply, or {type:'error', code:'timeout'|'disconnected'}.
  request(msg, timeoutMs = 8000) {
    const id = this.nextId++;
    return new Promise((resolve) => {
      if (!this.send({ ...msg, id })) { resolve({ type: 'error', code: 'disconnected' }); return; }
      const timer = setTimeout(() => { this.pending.delete(id); resolve({ type: 'error', code: 'timeout' }); }, timeoutMs);
      this.pending.set(id, { resolve, timer });
    });
  }
}
