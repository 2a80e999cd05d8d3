// The phone's IndexedDB database 'fieldwatch': the outbox's entries with their photos and videos, and
// the copies kept for reading offline (offline-cache.js). Every record and every photo or video an
// officer makes is written here first and sent from here (sender.js) when there is a network, so
// nothing depends on having signal.
//
// An entry is an action (the record) or a piece of evidence linked to one. Its state:
//
//   draft ──save──▶ waiting ──▶ sending ──▶ sent
//     ▲                ▲           │
//     │                └─(no net)──┤
//     └────(edit)─── attention ◀───┘  (the server refused it; its reason is kept)
//
// Only the officer deletes an entry that was not sent; the sender clears sent entries after a while.

import { openDB } from '../vendor/idb-8.0.4/index.js';
import { getCachedUser } from './api.js';

const DB_NAME = 'fieldwatch';
const DB_VERSION = 2;
const ENTRIES = 'outbox';
const BLOBS = 'blobs';
export const CACHE = 'cache';

export const STATES = ['draft', 'waiting', 'sending', 'sent', 'attention'];
// The lease of an entry in `sending`, renewed by every write: it stands in for the sender's Web Lock
// where the browser has none (sender.js).
const LEASE_MS = 3 * 60 * 1000;

let dbPromise = null;

export function db() {
  if (!dbPromise) {
    dbPromise = openDB(DB_NAME, DB_VERSION, {
      upgrade(database) {
        if (!database.objectStoreNames.contains(ENTRIES)) database.createObjectStore(ENTRIES, { keyPath: 'id' });
        if (!database.objectStoreNames.contains(BLOBS)) database.createObjectStore(BLOBS, { keyPath: 'id' });
        if (!database.objectStoreNames.contains(CACHE)) database.createObjectStore(CACHE, { keyPath: 'key' });
      },
      blocking() {
        // A newer version of the app opened the database in another tab: let it upgrade.
        if (dbPromise) dbPromise.then((d) => d.close()).catch(() => {});
        dbPromise = null;
      },
    }).catch((e) => {
      dbPromise = null;
      throw e;
    });
  }
  return dbPromise;
}

// ---- change notifications (this tab and the others) ----------------------------------------

const listeners = new Set();
const channel = 'BroadcastChannel' in self ? new BroadcastChannel('fw-outbox') : null;

/** Tell the listeners that an entry changed, and the other tabs too when the change is this tab's. */
export function emit(local = true) {
  for (const fn of listeners) fn();
  if (local && channel) channel.postMessage('changed');
}
if (channel) channel.onmessage = () => emit(false);

/** Call `fn` whenever an entry changes (here or in another tab). Returns the unsubscribe function. */
export function onOutboxChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

// ---- storage --------------------------------------------------------------------------------

/** The signed-in user's id: entries and cached copies are kept per user. */
export function me() {
  const u = getCachedUser();
  return u ? String(u.id) : '';
}

/** Save an entry (stamped, with its lease renewed while it is being sent) and tell the listeners. */
export async function put(entry) {
  entry.updatedAt = new Date().toISOString();
  entry.lease = entry.state === 'sending' ? Date.now() + LEASE_MS : null;
  await (await db()).put(ENTRIES, entry);
  emit();
  return entry;
}

export async function getEntry(id) {
  return (await db()).get(ENTRIES, id);
}

export async function getBlob(id) {
  const row = await (await db()).get(BLOBS, id);
  return row ? row.blob : null;
}

/** The signed-in officer's entries, oldest first. */
export async function entries() {
  const all = await (await db()).getAll(ENTRIES);
  const mine = me();
  return all.filter((e) => e.userId === mine).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.seq - b.seq);
}

/** Entries that are in the queue: not sent, and not a draft or a draft's photo or video. */
function queued(all, states = ['waiting', 'sending', 'attention']) {
  const drafts = new Set(all.filter((e) => e.state === 'draft').map((e) => e.id));
  return all.filter((e) => states.includes(e.state) && !drafts.has(e.actionId));
}

/** Number of entries not yet sent (drafts excluded); 0 when IndexedDB is unavailable. */
export async function pendingCount() {
  try {
    return queued(await entries()).length;
  } catch {
    return 0;
  }
}

/** Number of entries the next flush would try to send. */
export async function waitingCount() {
  try {
    return queued(await entries(), ['waiting', 'sending']).length;
  } catch {
    return 0;
  }
}

let seq = 0;

async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** A new or updated action entry. `payload` is the body of POST /actions, `draft` the form's fields. */
export async function saveAction({ id, payload, draft, summary, state }) {
  const old = await getEntry(id);
  if (old && old.state === 'sent') throw new Error('already sent');
  const now = new Date().toISOString();
  return put({
    ...(old || { id, type: 'action', userId: me(), createdAt: now, seq: seq++, attempts: 0 }),
    // A draft being corrected keeps what was last submitted, so "send again as it is" still can.
    payload: payload || (old ? old.payload : null),
    draft,
    summary,
    state,
    error: state === 'waiting' ? null : old ? old.error : null,
  });
}

/**
 * Keep a photo or video for the action `actionId` (its entry may still be a draft). `meta`:
 * { media: 'photo'|'video', contentType, filename, capturedAt, location, thumb }.
 */
export async function addMedia(actionId, blob, meta) {
  const id = crypto.randomUUID();
  const sha256 = meta.media === 'photo' ? await sha256Hex(blob) : null;
  const entry = {
    id,
    type: 'evidence',
    userId: me(),
    actionId,
    createdAt: new Date().toISOString(),
    seq: seq++,
    state: 'waiting',
    attempts: 0,
    size: blob.size,
    sha256,
    uploadUrl: null,
    evidenceId: null,
    error: null,
    ...meta,
  };
  const d = await db();
  const tx = d.transaction([ENTRIES, BLOBS], 'readwrite');
  await Promise.all([tx.objectStore(BLOBS).put({ id, blob }), tx.objectStore(ENTRIES).put(entry), tx.done]);
  emit();
  return entry;
}

/** Delete an entry the officer chose to give up (an action takes its evidence with it). */
export async function discard(id) {
  const entry = await getEntry(id);
  if (!entry) return;
  const doomed = entry.type === 'action' ? (await entries()).filter((e) => e.actionId === id).concat(entry) : [entry];
  const d = await db();
  const tx = d.transaction([ENTRIES, BLOBS], 'readwrite');
  for (const e of doomed) {
    tx.objectStore(ENTRIES).delete(e.id);
    tx.objectStore(BLOBS).delete(e.id);
  }
  await tx.done;
  emit();
}

/** Save a piece of evidence the server has accepted and delete its bytes, in one transaction. */
export async function putSent(entry) {
  const d = await db();
  const tx = d.transaction([ENTRIES, BLOBS], 'readwrite');
  await Promise.all([tx.objectStore(BLOBS).delete(entry.id), tx.objectStore(ENTRIES).put(entry), tx.done]);
  emit();
  return entry;
}

// ---- storage pressure ----------------------------------------------------------------------

/** Ask the browser not to evict the outbox under storage pressure; true when granted. */
export async function keepStorage() {
  try {
    if (!navigator.storage || !navigator.storage.persist) return false;
    if (await navigator.storage.persisted()) return true;
    return await navigator.storage.persist();
  } catch {
    return false;
  }
}

/** { usage, quota, persisted } in bytes, or null where the browser does not say. */
export async function storageInfo() {
  try {
    if (!navigator.storage || !navigator.storage.estimate) return null;
    const { usage = 0, quota = 0 } = await navigator.storage.estimate();
    const persisted = navigator.storage.persisted ? await navigator.storage.persisted() : false;
    return { usage, quota, persisted };
  } catch {
    return null;
  }
}

/** True when `bytes` more would leave less than 10 % of the quota free. */
export async function nearQuota(bytes = 0) {
  const info = await storageInfo();
  if (!info || !info.quota) return false;
  return info.usage + bytes > info.quota * 0.9;
}
