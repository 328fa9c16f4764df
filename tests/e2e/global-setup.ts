/**
 * Serves the built app (dist/, made by `vite build` before this suite) and, for harness pages that test
 * modules in the real browser, a Vite dev server over the repository. Their URLs reach the tests through
 * `inject('appUrl')` / `inject('harnessUrl')`.
 */
import { existsSync } from 'node:fs';
import { createServer, preview } from 'vite';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    appUrl: string;
    harnessUrl: string;
  }
}

export default async function setup(project: TestProject) {
  if (!existsSync('dist/index.html')) throw new Error('dist/ is missing: the e2e suite tests the built app. Run `npm run test:e2e` (it builds first).');
  const app = await preview({ preview: { host: '127.0.0.1', port: 0, strictPort: false }, logLevel: 'warn' });
  const dev = await createServer({ server: { host: '127.0.0.1', port: 0, hmr: false }, logLevel: 'warn', optimizeDeps: { noDiscovery: true } });
  await dev.listen();
  const appUrl = app.resolvedUrls!.local[0];
  const harnessUrl = dev.resolvedUrls!.local[0];
  project.provide('appUrl', appUrl);
  project.provide('harnessUrl', harnessUrl);
  return async () => {
    await new Promise<void>((r) => app.httpServer.close(() => r()));
    await dev.close();
  };
}
