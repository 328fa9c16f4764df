import type { Op, Runtime } from '../src/engine/runtime';

/**
 * Median milliseconds of one run of `ops`, after one warm-up, timed with performance.now() around
 * queue.onSubmittedWorkDone() (timestamp queries are not available everywhere, and read zero on SwiftShader).
 * On the CPU backend `run` computes before it returns, so the same timing holds there.
 * `inner` repeats the ops inside one submission to amortise the submit round trip for tiny kernels.
 */
export async function timeOps(rt: Runtime, ops: readonly Op[], opts: { samples?: number; inner?: number } = {}): Promise<number> {
  const samples = opts.samples ?? 5;
  const inner = opts.inner ?? 1;
  const batch: Op[] = [];
  for (let i = 0; i < inner; i++) batch.push(...ops);
  rt.run(batch, 'bench warm-up');
  await rt.sync();
  const ms: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t0 = performance.now();
    rt.run(batch, 'bench');
    await rt.sync();
    ms.push((performance.now() - t0) / inner);
  }
  ms.sort((a, b) => a - b);
  return ms[Math.floor(ms.length / 2)];
}
