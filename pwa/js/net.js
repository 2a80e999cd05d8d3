// Connectivity state shown at the top of every screen: online / offline / syncing.

const listeners = new Set();
let browserOnline = navigator.onLine;
let serverReachable = true;
let syncing = 0;

export function getNetState() {
  if (!browserOnline || !serverReachable) return 'offline';
  return syncing > 0 ? 'syncing' : 'online';
}

export function isOnline() {
  return getNetState() !== 'offline';
}

function emit() {
  const state = getNetState();
  for (const fn of listeners) fn(state);
}

export function onNetChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Feed from the API layer: did the last request reach the server? */
export function setServerReachable(ok) {
  if (ok === serverReachable) return;
  serverReachable = ok;
  emit();
}

/** Run `fn` while showing the syncing state. */
export async function withSync(fn) {
  syncing += 1;
  emit();
  try {
    return await fn();
  } finally {
    syncing -= 1;
    emit();
  }
}

window.addEventListener('online', () => {
  browserOnline = true;
  serverReachable = true;
  emit();
});
window.addEventListener('offline', () => {
  browserOnline = false;
  emit();
});
