/**
 * The offline half of the build:
 *  - copies onnxruntime-web's WebAssembly files into `ort/` of the build (and serves them there in dev),
 *    so the app never loads them from a CDN (see ORT_WASM_DIR in src/ui/offline-paths.ts);
 *  - writes `precache.json`, the list of files the service worker (public/sw.js) caches on the first visit.
 */
import { createReadStream, existsSync, readdirSync, statSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, relative, sep } from 'node:path';

const ORT_DIST = join('node_modules', 'onnxruntime-web', 'dist');
/** The WebGPU build (asyncify) and the plain WebAssembly one: what `onnxruntime-web/webgpu` and `onnxruntime-web` load. */
const ORT_FILES = ['ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'];
export const ORT_DIR = 'ort';

/** @param {string} dir @returns {string[]} */
function walk(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** @returns {import('vite').Plugin} */
export function offline() {
  /** @type {import('vite').ResolvedConfig} */
  let config;
  return {
    name: 'ift-lab-offline',
    configResolved(c) {
      config = c;
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const m = /\/ort\/([\w.-]+)$/.exec((req.url ?? '').split('?')[0]);
        if (!m || !ORT_FILES.includes(m[1])) return next();
        res.setHeader('Content-Type', m[1].endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
        createReadStream(join(ORT_DIST, m[1])).pipe(res);
      });
    },
    writeBundle() {
      const out = config.build.outDir;
      mkdirSync(join(out, ORT_DIR), { recursive: true });
      for (const f of ORT_FILES) if (existsSync(join(ORT_DIST, f))) copyFileSync(join(ORT_DIST, f), join(out, ORT_DIR, f));
      // Precache the app itself and the toy model files; ort files and Hub models are cached on first use.
      // (onnxruntime-web's own copy of its wasm, emitted beside the lazy verify chunk, is never loaded:
      // the Worker points wasmPaths at ort/.)
      const files = walk(out)
        .map((p) => relative(out, p).split(sep).join('/'))
        .filter((f) => !f.endsWith('.map') && !f.startsWith(`${ORT_DIR}/`) && !/^assets\/ort-wasm/.test(f) && f !== 'sw.js' && f !== 'precache.json')
        .sort();
      const hash = createHash('sha256');
      for (const f of files) hash.update(f).update(String(statSync(join(out, f)).size)).update(String(statSync(join(out, f)).mtimeMs));
      const manifest = { version: hash.digest('hex').slice(0, 16), files: ['./', ...files.filter((f) => f !== 'index.html'), 'index.html'] };
      writeFileSync(join(out, 'precache.json'), JSON.stringify(manifest, null, 1));
    },
  };
}
