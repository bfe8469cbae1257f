// The scanner's service worker (served at /scan/sw.js, which prepends VERSION and SHELL:
// the page and the scanner's own static files, not the dashboard's or the public page's).
// It keeps the app shell so the scanner opens with no network. The static files are
// answered from the cache at once and refreshed behind it; the API is never cached here
// (the app keeps what it needs in IndexedDB).
/* global VERSION, SHELL */

const CACHE = `jejak-scan-${VERSION}`;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith("jejak-scan-") && n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

// The page itself is asked of the network first (in the language asked for: ?lang=en or
// the remembered choice), the cached copy answering when there is none or it is slow.
const PAGE_WAIT = 3000; // ms

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin) return;
  const shell = url.pathname === "/scan" || url.pathname.startsWith("/static/");
  if (!shell) return;
  // The page is cached under /scan whatever its query (?lang=en): one copy, the last opened.
  const page = url.pathname === "/scan";
  const key = page ? "/scan" : event.request;
  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      // ignoreVary: the CORS layer marks answers "Vary: Origin", and a module script's
      // request carries an Origin its precached copy was fetched without.
      const cached = await cache.match(key, { ignoreVary: true });
      const fresh = fetch(event.request)
        .then((response) => {
          if (response.ok) cache.put(key, response.clone());
          return response;
        })
        .catch(() => cached);
      if (cached && page) {
        const late = new Promise((resolve) => setTimeout(() => resolve(cached), PAGE_WAIT));
        event.waitUntil(fresh);
        return Promise.race([fresh.then((r) => (r?.ok ? r : cached)), late]);
      }
      if (cached) {
        event.waitUntil(fresh);
        return cached;
      }
      return fresh;
    }),
  );
});
