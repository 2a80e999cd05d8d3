// Service worker: precached app shell, network-first navigations, cache-first shell assets.
// API responses (/api/) are never cached. The desk-only files (ON_DEMAND: the command center and
// supervisor views, the map library) and the resumable-upload library (needed only once online)
// belong to the shell version but are cached on first use, so a phone does not download them at install.
// Any change to a SHELL file needs a new VERSION: run scripts/bump_shell.py (tests/e2e checks the digest).
// shell digest: 0371489eaa0796de13a3632f09941ca8b147e7b6218e762cd9504331b0bc53da

const VERSION = 'fw-shell-v85';
const CACHE_PREFIX = 'fw-shell-';

const SHELL = [
  '/js/pages/today.js',
  '/js/i18n-today.js',
  '/index.html',
  '/manifest.webmanifest',
  '/css/app.css',
  '/css/spotcheck.css',
  '/css/documents.css',
  '/css/reports.css',
  '/css/meetings.css',
  '/js/app.js',
  '/js/api.js',
  '/js/camera.js',
  '/js/caps.js',
  '/js/charts.js',
  '/js/documents.js',
  '/js/dom.js',
  '/js/duty.js',
  '/js/enforcement.js',
  '/js/field-data.js',
  '/js/i18n-channels.js',
  '/js/i18n-docs.js',
  '/js/i18n-training.js',
  '/js/i18n-retention.js',
  '/js/i18n-reports.js',
  '/js/i18n-org.js',
  '/js/i18n-oversight.js',
  '/js/i18n-en.js',
  '/js/i18n-meetings.js',
  '/js/i18n-admin.js',
  '/js/i18n-imports.js',
  '/js/reports.js',
  '/js/retention.js',
  '/js/i18n-share.js',
  '/js/share.js',
  '/js/i18n.js',
  '/js/live.js',
  '/js/media.js',
  '/js/net.js',
  '/js/offline-cache.js',
  '/js/pages/action-new.js',
  '/js/pages/actions.js',
  '/js/pages/assessment.js',
  '/js/pages/case-reviews.js',
  '/js/pages/meetings.js',
  '/js/pages/oversight.js',
  '/js/pages/cases.js',
  '/js/pages/clocks.js',
  '/js/pages/channels.js',
  '/js/pages/command.js',
  '/js/pages/common.js',
  '/js/pages/documents-card.js',
  '/js/pages/documents.js',
  '/js/pages/evidence.js',
  '/js/pages/inbox.js',
  '/js/pages/invite.js',
  '/js/pages/login.js',
  '/js/pages/officer.js',
  '/js/pages/outbox.js',
  '/js/pages/reports.js',
  '/js/pages/enforcement-list.js',
  '/js/pages/audit.js',
  '/js/pages/admin.js',
  '/js/pages/reset.js',
  '/js/pages/imports.js',
  '/js/pages/review.js',
  '/js/pages/roles.js',
  '/js/pages/spotcheck-admin.js',
  '/js/pages/spotcheck-common.js',
  '/js/pages/spotcheck-officer.js',
  '/js/pages/spotcheck-view.js',
  '/js/pages/spotcheck.js',
  '/js/pages/supervisor.js',
  '/js/pages/tasks.js',
  '/js/pages/training.js',
  '/js/pages/retention.js',
  '/js/pages/shares.js',
  '/js/i18n-roster.js',
  '/js/pages/nominate.js',
  '/js/pages/nominations.js',
  '/js/pages/shared.js',
  '/js/qr-scan.js',
  '/js/pages/watch.js',
  '/js/sender.js',
  '/js/store.js',
  '/js/widgets.js',
  '/vendor/idb-8.0.4/index.js',
  '/vendor/leaflet-1.9.4/leaflet.css',
  '/vendor/leaflet-1.9.4/leaflet.js',
  '/vendor/jsqr-1.4.0/jsQR.js',
  '/vendor/tus-js-client-4.3.1/tus.min.js',
  '/icons/favicon-32.png',
  '/icons/apple-touch-icon.png',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
  '/icons/maskable-192.png',
  '/icons/maskable-512.png',
];
const SHELL_SET = new Set(SHELL);
const ON_DEMAND = new Set([
  '/js/pages/roles.js',
  '/css/reports.css',
  '/css/meetings.css',
  '/js/charts.js',
  '/js/i18n-reports.js',
  '/js/i18n-org.js',
  '/js/i18n-oversight.js',
  '/js/i18n-en.js',
  '/js/i18n-meetings.js',
  '/js/i18n-admin.js',
  '/js/i18n-imports.js',
  '/js/reports.js',
  '/js/pages/assessment.js',
  '/js/pages/case-reviews.js',
  '/js/pages/meetings.js',
  '/js/pages/oversight.js',
  '/js/pages/reports.js',
  '/js/pages/enforcement-list.js',
  '/js/pages/audit.js',
  '/js/pages/admin.js',
  '/js/pages/reset.js',
  '/js/pages/imports.js',
  '/js/documents.js',
  '/js/i18n-channels.js',
  '/js/i18n-docs.js',
  '/js/pages/channels.js',
  '/js/i18n-training.js',
  '/js/i18n-retention.js',
  '/js/retention.js',
  '/js/pages/command.js',
  '/js/pages/documents-card.js',
  '/js/pages/documents.js',
  '/js/pages/inbox.js',
  '/js/pages/supervisor.js',
  '/js/pages/tasks.js',
  '/js/pages/training.js',
  '/js/pages/retention.js',
  '/js/pages/shares.js',
  '/js/i18n-roster.js',
  '/js/pages/nominate.js',
  '/js/pages/nominations.js',
  '/js/pages/shared.js',
  '/js/qr-scan.js',
  '/js/pages/watch.js',
  '/vendor/leaflet-1.9.4/leaflet.css',
  '/vendor/leaflet-1.9.4/leaflet.js',
  '/vendor/jsqr-1.4.0/jsQR.js',
  '/vendor/tus-js-client-4.3.1/tus.min.js',
]);

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(VERSION);
      // Bypass the HTTP cache so a new version never precaches stale files.
      const now = SHELL.filter((url) => !ON_DEMAND.has(url));
      await cache.addAll(now.map((url) => new Request(url, { cache: 'reload' })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(
        names.filter((n) => n.startsWith(CACHE_PREFIX) && n !== VERSION).map((n) => caches.delete(n)),
      );
      await self.clients.claim();
    })(),
  );
});

function isApi(url) {
  return url.pathname === '/api' || url.pathname.startsWith('/api/');
}

async function networkFirstNavigation(request) {
  const cache = await caches.open(VERSION);
  try {
    const response = await fetch(request);
    // Keep the cached shell page fresh when the network serves it.
    const path = new URL(request.url).pathname;
    if (response.ok && !response.redirected && (path === '/' || path === '/index.html')) {
      await cache.put('/index.html', response.clone());
    }
    return response;
  } catch (err) {
    const cached = await cache.match('/index.html');
    if (cached) return cached;
    throw err;
  }
}

async function cacheFirst(request, path) {
  const cache = await caches.open(VERSION);
  const cached = await cache.match(path);
  if (cached) return cached;
  // Past the HTTP cache, as at install: this copy must match the shell version.
  const response = await fetch(new Request(request, { cache: 'reload' }));
  if (response.ok) await cache.put(path, response.clone());
  return response;
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (isApi(url)) return; // straight to the network, never cached
  if (request.mode === 'navigate') {
    event.respondWith(networkFirstNavigation(request));
    return;
  }
  if (SHELL_SET.has(url.pathname)) {
    event.respondWith(cacheFirst(request, url.pathname));
  }
  // anything else: default network handling
});

// Background Sync: when the browser sees a network again it wakes this worker, which asks an open
// page to send its outbox (the page holds the session) and waits for its answer. With no page open
// the sync fails and the browser tries again later; the app also sends on start and on `online`.
const SYNC_TAG = 'fw-outbox';
const SYNC_WAIT_MS = 5 * 60 * 1000;

function askPageToFlush(client) {
  return new Promise((resolve, reject) => {
    const channel = new MessageChannel();
    const timer = setTimeout(() => reject(new Error('no answer')), SYNC_WAIT_MS);
    channel.port1.onmessage = (event) => {
      clearTimeout(timer);
      if (event.data && event.data.left > 0) reject(new Error('items left'));
      else resolve();
    };
    client.postMessage({ type: 'outbox-flush' }, [channel.port2]);
  });
}

self.addEventListener('sync', (event) => {
  if (event.tag !== SYNC_TAG) return;
  event.waitUntil(
    (async () => {
      const pages = await self.clients.matchAll({ type: 'window' });
      if (!pages.length) throw new Error('no page open to send the outbox');
      await askPageToFlush(pages[0]);
    })(),
  );
});
