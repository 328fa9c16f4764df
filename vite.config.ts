import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { offline } from './scripts/vite-offline.mjs';
import { wat } from './scripts/vite-wat.mjs';

/**
 * Cross-origin isolation: with these two headers the page may use SharedArrayBuffer, which threads on the CPU
 * backend need (the backend runs one thread today: this is groundwork). Everything the app loads comes from
 * its own origin (the Worker, the toy model, onnxruntime-web's wasm in ort/) or by CORS fetch (the Hub), which
 * require-corp allows. Static hosting must send the same headers (README, "Hosting").
 */
export const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } as const;

// One config for the app and its three test suites. The GPU suite runs kernels in Node through Dawn
// (scripts/gpu-env.mjs points Dawn at SwiftShader); the e2e suite drives the built app in Chromium.
export default defineConfig({
  base: './',
  plugins: [svelte(), offline(), wat()],
  // The lab Worker is bundled apart: it needs the .wat plugin too (the CPU backend's SIMD kernel).
  worker: { format: 'es', plugins: () => [wat()] },
  build: {
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 4096,
    rollupOptions: { input: { main: 'index.html', bench: 'bench.html' } },
  },
  preview: { host: '127.0.0.1', port: 5173, headers: { ...ISOLATION_HEADERS } },
  server: { headers: { ...ISOLATION_HEADERS } },
  test: {
    projects: [
      {
        extends: true,
        // Some cases generate whole worlds or parse all of MMLU: seconds on a busy 2-core machine.
        test: { name: 'unit', include: ['tests/unit/**/*.test.ts'], environment: 'node', testTimeout: 60_000 },
      },
      {
        extends: true,
        test: {
          name: 'gpu',
          include: ['tests/gpu/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          // One Dawn instance per worker; SwiftShader already uses every core.
          pool: 'forks',
          fileParallelism: false,
          // Inert unless IFT_READBACK_HASHES is set (shader refactors checked bit for bit).
          setupFiles: ['tests/helpers/readback-hashes.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          globalSetup: ['tests/e2e/global-setup.ts'],
        },
      },
    ],
  },
});
