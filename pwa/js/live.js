// The live stream (WS /api/v1/live) for pages that watch events as they happen.
//
// One LiveStream per page: it connects with the access token as a subprotocol (never in the URL),
// narrows the stream to the types asked for, reconnects by itself with backoff and jitter, asks the
// server for what it missed (resume_after), and treats a silent link as dead. Pages listen with
// on(type, fn). Everything it keeps is bounded, so a wall screen can run it for days.

import { liveToken } from './api.js';

const PROTOCOL = 'fieldwatch';
const TOKEN_PREFIX = 'bearer.';
const CLOSE_UNAUTHORISED = 4401;
const CLOSE_TOO_SLOW = 4429;
const MIN_DELAY_MS = 1000;
const MAX_DELAY_MS = 30000;
const DEAD_AFTER_MS = 60000; // the server sends a heartbeat about every 25 s
const SEEN_MAX = 2048; // event ids remembered to drop repeats
// Resume a little before the newest id seen: with several API processes ids can arrive slightly out
// of order; the repeats this brings back are dropped by id.
const RESUME_OVERLAP = 32;
const REPLAY_LIMIT = 1000; // the server replays at most this many events; further behind, reload

export function liveUrl(loc = location) {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/api/v1/live`;
}

/** Delay before reconnect attempt `n` (0-based): 1 s doubling to 30 s, each ±25 % at random. */
export function backoff(n, random = Math.random) {
  const base = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** Math.min(n, 10));
  return Math.round(Math.min(MAX_DELAY_MS, base * (0.75 + random() * 0.5)));
}

export class LiveStream {
  /**
   * `types`: event types to receive (null: all the server allows). Status values: 'connecting' (first
   * attempt), 'open', 'reconnecting', 'stopped'.
   */
  constructor({ types = null, url = liveUrl() } = {}) {
    this.types = types ? [...types] : null;
    this.url = url;
    this.status = 'stopped';
    this.lastId = null; // newest event id seen, as a number
    this.listeners = new Map();
    this.ws = null;
    this.attempts = 0;
    this.token = null; // the token of the current or last socket
    this.rejected = null; // a token the server refused (close 4401)
    this.retryTimer = null;
    this.deadTimer = null;
    this.seen = new Set();
    this.seenOrder = [];
    this.opening = false; // waiting for a token before opening a socket
    this.onOnline = () => {
      if (this.status !== 'open' && this.status !== 'stopped' && !this.ws) this.reconnectNow();
    };
    this.onOffline = () => this.drop();
  }

  /** Listen for an event type, '*' (every event), 'status' or 'sync'. Returns the unsubscribe. */
  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
    return () => {
      const set = this.listeners.get(type);
      if (set) {
        set.delete(fn);
        if (!set.size) this.listeners.delete(type);
      }
    };
  }

  emit(type, payload) {
    const set = this.listeners.get(type);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(payload);
      } catch (err) {
        // One page handler failing must not stop the stream for the others.
        setTimeout(() => {
          throw err;
        });
      }
    }
  }

  setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    this.emit('status', status);
  }

  start() {
    if (this.status !== 'stopped') return this;
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    this.setStatus('connecting');
    this.connect();
    return this;
  }

  stop() {
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.closeSocket(1000);
    this.setStatus('stopped');
    this.listeners.clear();
  }

  async connect() {
    this.retryTimer = null;
    if (this.status === 'stopped' || this.ws || this.opening) return;
    if (navigator.onLine === false) {
      // The 'online' event reconnects at once; the timer covers a browser that never sends it.
      this.schedule();
      return;
    }
    let token;
    this.opening = true;
    try {
      token = await liveToken({ rejected: this.rejected });
    } catch (err) {
      this.opening = false;
      if (this.status === 'stopped') return;
      if (err && (err.status === 401 || err.status === 403)) {
        // The session is over: the app has gone to the sign-in page.
        this.stop();
        return;
      }
      this.schedule();
      return;
    }
    this.opening = false;
    if (this.status === 'stopped' || this.ws) return;
    this.rejected = null;
    this.token = token;
    let ws;
    try {
      ws = new WebSocket(this.url, [PROTOCOL, TOKEN_PREFIX + token]);
    } catch {
      this.schedule();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (this.types) ws.send(JSON.stringify({ subscribe: this.types }));
      this.watch();
    };
    ws.onmessage = (e) => this.receive(e.data);
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.closed(e.code);
    };
  }

  receive(raw) {
    this.watch();
    let msg;
    try {
      msg = JSON.parse(raw);
    } catch {
      return;
    }
    if (!msg || typeof msg.type !== 'string') return;
    if (msg.type === 'heartbeat') return;
    if (msg.type === 'hello') {
      this.hello(msg.data || {});
      return;
    }
    if (msg.id != null) {
      const id = String(msg.id);
      if (this.seen.has(id)) return;
      this.remember(id);
      const n = Number(id);
      if (Number.isFinite(n) && (this.lastId === null || n > this.lastId)) this.lastId = n;
    }
    this.emit(msg.type, msg);
    this.emit('*', msg);
  }

  hello(data) {
    const serverLast = Number(data.last_event_id);
    const known = Number.isFinite(serverLast) ? serverLast : 0;
    this.attempts = 0;
    let resumed = false;
    const gap = this.lastId === null ? null : known - this.lastId;
    // A negative gap means the server's event log started again (restored or reset): reload as well.
    if (gap !== null && gap >= 0 && gap < REPLAY_LIMIT - RESUME_OVERLAP) {
      this.send({ resume_after: String(Math.max(0, this.lastId - RESUME_OVERLAP)) });
      resumed = true;
    } else {
      // First connection, or too far behind to replay: the page reloads what it shows.
      if (gap !== null && gap < 0) {
        this.seen.clear();
        this.seenOrder = [];
      }
      this.lastId = known;
    }
    this.setStatus('open');
    this.emit('sync', { resumed });
  }

  remember(id) {
    this.seen.add(id);
    this.seenOrder.push(id);
    if (this.seenOrder.length > SEEN_MAX) {
      for (const old of this.seenOrder.splice(0, this.seenOrder.length - SEEN_MAX)) this.seen.delete(old);
    }
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  /** (Re)arm the dead-link watchdog: any message from the server proves the link is alive. */
  watch() {
    clearTimeout(this.deadTimer);
    this.deadTimer = setTimeout(() => this.drop(), DEAD_AFTER_MS);
  }

  /** Give up on the current socket now (offline, silent) and reconnect. */
  drop() {
    if (this.status === 'stopped') return;
    if (this.ws) {
      this.closeSocket(4000);
      this.closed(0);
    }
  }

  closeSocket(code) {
    clearTimeout(this.deadTimer);
    this.deadTimer = null;
    const ws = this.ws;
    this.ws = null;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    try {
      ws.close(code);
    } catch {
      /* already closing */
    }
  }

  closed(code) {
    clearTimeout(this.deadTimer);
    this.deadTimer = null;
    if (this.status === 'stopped') return;
    this.setStatus('reconnecting');
    if (code === CLOSE_UNAUTHORISED) {
      // Token expired or session ended: exchange the refresh token, then try again at once.
      this.rejected = this.token;
      this.schedule(this.attempts ? undefined : 0);
    } else if (code === CLOSE_TOO_SLOW) {
      this.schedule(MIN_DELAY_MS);
    } else {
      this.schedule();
    }
  }

  schedule(delay) {
    if (this.status === 'stopped' || this.retryTimer) return;
    if (this.status !== 'connecting') this.setStatus('reconnecting');
    const wait = delay ?? backoff(this.attempts);
    this.attempts += 1;
    this.retryTimer = setTimeout(() => this.connect(), wait);
  }

  reconnectNow() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.attempts = 0;
    this.connect();
  }
}
