// Service worker: precached app shell, network-first navigations, cache-first shell assets.
// API responses (/api/) are never cached.
// Any change to a SHELL file needs a new VERSION: run scripts/bump_shell.py (tests/e2e checks the digest).
// shell digest: 34047eedaad37f3b34d65c73b3f3d96e9f9e330235d5207aa11b4d7121c9575d

const VERSION = 'fw-shell-v4';
const CACHE_PREFIX = 'fw-shell-';

const SHELL = [
  '/index.html',
  '/manifest.webmanifest',
  '/css/app.css',
  '/js/app.js',
  '/js/api.js',
  '/js/dom.js',
  '/js/enforcement.js',
  '/js/i18n.js',
  '/js/net.js',
  '/js/outbox.js',
  '/js/pages/action-new.js',
  '/js/pages/actions.js',
  '/js/pages/cases.js',
  '/js/pages/common.js',
  '/js/pages/login.js',
  '/js/pages/officer.js',
  '/js/pages/review.js',
  '/js/pages/roles.js',
  '/vendor/idb-8.0.4/index.js',
  '/icons/favicon-32.png',
  '/icons/apple-touch-icon.png',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
  '/icons/maskable-192.png',
  '/icons/maskable-512.png',
];
const SHELL_SET = new Set(SHELL);

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(VERSION);
      // Bypass the HTTP cache so a new version never precaches stale files.
      await cache.addAll(SHELL.map((url) => new Request(url, { cache: 'reload' })));
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
  const response = await fetch(request);
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
