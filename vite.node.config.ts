import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { defineConfig } from 'vite';
import { wat } from './scripts/vite-wat.mjs';

// The Node build: the CLI (and the benchmark entry when present) as ESM in dist-node/. Node built-ins and
// every package dependency stay external, so the output is just the project's own code.
const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
};
const deps = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})];
const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

const input: Record<string, string> = { 'ift-lab': 'src/cli/ift-lab.ts' };
input.bench = 'bench/node.ts';

export default defineConfig({
  plugins: [wat()],
  build: {
    ssr: true,
    outDir: 'dist-node',
    emptyOutDir: true,
    target: 'node20',
    sourcemap: true,
    rollupOptions: {
      input,
      external: (id) => id.startsWith('node:') || builtins.has(id) || deps.some((d) => id === d || id.startsWith(`${d}/`)),
      output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
    },
  },
});
