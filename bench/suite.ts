/** Every benchmark, in one report: the same code runs in Node (Dawn) and on the browser bench page. */
import type { CpuRuntime } from '../src/engine/cpu-runtime';
import type { AdapterReport } from '../src/engine/device';
import type { GpuRuntime } from '../src/engine/runtime';
import { benchAttention } from './attention';
import { benchCpu } from './cpu';
import { benchDense } from './kernels';
import { benchModel } from './model';
import { benchPrefix } from './prefix';
import { benchReference } from './reference';
import type { BenchEntry } from './types';

export interface BenchReport {
  when: string;
  runtime: string;
  adapter: AdapterReport;
  full: boolean;
  /** The suite ids that ran (all of SUITES unless `only` picked one). */
  suites: string[];
  entries: BenchEntry[];
}

interface SuiteOptions {
  full?: boolean;
  log?: (s: string) => void;
  /** onnxruntime-web's .wasm folder, for transformers.js on the bench page. */
  wasmPaths?: string;
  /** The CPU backend on every core (Node's worker threads); absent on the bench page, which runs one thread. */
  threadedCpu?: () => CpuRuntime;
}

/** id (for `--only`), title, runner. */
export const SUITES: readonly { id: string; title: string; run: (rt: GpuRuntime, o: SuiteOptions) => Promise<BenchEntry[]> }[] = [
  { id: 'kernels', title: 'dense kernels', run: benchDense },
  { id: 'attention', title: 'attention, loss, optimizer', run: benchAttention },
  { id: 'model', title: 'whole model', run: benchModel },
  { id: 'prefix', title: 'probe prefix reuse', run: benchPrefix },
  { id: 'reference', title: 'engine vs transformers.js', run: benchReference },
  { id: 'cpu', title: 'CPU backend beside WebGPU', run: benchCpu },
];

/** The suite `name` names (its id or title, any case), or undefined. */
export function findSuite(name: string) {
  const n = name.trim().toLowerCase();
  return SUITES.find((s) => s.id === n || s.title === n);
}

export async function runBench(
  rt: GpuRuntime,
  opts: SuiteOptions & { runtime: string; only?: string },
): Promise<BenchReport> {
  const entries: BenchEntry[] = [];
  let suites = [...SUITES];
  if (opts.only) {
    const s = findSuite(opts.only);
    if (!s) throw new Error(`no benchmark suite "${opts.only}"; one of: ${SUITES.map((x) => x.id).join(', ')}`);
    suites = [s];
  }
  for (const s of suites) {
    opts.log?.(`bench: ${s.title}…`);
    entries.push(...(await s.run(rt, { full: opts.full, log: opts.log, wasmPaths: opts.wasmPaths, threadedCpu: opts.threadedCpu })));
  }
  return { when: new Date().toISOString(), runtime: opts.runtime, adapter: rt.engine.report, full: Boolean(opts.full), suites: suites.map((s) => s.id), entries };
}

/** Extra fields the table shows elsewhere (rate, ratio block) or that are too long for a line. */
const HIDDEN = new Set(['tokensPerSecond', 'greedyTokens', 'ratioEngineOverReference', 'ratioEngineF16OverReference']);

const fmtRate = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

export function formatTable(r: BenchReport): string {
  const rows = r.entries.map((e) => {
    const tps = e.extra?.tokensPerSecond;
    const rate =
      e.gflops !== undefined ? `${e.gflops.toFixed(2)} GFLOP/s` : e.gbps !== undefined ? `${e.gbps.toFixed(2)} GB/s` : typeof tps === 'number' ? `${fmtRate(tps)} tok/s` : '';
    const extra = e.extra ? Object.entries(e.extra).filter(([k]) => !HIDDEN.has(k)).map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(4)) : v}`).join(' ') : '';
    return `${e.kernel.padEnd(26)} ${e.shape.padEnd(34)} ${e.ms.toFixed(3).padStart(10)} ms  ${rate.padEnd(18)} ${extra}`;
  });
  const a = r.adapter;
  // Which arithmetic paths the figures come from: shader-f16 (f16h), tensor cores (sgmat), or f32 only.
  const sg = a.subgroupMatrix;
  const paths = [a.features.shaderF16 ? 'shader-f16' : '', sg ? `subgroup matrices ${sg.M}x${sg.N}x${sg.K}` : '', a.subgroupMatrixProblem ? `subgroup matrices off: ${a.subgroupMatrixProblem}` : ''].filter(Boolean);
  const head = `${r.runtime} · ${a.vendor} ${a.architecture} ${a.description}${paths.length ? ` · ${paths.join(' · ')}` : ''}`.trim();
  return [head, ...rows, ...ratioBlock(r.entries), ...cpuBlock(r.entries)].join('\n');
}

/** "matmul toy q/o M=384 N=64 K=64   cpu 1.52 GFLOP/s ÷ webgpu 3.10 GFLOP/s = ×0.49" per CPU/WebGPU pair. */
function cpuBlock(entries: readonly BenchEntry[]): string[] {
  const out: string[] = [];
  entries.forEach((e, i) => {
    const ratio = e.extra?.cpuOverWebgpu;
    const g = entries[i - 1];
    if (typeof ratio !== 'number' || !g) return;
    const tps = (x: BenchEntry) => x.extra?.tokensPerSecond;
    const fmt = (x: BenchEntry) => (e.kernel.startsWith('matmul') || typeof tps(x) !== 'number' ? `${x.gflops!.toFixed(2)} GFLOP/s` : `${fmtRate(tps(x) as number)} tok/s`);
    const name = e.kernel.replace(/_cpu$/, '');
    out.push(`${`${name} ${e.shape}`.padEnd(72)} cpu ${fmt(e)} ÷ webgpu ${fmt(g)} = ×${ratio >= 0.1 ? ratio.toFixed(2) : ratio.toPrecision(2)}`);
  });
  return out.length ? ['', 'CPU backend ÷ WebGPU on this machine (same process; > 1: the CPU is faster)', ...out] : [];
}

/** "prefill  engine f32 113 tok/s ÷ transformers.js (onnxruntime-node webgpu) 252 tok/s = ×0.45" per comparison. */
function ratioBlock(entries: readonly BenchEntry[]): string[] {
  const out: string[] = [];
  for (const e of entries) {
    const ratio = e.extra?.ratioEngineOverReference;
    if (typeof ratio !== 'number' || !e.kernel.startsWith('transformersjs_')) continue;
    const phase = e.kernel.slice('transformersjs_'.length);
    const theirs = e.extra?.tokensPerSecond as number;
    for (const p of ['f32', 'f16'] as const) {
      const mine = entries.find((x) => x.kernel === `engine_${phase}_${p}`)?.extra?.tokensPerSecond;
      const rr = p === 'f32' ? ratio : e.extra?.ratioEngineF16OverReference;
      if (typeof mine !== 'number' || typeof rr !== 'number') continue;
      out.push(
        `${phase.padEnd(8)} engine ${p} ${fmtRate(mine)} tok/s ÷ transformers.js (${e.extra?.backend}) ${fmtRate(theirs)} tok/s = ×${rr >= 0.1 ? rr.toFixed(2) : rr.toPrecision(2)}` +
          (e.extra?.sameGreedyTokens ? `  (same greedy tokens: ${e.extra.sameGreedyTokens})` : ''),
      );
    }
  }
  return out.length ? ['', 'engine ÷ transformers.js (tokens/s; > 1: the engine is faster)', ...out] : [];
}
