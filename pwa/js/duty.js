// On-duty state and position pings: while an officer is on duty the app reports the phone's position
// every minute (and when it moves), which puts the officer on the command map and in the list that
// spot-checks pick from. The state survives reloads; going off duty stops the pings.

import { request } from './api.js';

const KEY = 'fw.duty';
const EVERY_MS = 60_000;
let timer = null;
let watchId = null;
let lastSent = 0;
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

async function send(pos) {
  const now = Date.now();
  if (now - lastSent < 10_000) return; // the server accepts one ping per few seconds
  lastSent = now;
  try {
    await request('POST', '/positions', {
      body: {
        lat: pos.coords.latitude,
        lon: pos.coords.longitude,
        accuracy_m: Math.min(100000, Math.round(pos.coords.accuracy || 0)),
        at: new Date(pos.timestamp || now).toISOString(),
      },
    });
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

function ping() {
  if (!navigator.geolocation) return;
  navigator.geolocation.getCurrentPosition(send, () => {
    report.noGps = true;
    emit({ on: true, noGps: true });
  }, {
    enableHighAccuracy: true,
    timeout: 15000,
    maximumAge: 30000,
  });
}

function start() {
  if (timer) return;
  ping();
  timer = setInterval(ping, EVERY_MS);
  if (navigator.geolocation && navigator.geolocation.watchPosition) {
    watchId = navigator.geolocation.watchPosition(send, () => {}, { enableHighAccuracy: true, maximumAge: 30000 });
  }
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
