// Local queue of records waiting to be uploaded (IndexedDB). Records are added by later features.

import { openDB } from '../vendor/idb-8.0.4/index.js';

const DB_NAME = 'fieldwatch';
const DB_VERSION = 1;
const STORE = 'outbox';

let dbPromise = null;

function db() {
  if (!dbPromise) {
    dbPromise = openDB(DB_NAME, DB_VERSION, {
      upgrade(database) {
        if (!database.objectStoreNames.contains(STORE)) {
          database.createObjectStore(STORE, { keyPath: 'id' });
        }
      },
    }).catch((e) => {
      dbPromise = null;
      throw e;
    });
  }
  return dbPromise;
}

/** Number of items waiting to be sent; 0 when IndexedDB is unavailable. */
export async function pendingCount() {
  try {
    return await (await db()).count(STORE);
  } catch {
    return 0;
  }
}

/** Upload whatever is queued. Nothing is queued yet, so this only reports the count left. */
export async function flush() {
  return pendingCount();
}
