// Service worker: precached app shell, network-first navigations, cache-first shell assets.
// API responses (/api/) are never cached. The desk-only files (ON_DEMAND: the command center and
// supervisor views, the map library) belong to the shell version but are cached on first use, so a
// phone does not download them at install.
// Any change to a SHELL file needs a new VERSION: run scripts/bump_shell.py (tests/e2e checks the digest).
// shell digest: 5e76d015219b6becccae32864537b619bcbeac6d97c51514ea31a9645f35c483

const VERSION = 'fw-shell-v15';
const CACHE_PREFIX = 'fw-shell-';

const SHELL = [
  '/index.html',
  '/manifest.webmanifest',
  '/css/app.css',
  '/css/spotcheck.css',
  '/js/app.js',
  '/js/api.js',
  '/js/camera.js',
  '/js/dom.js',
  '/js/duty.js',
  '/js/enforcement.js',
  '/js/i18n.js',
  '/js/live.js',
  '/js/net.js',
  '/js/outbox.js',
  '/js/pages/action-new.js',
  '/js/pages/actions.js',
  '/js/pages/cases.js',
  '/js/pages/command.js',
  '/js/pages/common.js',
  '/js/pages/evidence.js',
  '/js/pages/invite.js',
  '/js/pages/login.js',
  '/js/pages/officer.js',
  '/js/pages/review.js',
  '/js/pages/roles.js',
  '/js/pages/spotcheck-admin.js',
  '/js/pages/spotcheck-common.js',
  '/js/pages/spotcheck-officer.js',
  '/js/pages/spotcheck-view.js',
  '/js/pages/spotcheck.js',
  '/js/pages/supervisor.js',
  '/js/pages/watch.js',
  '/vendor/idb-8.0.4/index.js',
  '/vendor/leaflet-1.9.4/leaflet.css',
  '/vendor/leaflet-1.9.4/leaflet.js',
  '/icons/favicon-32.png',
  '/icons/apple-touch-icon.png',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
  '/icons/maskable-192.png',
  '/icons/maskable-512.png',
];
const SHELL_SET = new Set(SHELL);
const ON_DEMAND = new Set([
  '/js/pages/command.js',
  '/js/pages/supervisor.js',
  '/js/pages/watch.js',
  '/vendor/leaflet-1.9.4/leaflet.css',
  '/vendor/leaflet-1.9.4/leaflet.js',
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
