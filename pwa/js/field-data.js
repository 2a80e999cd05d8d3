// What an officer needs without signal, kept on the phone from sign-in on: the items each of their
// units may act on (own and delegated), the unit's officers with their certificate status (the
// partners), the spot-check checklist, and the first page of their own records. Refreshed in the background while the app is open, so
// the copy is never older than the last time the phone had a network.

import { MY_ACTIONS_KEY, api, myActions } from './enforcement.js';
import { cached } from './offline-cache.js';
import { request } from './api.js';

const REFRESH_EVERY_MS = 15 * 60 * 1000;
const SAVED_KEY = 'fw.fieldData';

const listeners = new Set();
let running = null;
let timer = null;

function isOfficer(user) {
  return Boolean(user && Array.isArray(user.roles) && user.roles.includes('officer'));
}

function unitsOf(user) {
  return Array.isArray(user && user.units) ? user.units : [];
}

/** When the whole set was last saved for this user (ISO time), or null. */
export function fieldDataSavedAt(user) {
  try {
    const v = JSON.parse(localStorage.getItem(`${SAVED_KEY}.${user.id}`) || 'null');
    return v && typeof v.savedAt === 'string' ? v.savedAt : null;
  } catch {
    return null;
  }
}

export function onFieldDataChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/**
 * Fetch and keep everything the officer's offline screens read. Resolves to the time it was saved,
 * or null when the network failed (the older copy stays). One refresh at a time.
 */
export function refreshFieldData(user) {
  if (!isOfficer(user) || !navigator.onLine) return Promise.resolve(null);
  if (running) return running;
  running = (async () => {
    const loads = [
      cached('checklist', () => request('GET', '/spot-checks/checklist')),
      cached(MY_ACTIONS_KEY, () => myActions(user)),
    ];
    for (const u of unitsOf(user)) {
      loads.push(cached(`items:${u.id}`, () => api.items(u.id)));
      loads.push(cached(`officers:${u.id}`, () => api.officers(u.id)));
    }
    const results = await Promise.allSettled(loads);
    if (results.some((r) => r.status === 'rejected' || r.value.offline)) return null;
    const savedAt = new Date().toISOString();
    try {
      localStorage.setItem(`${SAVED_KEY}.${user.id}`, JSON.stringify({ savedAt }));
    } catch {
      /* storage blocked: the copies themselves are kept in IndexedDB */
    }
    for (const fn of listeners) fn(savedAt);
    return savedAt;
  })().finally(() => {
    running = null;
  });
  return running;
}

/** Keep the copy fresh while the app is open: now, every REFRESH_EVERY_MS, and when the network returns. */
export function keepFieldDataFresh(user) {
  clearInterval(timer);
  timer = null;
  if (!isOfficer(user)) return;
  refreshFieldData(user).catch(() => {});
  timer = setInterval(() => refreshFieldData(user).catch(() => {}), REFRESH_EVERY_MS);
}
