// Shader composition: a .wgsl file may pull in another with a line
//
//   // #include "../common/row_reduce.wgsl"
//   // #include "block4_entry.wgsl" {"NAME": "main_lora", "TERM": " + loraTerm(row, col)"}
//
// (a comment, so every file stays plain WGSL to an editor). The path is relative to the including file; the
// optional JSON object fills the included file's {{NAME}} placeholders, so one piece of code can stand in for
// several near-copies while the compiler still sees straight-line code, exactly as if it had been written out
// (no function over a register array in a hot loop: on a real GPU that cost up to 1.8×). Every include is
// pasted, also twice in one module (a loop body inside two functions); a helper reached by two paths would be
// declared twice, which the WGSL compiler reports. Expansion runs once per module at import time, from the
// sources Vite bundles (`import.meta.glob` with `?raw`).

const DIRECTIVE = /^[ \t]*\/\/[ \t]*#include[ \t]+"([^"]+)"[ \t]*(\{.*\})?[ \t]*$/;
const PLACEHOLDER = /\{\{(\w+)\}\}/g;

/** A path with `.` and `..` segments resolved against the folder of `from` ('' for a top-level name). */
function resolvePath(from: string, rel: string): string {
  const parts = from.split('/').slice(0, -1);
  for (const seg of rel.split('/')) {
    if (seg === '.' || seg === '') continue;
    if (seg === '..') {
      if (parts.length === 0) throw new Error(`wgsl: include "${rel}" in ${from} climbs above the shader root`);
      parts.pop();
    } else parts.push(seg);
  }
  return parts.join('/');
}

function fill(name: string, text: string, params: Record<string, string>, via: string): string {
  const used = new Set<string>();
  const out = text.replace(PLACEHOLDER, (_, key: string) => {
    if (!(key in params)) throw new Error(`wgsl: ${name} needs parameter {{${key}}}, which ${via} does not give`);
    used.add(key);
    return params[key];
  });
  const unused = Object.keys(params).filter((k) => !used.has(k));
  if (unused.length) throw new Error(`wgsl: ${via} gives ${name} parameters it has no {{…}} for: ${unused.join(', ')}`);
  return out;
}

/**
 * The module `name` with its includes expanded, recursively. `sources` maps paths ('matmul/matmul_tiled.wgsl')
 * to file text; `params` fills the root file's own placeholders. Throws, naming the chain, on an unknown file,
 * an include cycle, a missing or unused parameter, or a parameter object that is not JSON of strings.
 */
export function expandIncludes(name: string, sources: Readonly<Record<string, string>>, params: Record<string, string> = {}): string {
  const expand = (file: string, args: Record<string, string>, chain: string[]): string => {
    const text = sources[file];
    if (text === undefined) {
      const by = chain.length ? ` (included by ${chain[chain.length - 1]})` : '';
      throw new Error(`wgsl: no shader file ${file}${by}; known: ${Object.keys(sources).sort().join(', ')}`);
    }
    if (chain.includes(file)) throw new Error(`wgsl: include cycle ${[...chain, file].join(' → ')}`);
    const via = chain.length ? chain[chain.length - 1] : 'the caller';
    const filled = fill(file, text, args, via);
    const lines = filled.split('\n').map((line, i) => {
      const m = DIRECTIVE.exec(line);
      if (!m) return line;
      const target = resolvePath(file, m[1]);
      let childArgs: Record<string, string> = {};
      if (m[2]) {
        try {
          childArgs = JSON.parse(m[2]) as Record<string, string>;
        } catch (e) {
          throw new Error(`wgsl: ${file}:${i + 1}: the parameters of include "${m[1]}" are not JSON (${(e as Error).message})`, { cause: e });
        }
        if (typeof childArgs !== 'object' || childArgs === null || Array.isArray(childArgs) || Object.values(childArgs).some((v) => typeof v !== 'string')) {
          throw new Error(`wgsl: ${file}:${i + 1}: the parameters of include "${m[1]}" must be an object of strings`);
        }
      }
      return expand(target, childArgs, [...chain, file]).replace(/\n$/, '');
    });
    return lines.join('\n');
  };
  return expand(name, params, []);
}

/** Every shader under src/engine, keyed by its path from there ('kernels/matmul/matmul_tiled.wgsl'). */
const SOURCES: Record<string, string> = Object.fromEntries(
  // Vite writes this folder's files as './…' and the rest as '../…'.
  Object.entries(import.meta.glob<string>('../**/*.wgsl', { query: '?raw', import: 'default', eager: true })).map(([k, v]) => [
    k.startsWith('./') ? `kernels/${k.slice(2)}` : k.replace(/^\.\.\//, ''),
    v,
  ]),
);

/** The expanded module for a path under src/engine ('kernels/matmul/matmul_tiled.wgsl'). */
export function wgsl(path: string, params: Record<string, string> = {}): string {
  return expandIncludes(path, SOURCES, params);
}
