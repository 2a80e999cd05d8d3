// Data kept for offline use (the catalogue, recent records): the last answer of a read, in the
// IndexedDB store 'cache' under the signed-in user, shown when there is no network.

import { ApiError } from './api.js';
import { CACHE, db, me } from './store.js';

/**
 * `load()` from the network, keeping a copy under `key`; without a network, the copy. Resolves to
 * { value, savedAt, offline }. Server refusals are not hidden behind the copy.
 */
export async function cached(key, load) {
  const full = `${me()}:${key}`;
  try {
    const value = await load();
    try {
      await (await db()).put(CACHE, { key: full, value, savedAt: new Date().toISOString() });
    } catch {
      /* no room to keep a copy: the answer is still good */
    }
    return { value, savedAt: null, offline: false };
  } catch (e) {
    if (!isNetworkError(e)) throw e;
    const row = await (await db()).get(CACHE, full).catch(() => null);
    if (!row) throw e;
    return { value: row.value, savedAt: row.savedAt, offline: true };
  }
}

function isNetworkError(e) {
  return e instanceof ApiError ? e.status === 0 || e.code === 'network.offline' || e.code === 'network.timeout' : true;
}
