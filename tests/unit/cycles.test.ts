// No import cycles among the files of src/, type imports included: a cycle, even one of types only, means
// two modules that cannot be read (or moved) apart. Types both sides need live in a `<module>.types.ts`
// beside them (a kernel's arguments: <op>.types.ts, read by <op>.ts and <op>.cpu.ts).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
const SRC = path.join(root, 'src');

/** Every .ts and .svelte file under `dir`, relative to the repository root. */
function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.(ts|svelte)$/.test(e.name) ? [path.relative(root, p)] : [];
  });
}

/** The relative specifiers a file imports: `import … from`, `export … from`, `import type`, `import '…'`, `import('…')`. */
export function specifiers(code: string): string[] {
  const re = /\bfrom\s*['"](\.{1,2}\/[^'"]*)['"]|\bimport\s*\(?\s*['"](\.{1,2}\/[^'"]*)['"]/g;
  return [...code.matchAll(re)].map((m) => (m[1] ?? m[2]).replace(/\?.*$/, ''));
}

/** The source file a specifier names, or null (an asset, a file outside the set). */
function resolve(from: string, spec: string, files: Set<string>): string | null {
  const base = path.normalize(path.join(path.dirname(from), spec));
  for (const c of [base, `${base}.ts`, path.join(base, 'index.ts')]) if (files.has(c)) return c;
  return null;
}

/** The strongly connected components of more than one file (Tarjan), each sorted. */
export function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

function importGraph(): Map<string, string[]> {
  const files = sourceFiles(SRC);
  const set = new Set(files);
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const code = fs.readFileSync(path.join(root, f), 'utf8');
    const deps = specifiers(code).map((s) => resolve(f, s, set)).filter((d): d is string => d !== null && d !== f);
    graph.set(f, [...new Set(deps)]);
  }
  return graph;
}

describe('import cycles', () => {
  it('finds the import forms it should (type imports and re-exports included)', () => {
    const code = [
      "import { a } from './a';",
      "import type { B } from '../b';",
      "export type { C } from './c';",
      "export * from './d';",
      "import './e.css';",
      "const f = await import('./f');",
      "type G = import('./g').G;",
      "import { h } from 'h-package';",
      "import {\n  i,\n  type I,\n} from './i';",
    ].join('\n');
    expect(specifiers(code)).toEqual(['./a', '../b', './c', './d', './e.css', './f', './g', './i']);
  });

  it('reports a planted cycle, types only', () => {
    const graph = new Map(Object.entries({ 'x.ts': ['y.ts'], 'y.ts': ['z.ts'], 'z.ts': ['x.ts'], 'w.ts': ['x.ts'] }));
    expect(cycles(graph)).toEqual([['x.ts', 'y.ts', 'z.ts']]);
  });

  it('has none among the files of src/', () => {
    const graph = importGraph();
    expect(graph.size).toBeGreaterThan(100);
    expect(cycles(graph)).toEqual([]);
  });
});
