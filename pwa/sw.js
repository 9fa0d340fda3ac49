// Service worker: the app shell cache-first (versioned cache names: a new VERSION installs
// a new cache and waits until the user accepts the update), API reads of drafts and
// lists network-first with the last good copy as the offline fallback.
const VERSION = "2026-12-03.6";
const SHELL = `yjs-shell-${VERSION}`;
const DATA = "yjs-data-v1";
const SHELL_ASSETS = [
  "/", "/app.js", "/journey.js", "/pwa.css", "/manifest.webmanifest", "/icons/icon.svg", "/icons/icon-192.png", "/icons/icon-512.png",
  "/shared/tokens.css", "/shared/components.css", "/shared/i18n.js", "/shared/api.js", "/shared/prefs.js", "/shared/guides.js", "/shared/ui.js",
  "/shared/schema-form.js", "/shared/drafts.js", "/shared/qr.js", "/shared/upload.js", "/vendor/qrcode-generator/qrcode.mjs", "/shared/messages/zh-CN.json", "/shared/messages/en.json",
];
const NETWORK_FIRST = [/^\/api\/v1\/cases\/?$/, /^\/api\/v1\/cases\/[^/]+$/, /^\/api\/v1\/catalog$/, /^\/api\/v1\/me$/, /^\/api\/v1\/enterprises\/[^/]+$/, /^\/api\/v1\/notifications$/];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(SHELL_ASSETS)));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name.startsWith("yjs-shell-") && name !== SHELL) await caches.delete(name);
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data?.type === "SKIP_WAITING") self.skipWaiting();
  if (event.data?.type === "CLEAR_DATA") event.waitUntil(caches.delete(DATA));
});

async function networkFirst(request) {
  const cache = await caches.open(DATA);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(request);
    if (cached) return cached;
    throw error;
  }
}

async function cacheFirst(request) {
  const cached = await caches.match(request, { ignoreSearch: request.mode === "navigate" });
  if (cached) return cached;
  const response = await fetch(request);
  return response;
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== location.origin) return;
  if (request.mode === "navigate" && (url.pathname === "/" || url.pathname === "/index.html")) {
    event.respondWith(cacheFirst(new Request("/")));
    return;
  }
  if (NETWORK_FIRST.some((re) => re.test(url.pathname))) {
    event.respondWith(networkFirst(request));
    return;
  }
  if (SHELL_ASSETS.includes(url.pathname)) event.respondWith(cacheFirst(request));
});
