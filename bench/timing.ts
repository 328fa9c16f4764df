import type { Op, Runtime } from '../src/engine/runtime';

/**
 * Median milliseconds of running `ops` once, after one warm-up, timed with performance.now() around
 * queue.onSubmittedWorkDone() (timestamp queries are not available everywhere, and read zero on SwiftShader).
 */
export async function timeOps(rt: Runtime, ops: readonly Op[], opts: { iterations?: number } = {}): Promise<number> {
  const n = opts.iterations ?? 5;
  rt.run(ops);
  await rt.sync();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    rt.run(ops);
    await rt.sync();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
