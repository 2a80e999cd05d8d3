// On-duty state and position pings: while an officer is on duty the app reports the phone's position,
// which puts the officer on the command map and in the list that spot-checks pick from. The state
// survives reloads; going off duty stops the pings.
//
// Battery: a shift is hours long. Between records the phone only watches coarsely (network
// location, no GPS kept on) and sends a position when the officer has moved MOVED_M or every
// HEARTBEAT_MS (the map counts an officer on duty when seen in the last 15 minutes). The precise
// fix is taken when a record is made (the form asks for high accuracy) and is reported too.

import { request } from './api.js';

const KEY = 'fw.duty';
const HEARTBEAT_MS = 5 * 60_000;
const MOVED_M = 100;
const COARSE = { enableHighAccuracy: false, maximumAge: 60_000, timeout: 30_000 };
let timer = null;
let watchId = null;
let lastSent = 0;
let lastPos = null; // { lat, lon } of the last position that reached the server
// What the duty card may honestly claim: when a position last reached the server, and whether the
// latest attempt failed (offline, refused) or found no position.
const SENT_KEY = 'fw.duty.sentAt';
const report = { sentAt: null, failed: false, noGps: false };
try {
  report.sentAt = localStorage.getItem(SENT_KEY);
} catch {
  report.sentAt = null;
}
const listeners = new Set();

/** { sentAt (ISO or null), failed, noGps } of the latest position report. */
export function dutyReport() {
  return { ...report };
}

export function onDuty() {
  return localStorage.getItem(KEY) === '1';
}

export function onDutyChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function emit(state) {
  for (const fn of listeners) fn(state);
}

/** Metres between two positions (equirectangular: exact enough for "has the officer moved"). */
function metres(a, b) {
  const rad = Math.PI / 180;
  const x = (b.lon - a.lon) * rad * Math.cos(((a.lat + b.lat) / 2) * rad);
  const y = (b.lat - a.lat) * rad;
  return Math.sqrt(x * x + y * y) * 6_371_000;
}

async function send(pos) {
  const now = Date.now();
  if (now - lastSent < 10_000) return; // the server accepts one ping per few seconds
  lastSent = now;
  const here = { lat: pos.coords.latitude, lon: pos.coords.longitude };
  try {
    await request('POST', '/positions', {
      body: {
        lat: pos.coords.latitude,
        lon: pos.coords.longitude,
        accuracy_m: Math.min(100000, Math.round(pos.coords.accuracy || 0)),
        at: new Date(pos.timestamp || now).toISOString(),
      },
    });
    lastPos = here;
    report.sentAt = new Date(now).toISOString();
    report.failed = false;
    report.noGps = false;
    try {
      localStorage.setItem(SENT_KEY, report.sentAt);
    } catch {
      /* storage blocked: the time is still shown while the app is open */
    }
    emit({ on: true, sentAt: new Date(now) });
  } catch (e) {
    if (e && e.status === 429) {
      // The server has a position from moments ago: reachable, nothing lost.
      report.failed = false;
      emit({ on: true });
      return;
    }
    lastSent = 0; // nothing reached the server: the next chance (a tick, the network back) may try
    report.failed = true; // offline or refused: the next tick tries again
    emit({ on: true, failed: true });
  }
}

function noFix() {
  report.noGps = true;
  emit({ on: true, noGps: true });
}

/** The heartbeat: a coarse position now, sent whether or not the officer moved. */
function ping() {
  if (!navigator.geolocation) return;
  navigator.geolocation.getCurrentPosition(send, noFix, COARSE);
}

/** The coarse watch: only a real move is worth a request (and the radio waking up for it). */
function moved(pos) {
  const here = { lat: pos.coords.latitude, lon: pos.coords.longitude };
  if (!lastPos || metres(lastPos, here) >= MOVED_M) send(pos);
}

function start() {
  if (timer) return;
  ping();
  timer = setInterval(ping, HEARTBEAT_MS);
  if (navigator.geolocation && navigator.geolocation.watchPosition) {
    watchId = navigator.geolocation.watchPosition(moved, () => {}, COARSE);
  }
}

/** A precise fix taken for a record: on duty, it is the best position the map can have. */
export function reportFix(pos) {
  if (timer) send(pos);
}

// Back in signal: report at once rather than at the next tick, so the card and the map catch up.
window.addEventListener('online', () => {
  if (timer) ping();
});

function stop() {
  if (timer) clearInterval(timer);
  timer = null;
  if (watchId !== null && navigator.geolocation) navigator.geolocation.clearWatch(watchId);
  watchId = null;
}

export function setOnDuty(on) {
  localStorage.setItem(KEY, on ? '1' : '0');
  if (on) start();
  else stop();
  emit({ on });
}

/** Resume pinging after a reload when the officer was on duty. */
export function resumeDuty() {
  if (onDuty()) start();
}

// ---- the shift's partners -----------------------------------------------------------------

const PARTNERS_KEY = 'fw.shift.partners';

/** The partner officers chosen when the shift started; new records start with them. */
export function shiftPartners() {
  try {
    const v = JSON.parse(localStorage.getItem(PARTNERS_KEY) || '[]');
    return Array.isArray(v) ? v.filter((x) => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

export function setShiftPartners(ids) {
  try {
    if (ids && ids.length) localStorage.setItem(PARTNERS_KEY, JSON.stringify(ids.map(String)));
    else localStorage.removeItem(PARTNERS_KEY);
  } catch {
    /* storage blocked: partners are chosen on each record instead */
  }
}
