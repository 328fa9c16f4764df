/**
 * The layer rule of docs/design.md ("Layers"), checked by `npm run check`: which folder of src may import which.
 *
 * A local rule rather than core `no-restricted-imports`: that rule matches the specifier's text, and
 * `../model` means the lab's own port from src/lab/questions but the model layer from src/lab — only the
 * resolved path tells them apart. Imports are resolved against the importing file; packages are not checked.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Per layer (a folder of src, `app` for src/main.ts): the layers it may import at run time, and the files of
 * other layers it may import only as types (`import type`, `export type … from`). `util` is a leaf every
 * layer may use; a layer may always import itself.
 */
export const LAYERS = {
  util: { imports: [] },
  engine: { imports: ['util'] },
  // The model implements the lab's port: its interface is the one upward import, and only as types.
  model: { imports: ['engine', 'util'], types: ['lab/model'] },
  // The lab reaches a model only through its port (src/lab/model.ts), which re-exports the model's
  // vocabulary (LoRA, adapter and training types) from src/model/types.ts, as types.
  lab: { imports: ['util'], files: ['store/types'], port: { file: 'lab/model', types: ['model/types'] } },
  store: { imports: ['util'] },
  // Shared results name the lab's result shapes, but run none of its code.
  share: { imports: ['util'], files: ['store/types'], types: ['lab/*'] },
  worker: { imports: ['engine', 'model', 'lab', 'store', 'share', 'util'] },
  cli: { imports: ['engine', 'model', 'lab', 'store', 'share', 'util'] },
  // The page talks to the lab only through the Worker: the protocol's types, the page's end of the protocol
  // (client.ts), the cross-tab training channel (run-lock.ts), the toy world's defaults (toy-defaults.ts) and the Hub families' starting points (starting-points.ts), plain data.
  ui: { imports: ['share', 'store', 'util'], files: ['worker/client', 'worker/run-lock', 'worker/toy-defaults', 'worker/starting-points'], types: ['worker/protocol'] },
  app: { imports: ['ui'] },
};

/** `src/<layer>/…` → { layer, rel } with rel = path under src without extension; null outside src. */
export function layerOf(file, root) {
  const rel = path.relative(path.join(root, 'src'), file).split(path.sep).join('/');
  if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
  const noExt = rel.replace(/\.(svelte\.ts|ts|js|mjs|svelte|wgsl)$/, '');
  const slash = noExt.indexOf('/');
  // a folder import (`../share`) names the folder's layer
  if (slash < 0 && fs.existsSync(file) && fs.statSync(file).isDirectory()) return { layer: noExt, rel: `${noExt}/index` };
  return { layer: slash < 0 ? 'app' : noExt.slice(0, slash), rel: noExt };
}

const matches = (rel, pattern) => (pattern.endsWith('/*') ? rel.startsWith(pattern.slice(0, -1)) : rel === pattern);

/** Why `from` may not import `to` (null when it may). `typeOnly`: the import names types only. */
export function violation(from, to, typeOnly) {
  if (from.layer === to.layer) return null;
  const rule = LAYERS[from.layer];
  if (!rule) return `src/${from.layer} is not a known layer (add it to scripts/eslint-layers.mjs and docs/design.md)`;
  if (rule.imports.includes(to.layer)) return null;
  if ((rule.files ?? []).some((p) => matches(to.rel, p))) return null;
  const types = [...(rule.types ?? []), ...(rule.port?.file === from.rel ? rule.port.types : [])];
  const asType = types.some((p) => matches(to.rel, p));
  if (typeOnly && asType) return null;
  return `src/${from.rel} may not import src/${to.rel}${asType ? ' at run time (types only)' : ''} (layers: docs/design.md)`;
}

function isTypeOnly(node) {
  if (node.importKind === 'type' || node.exportKind === 'type') return true;
  const specs = node.specifiers ?? [];
  return specs.length > 0 && specs.every((s) => s.importKind === 'type' || s.exportKind === 'type');
}

const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'Imports follow the layers of docs/design.md' },
    schema: [],
    messages: { layer: '{{why}}' },
  },
  create(context) {
    const root = ROOT;
    const file = context.filename;
    const from = layerOf(file, root);
    if (!from) return {};
    function check(node, source, typeOnly) {
      if (!source || typeof source.value !== 'string' || !source.value.startsWith('.')) return;
      const target = path.resolve(path.dirname(file), source.value.replace(/\?.*$/, ''));
      const to = layerOf(target, root);
      if (!to) return;
      const why = violation(from, to, typeOnly);
      if (why) context.report({ node: source, messageId: 'layer', data: { why } });
    }
    return {
      ImportDeclaration: (n) => check(n, n.source, isTypeOnly(n)),
      ExportNamedDeclaration: (n) => check(n, n.source, isTypeOnly(n)),
      ExportAllDeclaration: (n) => check(n, n.source, n.exportKind === 'type'),
      ImportExpression: (n) => check(n, n.source, false),
    };
  },
};

export default { rules: { imports: rule } };
