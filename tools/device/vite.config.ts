import { basename } from 'node:path';
import { defineConfig } from 'vite';

// IFT_DEVICE_ENTRY picks another entry (default the benchmark); the bundle is named after it.
const entry = process.env.IFT_DEVICE_ENTRY ?? 'bench/node.ts';
const name = entry === 'bench/node.ts' ? 'bench' : basename(entry).replace(/\.ts$/, '');

// The benchmark as one self-contained ESM file for a machine with no npm (the lent GPU machine): every
// JavaScript dependency is bundled; only the native packages stay external (they travel beside it, see
// pack.sh). sharp (transformers.js's image decoder, never used by the lab) is replaced by an empty module
// so its 20 MB native build does not have to travel.
export default defineConfig({
  root: new URL('../..', import.meta.url).pathname,
  publicDir: false,
  resolve: { alias: { sharp: new URL('./no-sharp.mjs', import.meta.url).pathname } },
  ssr: { noExternal: true, external: ['webgpu', 'onnxruntime-node'] },
  build: {
    ssr: true,
    outDir: '.device',
    emptyOutDir: false,
    target: 'node20',
    minify: false,
    rollupOptions: {
      input: { [name]: entry },
      external: (id) => id.startsWith('node:') || id === 'webgpu' || id.startsWith('onnxruntime-node'),
      output: { format: 'es', entryFileNames: '[name].mjs', codeSplitting: false },
    },
  },
});
