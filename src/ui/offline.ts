/** Registers the service worker (public/sw.js) in production builds only: dev keeps hot reload simple. */
export function registerServiceWorker(): void {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('./sw.js').catch((e: unknown) => {
    // Offline use is a bonus: the app works without it, so this is a warning, not an error.
    console.warn('IFT Lab: offline support is unavailable:', e);
  });
}
