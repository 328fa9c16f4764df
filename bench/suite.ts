/** Every benchmark, in one report: the same code runs in Node (Dawn) and on the browser bench page. */
import type { AdapterReport } from '../src/engine/device';
import type { Runtime } from '../src/engine/runtime';
import { benchAttention } from './attention';
import { benchDense } from './kernels';
import { benchModel } from './model';
import type { BenchEntry } from './types';

export interface BenchReport {
  when: string;
  runtime: string;
  adapter: AdapterReport;
  full: boolean;
  entries: BenchEntry[];
}

export async function runBench(rt: Runtime, opts: { full?: boolean; runtime: string; log?: (s: string) => void }): Promise<BenchReport> {
  const entries: BenchEntry[] = [];
  const suites: [string, (rt: Runtime, o: { full?: boolean }) => Promise<BenchEntry[]>][] = [
    ['dense kernels', benchDense],
    ['attention, loss, optimizer', benchAttention],
    ['whole model', benchModel],
  ];
  for (const [name, fn] of suites) {
    opts.log?.(`bench: ${name}…`);
    entries.push(...(await fn(rt, { full: opts.full })));
  }
  return { when: new Date().toISOString(), runtime: opts.runtime, adapter: rt.engine.report, full: Boolean(opts.full), entries };
}

export function formatTable(r: BenchReport): string {
  const rows = r.entries.map((e) => {
    const rate = e.gflops !== undefined ? `${e.gflops.toFixed(2)} GFLOP/s` : e.gbps !== undefined ? `${e.gbps.toFixed(2)} GB/s` : '';
    const extra = e.extra ? Object.entries(e.extra).map(([k, v]) => `${k}=${v}`).join(' ') : '';
    return `${e.kernel.padEnd(26)} ${e.shape.padEnd(34)} ${e.ms.toFixed(3).padStart(10)} ms  ${rate.padEnd(18)} ${extra}`;
  });
  const a = r.adapter;
  return [`${r.runtime} · ${a.vendor} ${a.architecture} ${a.description}`.trim(), ...rows].join('\n');
}
