#!/usr/bin/env node
// Writes the tiny fixture models to tests/fixtures/generated/ (what tools/golden/ reads).
// Usage: node scripts/make-fixtures.mjs [name ...]   (default: all). TS is loaded through Vite's SSR loader.
import { createServer } from 'vite';

const server = await createServer({ server: { middlewareMode: true, hmr: false }, appType: 'custom', logLevel: 'error', configFile: false });
try {
  const { FIXTURES } = await server.ssrLoadModule('/src/model/fixtures.ts');
  const { writeFixture } = await server.ssrLoadModule('/tests/helpers/fixtures.ts');
  const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(FIXTURES);
  for (const name of names) {
    const t0 = performance.now();
    const fx = writeFixture(name);
    console.log(`${fx.dir} (${(performance.now() - t0).toFixed(0)} ms)`);
  }
} finally {
  await server.close();
}
