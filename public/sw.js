/*
 * IFT Lab's service worker: after the first visit the app works without a network.
 * - install: caches every file listed in precache.json (written by the build: the app and the toy model);
 * - app files: cache first (their names carry a content hash);
 * - the page itself: network first, the cached copy when offline;
 * - models/ and ort/ (onnxruntime-web's WebAssembly): cache first, fetched and kept on first use.
 * Hugging Face Hub downloads are not touched here: the lab's model loader keeps its own cache.
 */
const PREFIX = 'ift-lab-';
const RUNTIME = `${PREFIX}runtime`;

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const res = await fetch('precache.json', { cache: 'no-store' });
      const { version, files } = await res.json();
      const cache = await caches.open(`${PREFIX}app-${version}`);
      await cache.addAll(files);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      const current = await currentAppCache();
      await Promise.all(names.filter((n) => n.startsWith(`${PREFIX}app-`) && n !== current).map((n) => caches.delete(n)));
      await self.clients.claim();
    })(),
  );
});

/** The newest app cache (the one install just filled; caches.keys() lists in creation order). */
async function currentAppCache() {
  const names = (await caches.keys()).filter((n) => n.startsWith(`${PREFIX}app-`));
  return names[names.length - 1];
}

const scope = new URL(self.registration.scope);
const inScope = (url, dir) => url.origin === scope.origin && url.pathname.startsWith(scope.pathname + dir);

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== scope.origin) return;
  if (req.mode === 'navigate') {
    event.respondWith(networkFirst(req));
  } else if (inScope(url, 'models/') || inScope(url, 'ort/')) {
    event.respondWith(cacheFirst(req, RUNTIME));
  } else {
    event.respondWith(cacheFirst(req, null));
  }
});

async function networkFirst(req) {
  try {
    const res = await fetch(req);
    return res;
  } catch {
    return (await caches.match(req, { ignoreSearch: true })) ?? (await caches.match(new URL('index.html', scope).href)) ?? Response.error();
  }
}

async function cacheFirst(req, keepIn) {
  const hit = await caches.match(req);
  if (hit) return hit;
  const res = await fetch(req);
  if (keepIn && res.ok && res.status === 200) {
    const cache = await caches.open(keepIn);
    await cache.put(req, res.clone());
  }
  return res;
}
