// The outbox's sender: it sends the entries waiting in the store (store.js) when there is a network.
//
// - Records go first, then photos, then videos; evidence waits until its record has been accepted.
// - Every send can be repeated without creating anything twice: a record carries its own id, a photo
//   is the same bytes to the same record, and a video continues its resumable upload from the last
//   byte the server has (tus), whose URL is kept here.
// - An entry in `sending` when the app was closed goes back to `waiting`. Only the officer deletes an
//   entry that was not sent; sent entries are cleared after SENT_KEEP_MS.

import { ApiError, errorMessage, liveToken, request, uploadBlob } from './api.js';
import { discard, emit, entries, getBlob, getEntry, me, put, putSent, waitingCount } from './store.js';

const SENT_KEEP_MS = 3 * 24 * 3600 * 1000;
const CHUNK = 4 * 1024 * 1024; // one tus PATCH: small enough to lose little on a drop
// In a flapping area a window of signal may last seconds: send the moment the browser reports a
// network or any request gets through, and after a failure retry soon, backing off to a minute.
const RETRY_FIRST_MS = 2000;
const RETRY_MAX_MS = 60000;
let retryDelay = RETRY_FIRST_MS;
const PROGRESS_SAVE_MS = 1000;
const SYNC_TAG = 'fw-outbox';
// Whoever sends an entry holds the Web Lock `fw-entry-<id>`; an entry in `sending` whose lock nobody
// holds was interrupted (app closed, page reloaded) and waits again. Where Web Locks are missing, a
// lease stands in: every write while sending (a video's progress, about once a second) renews it
// (store.js).
const entryLock = (id) => `fw-entry-${id}`;

/** Run `fn` holding the entry's lock (where the browser has Web Locks). */
function holding(id, fn) {
  return navigator.locks ? navigator.locks.request(entryLock(id), fn) : fn();
}

/** Is some page sending this entry right now? */
async function beingSent(entry, held) {
  if (held) return held.has(entryLock(entry.id));
  return entry.lease > Date.now();
}

const progress = new Map(); // entry id → fraction sent, for what is in flight in this tab

/** Fraction (0..1) of an entry's bytes the server has, while it is being sent from this tab. */
export function progressOf(id) {
  return progress.has(id) ? progress.get(id) : null;
}

/** Put an entry that needs attention back in the queue as it is (e.g. after a partner renewed a certificate). */
export async function retry(id) {
  const entry = await getEntry(id);
  if (!entry || entry.state !== 'attention') return;
  entry.state = 'waiting';
  entry.error = null;
  await put(entry);
  requestFlush();
}

/**
 * The officer's certificate is valid again (reinstated, renewed): what it held back is queued once
 * more. Records refused over a partner's certificate stay for the officer to edit.
 */
export async function releaseHeld(userId) {
  let released = 0;
  for (const entry of await entries()) {
    const e = entry.error;
    if (entry.state !== 'attention' || !e || e.code !== 'certificate.invalid') continue;
    const who = e.extra && e.extra.officer_id;
    if (who && String(who) !== String(userId)) continue;
    entry.state = 'waiting';
    entry.error = null;
    await put(entry);
    released += 1;
  }
  return released;
}

/** A refusal the officer must look at (4xx other than an expired session or a rate limit). */
function isRefusal(e) {
  return e instanceof ApiError && e.status >= 400 && e.status < 500 && e.status !== 401 && e.status !== 408 && e.status !== 429;
}

function problem(e) {
  return {
    status: e.status || 0,
    code: e.code || '',
    message: errorMessage(e, { me: me() }),
    extra: e.extra || {},
    at: new Date().toISOString(),
  };
}

async function sendAction(entry) {
  try {
    const action = await request('POST', '/actions', { body: entry.payload });
    entry.state = 'sent';
    entry.sentAt = new Date().toISOString();
    entry.serverCreatedAt = action && action.created_at;
    entry.error = null;
  } catch (e) {
    if (!isRefusal(e)) throw e;
    entry.state = 'attention';
    entry.error = problem(e);
  }
  await put(entry);
  return entry;
}

function locationHeader(loc) {
  if (!loc || typeof loc.lat !== 'number' || typeof loc.lon !== 'number') return null;
  const acc = typeof loc.accuracy_m === 'number' ? `,${Math.round(loc.accuracy_m * 10) / 10}` : '';
  return `${loc.lat.toFixed(7)},${loc.lon.toFixed(7)}${acc}`;
}

async function sendPhoto(entry) {
  const blob = await getBlob(entry.id);
  if (!blob) return lost(entry);
  const headers = {
    'Content-Type': entry.contentType,
    'X-Content-SHA256': entry.sha256,
    'X-Device-Time': new Date().toISOString(),
  };
  if (entry.capturedAt) headers['X-Captured-At'] = entry.capturedAt;
  const where = locationHeader(entry.location);
  if (where) headers['X-Captured-Location'] = where;
  if (entry.filename) headers['X-Filename'] = encodeURIComponent(entry.filename);
  progress.set(entry.id, 0);
  try {
    const evidence = await uploadBlob(`/actions/${encodeURIComponent(entry.actionId)}/evidence`, blob, headers);
    return await delivered(entry, evidence && evidence.id);
  } catch (e) {
    if (!isRefusal(e)) throw e;
    entry.state = 'attention';
    entry.error = problem(e);
    return put(entry);
  } finally {
    progress.delete(entry.id);
  }
}

/** tus-js-client, loaded on the first video upload (only ever needed online); it sets `self.tus`. */
async function tusClient() {
  if (!self.tus) {
    try {
      await import('../vendor/tus-js-client-4.3.1/tus.min.js');
    } catch {
      throw new ApiError({ code: 'network.offline' });
    }
  }
  return self.tus;
}

/** The resumable upload of one video: resolves with the evidence id, rejects with an ApiError. */
async function tusUpload(entry, blob) {
  const { Upload } = await tusClient();
  let token = null;
  let rejected = null;
  let evidenceId = null;
  let lastSaved = 0;
  const metadata = {
    action_id: entry.actionId,
    filetype: entry.contentType,
    filename: entry.filename || 'video',
    device_time: new Date().toISOString(),
  };
  if (entry.capturedAt) metadata.captured_at = entry.capturedAt;
  const where = locationHeader(entry.location);
  if (where) metadata.captured_location = where;
  return new Promise((resolve, reject) => {
    const upload = new Upload(blob, {
      endpoint: '/api/v1/uploads',
      uploadUrl: entry.uploadUrl || null,
      chunkSize: CHUNK,
      retryDelays: [0, 1000, 3000, 6000],
      storeFingerprintForResuming: false,
      metadata,
      async onBeforeRequest(req) {
        token = await liveToken({ rejected });
        req.setHeader('Authorization', `Bearer ${token}`);
      },
      onAfterResponse(req, res) {
        const id = res.getHeader('Evidence-Id');
        if (id) evidenceId = id;
      },
      onShouldRetry(err) {
        const status = err.originalResponse ? err.originalResponse.getStatus() : 0;
        if (status === 401) {
          // The next request renews the token first.
          rejected = token;
          return true;
        }
        // Offline: give up now; the outbox starts again when the network returns.
        return navigator.onLine && (status === 0 || status === 409 || status === 423 || status >= 500);
      },
      onUploadUrlAvailable() {
        entry.uploadUrl = upload.url;
        put(entry).catch(() => {});
      },
      onProgress(sent, total) {
        progress.set(entry.id, total ? sent / total : 0);
        const now = Date.now();
        if (now - lastSaved > PROGRESS_SAVE_MS) {
          lastSaved = now;
          entry.sentBytes = sent;
          put(entry).catch(() => {});
        } else {
          emit();
        }
      },
      onSuccess() {
        resolve(evidenceId);
      },
      onError(err) {
        const res = err.originalResponse;
        const status = res ? res.getStatus() : 0;
        let body = {};
        try {
          body = res ? JSON.parse(res.getBody() || '{}') : {};
        } catch {
          body = {};
        }
        reject(new ApiError({ status, code: body.code || (status ? '' : 'network.offline'), detail: body.detail || '' }));
      },
    });
    upload.start();
  });
}

async function sendVideo(entry) {
  const blob = await getBlob(entry.id);
  if (!blob) return lost(entry);
  progress.set(entry.id, entry.sentBytes && entry.size ? entry.sentBytes / entry.size : 0);
  try {
    const evidenceId = await tusUpload(entry, blob);
    return await delivered(entry, evidenceId);
  } catch (e) {
    if (!isRefusal(e)) throw e;
    entry.state = 'attention';
    entry.error = problem(e);
    // A refused upload cannot be continued: a retry starts a new one.
    entry.uploadUrl = null;
    return put(entry);
  } finally {
    progress.delete(entry.id);
  }
}

async function delivered(entry, evidenceId) {
  entry.state = 'sent';
  entry.sentAt = new Date().toISOString();
  entry.evidenceId = evidenceId || null;
  entry.error = null;
  entry.sentBytes = entry.size;
  // A video's preview frame becomes its poster for the people who review it (sent next).
  entry.posterPending = entry.media === 'video' && Boolean(entry.thumb && entry.evidenceId);
  // The server has the original now; the phone keeps only the small preview.
  await putSent(entry);
  if (entry.posterPending) await sendPoster(entry);
  return entry;
}

/** A `data:` URL as a Blob (decoded here: the page's CSP does not let fetch() read data: URLs). */
function dataUrlBlob(url) {
  const [head, data] = String(url).split(',', 2);
  const type = (/^data:([^;,]+)/.exec(head) || [])[1] || 'image/jpeg';
  const bytes = Uint8Array.from(atob(data || ''), (c) => c.charCodeAt(0));
  return new Blob([bytes], { type });
}

/**
 * The poster frame of a delivered video (PUT /evidence/{id}/poster). A convenience for viewers: a
 * failure never holds the outbox up; the frame is offered again on the next send (the server keeps
 * the first it gets, so a repeat is harmless), and a refusal is final.
 */
async function sendPoster(entry) {
  let blob = null;
  try {
    blob = dataUrlBlob(entry.thumb);
  } catch {
    blob = null; // a preview that cannot be read is never offered
  }
  if (blob) {
    try {
      await uploadBlob(`/evidence/${encodeURIComponent(entry.evidenceId)}/poster`, blob,
        { 'Content-Type': blob.type }, { timeout: 30000, method: 'PUT' });
    } catch (e) {
      if (!isRefusal(e)) return; // no network now: offered again on the next send
    }
  }
  entry.posterPending = false;
  await put(entry);
}

async function lost(entry) {
  entry.state = 'attention';
  entry.error = { status: 0, code: 'outbox.blob_missing', message: '', extra: {}, at: new Date().toISOString() };
  return put(entry);
}

/** Sending order: records, then photos, then videos; evidence only once its record is accepted. */
function nextBatch(all) {
  const byId = new Map(all.map((e) => [e.id, e]));
  const ready = all.filter((e) => e.state === 'waiting');
  const actions = ready.filter((e) => e.type === 'action');
  const accepted = (e) => {
    const parent = byId.get(e.actionId);
    return !parent || parent.state === 'sent';
  };
  const photos = ready.filter((e) => e.type === 'evidence' && e.media === 'photo' && accepted(e));
  const videos = ready.filter((e) => e.type === 'evidence' && e.media !== 'photo' && accepted(e));
  return [...actions, ...photos, ...videos];
}

let flushing = null;
let retryTimer = null;

async function recover() {
  // An entry left `sending` by a closed app was interrupted: it is waiting again.
  const all = await entries();
  const old = Date.now() - SENT_KEEP_MS;
  let held = null;
  try {
    held = navigator.locks ? new Set((await navigator.locks.query()).held.map((l) => l.name)) : null;
  } catch {
    held = null;
  }
  let soonest = Infinity;
  for (const e of all) {
    if (e.state !== 'sending' || progress.has(e.id)) continue;
    if (await beingSent(e, held)) {
      if (!held) soonest = Math.min(soonest, e.lease - Date.now());
    } else {
      e.state = 'waiting';
      await put(e);
    }
  }
  // Without locks, an entry may still be in a closed app's lease: look again once it ends.
  if (soonest < Infinity) setTimeout(requestFlush, soonest + 1000);
  const stale = all.filter((e) => e.state === 'sent' && e.type === 'action' && Date.parse(e.sentAt) < old);
  for (const a of stale) {
    if (!all.some((e) => e.actionId === a.id && e.state !== 'sent')) await discard(a.id);
  }
}

/** Send one entry if it is still waiting once its lock is ours; false when there was nothing to do. */
function sendOne(id) {
  return holding(id, async () => {
    const entry = await getEntry(id);
    if (!entry || entry.state !== 'waiting') return false;
    entry.state = 'sending';
    entry.attempts = (entry.attempts || 0) + 1;
    await put(entry);
    try {
      if (entry.type === 'action') await sendAction(entry);
      else if (entry.media === 'photo') await sendPhoto(entry);
      else await sendVideo(entry);
    } catch (e) {
      // No network (or no session, or server trouble): back to waiting, try again later.
      entry.state = 'waiting';
      entry.lastTry = { at: new Date().toISOString(), code: e.code || '', status: e.status || 0 };
      await put(entry);
      throw e;
    }
    return true;
  });
}

async function run() {
  await recover();
  for (const e of await entries()) {
    if (e.state === 'sent' && e.posterPending) await sendPoster(e);
  }
  for (let round = 0; round < 1000; round += 1) {
    let tried = 0;
    for (const entry of nextBatch(await entries())) {
      if (await sendOne(entry.id)) tried += 1;
    }
    if (!tried) return;
  }
}

/**
 * Send whatever is waiting, in order. One run at a time across tabs (Web Locks). Resolves with the
 * number of entries still waiting to be sent; a network failure schedules another try.
 */
export function flush() {
  if (!flushing) {
    const locks = navigator.locks;
    const go = () => run();
    flushing = (locks ? locks.request('fw-outbox', go) : go())
      .then(() => {
        clearTimeout(retryTimer);
        retryTimer = null;
        retryDelay = RETRY_FIRST_MS;
      })
      .catch(() => {
        clearTimeout(retryTimer);
        retryTimer = setTimeout(() => {
          retryTimer = null;
          requestFlush();
        }, retryDelay);
        retryDelay = Math.min(RETRY_MAX_MS, retryDelay * 2);
      })
      .then(() => waitingCount())
      .finally(() => {
        flushing = null;
      });
  }
  return flushing;
}

/**
 * Send now if the browser says there is a network; either way ask the service worker for a
 * Background Sync, so the browser wakes the app when a network returns.
 */
export function requestFlush() {
  if (navigator.onLine) flush();
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.ready
      .then((reg) => (reg.sync ? reg.sync.register(SYNC_TAG) : null))
      .catch(() => {
        /* no Background Sync here: the online event and app start send instead */
      });
  }
}

/** Send one record at once (the form, online): resolves with its entry, rejects when offline. */
export async function sendNow(id) {
  try {
    await sendOne(id);
  } catch (e) {
    requestFlush();
    throw e;
  }
  const out = await getEntry(id);
  if (out && out.state === 'sent') requestFlush(); // its photos and videos follow
  return out;
}

/**
 * A request just reached the server: if the outbox is waiting out a failure, the network is back —
 * send now instead of at the end of the backoff.
 */
export function serverReached() {
  if (retryTimer && !flushing) {
    clearTimeout(retryTimer);
    retryTimer = null;
    flush();
  }
}

window.addEventListener('online', () => flush());

// The service worker's Background Sync asks an open page to send; it answers when done.
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.addEventListener('message', (event) => {
    if (!event.data || event.data.type !== 'outbox-flush') return;
    const port = event.ports && event.ports[0];
    flush().then((left) => port && port.postMessage({ left }));
  });
}
