// The CPU backend on several threads (cpu-threads.ts): every op that splits (products, attention) gives
// exactly the bits of one thread, because each element is still summed in one thread in the same order.
// The model cases (golden logits, the golden LoRA step, prefix scoring) run again on 3 threads with every
// op split however small (minParallelWork 0), so each kernel's worker copy is exercised on awkward shapes.
import { afterAll, describe, expect, it } from 'vitest';
import toyConfig from '../../../public/models/toy-world/config.json';
import { cpuThreads, nodeCpu, nodeThread } from '../../../src/cli/gpu';
import { CpuRuntime } from '../../../src/engine/cpu-runtime';
import { canThread, CpuThreads, splitRange, workerSource } from '../../../src/engine/cpu-threads';
import { gemmNT } from '../../../src/engine/kernels/matmul/gemm.cpu';
import { prepareMatmul } from '../../../src/engine/kernels/matmul/matmul';
import { parseConfig } from '../../../src/model/config';
import { ModelCore } from '../../../src/model/engine-model';
import { randomWeights } from '../../../src/model/memory';
import { trainStep } from '../../../src/model/train-step';
import { syntheticLoraStep } from '../../../bench/cpu';
import { uploadWeights } from '../../../src/model/transformer';
import { randn } from '../../helpers/close';
import { cpuFixtureModel } from '../../helpers/cpu-model';
import { MATMUL_SHAPES, TRANSPOSITIONS } from '../../helpers/kernel-cases';
import { goldenForwardCases, goldenStepCases, scoringCases } from '../../helpers/model-cases';

/** Every op split across 3 threads, however small. */
const threaded = nodeCpu(3, { minParallelWork: 0 });
afterAll(() => threaded.destroy());

/** Waits until the runtime's workers have started (until then their parts run on this thread). */
async function started(rt: CpuRuntime): Promise<void> {
  const pool = (rt as unknown as { pool: CpuThreads | null }).pool;
  for (let i = 0; pool && !pool.started() && i < 200; i++) await new Promise((r) => setTimeout(r, 10));
  expect(pool?.started() ?? true).toBe(true);
}

const bits = (x: Float32Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));

describe('CPU threads', () => {
  it('splitRange: covers 0 … n once, in runs aligned to the block, at most `parts` of them', () => {
    for (const [n, parts, align] of [[10, 3, 1], [13, 3, 4], [3, 8, 4], [1, 2, 1], [0, 3, 1], [1001, 7, 4]]) {
      const r = splitRange(n, parts, align);
      expect(r.length).toBeLessThanOrEqual(parts);
      let at = 0;
      for (const [a, b] of r) {
        expect(a).toBe(at);
        expect(b).toBeGreaterThan(a);
        if (b !== n) expect(b % align).toBe(0);
        at = b;
      }
      expect(at).toBe(n);
    }
  });

  it('threads only where they can run: one without a spawner or with threads 1; the report says how many', async () => {
    expect(canThread()).toBe(true); // Node: SharedArrayBuffer, and Atomics.wait may block
    expect(new CpuRuntime({ threads: 4, kernels: 'x' }).threads).toBe(1);
    expect(nodeCpu(1).threads).toBe(1);
    expect(threaded.threads).toBe(3);
    await started(threaded);
    expect(threaded.summary().description).toMatch(/^CPU backend \(3 threads, WebAssembly SIMD products; /);
    // The worker's program is the kernels' own source: it must parse on its own.
    expect(() => new Function(workerSource().replace(/^'use strict';/, ''))).not.toThrow();
  });

  it('IFT_LAB_CPU_THREADS: unset means every core, a whole number ≥ 1 is taken, anything else is refused in words', () => {
    expect(cpuThreads({})).toBeGreaterThanOrEqual(1);
    expect(cpuThreads({ IFT_LAB_CPU_THREADS: '3' })).toBe(3);
    for (const bad of ['0', 'two', '1.5']) expect(() => cpuThreads({ IFT_LAB_CPU_THREADS: bad })).toThrow(/IFT_LAB_CPU_THREADS is ".*"; it must be a whole number ≥ 1\./);
  });

  it('matmul, every transposition, awkward shapes, split by rows and by columns: the bits of one thread', async () => {
    await started(threaded);
    const one = new CpuRuntime();
    for (const [M, N, K] of [...MATMUL_SHAPES, [3, 61, 9], [61, 3, 9], [5, 5, 300]])
      for (const [transA, transB] of TRANSPOSITIONS) {
        const outs = await Promise.all(
          [one, threaded].map(async (rt) => {
            const a = rt.upload('a', randn(M * K, 1 + M, 1), transA ? [K, M] : [M, K]);
            const b = rt.upload('b', randn(K * N, 2 + N, 1), transB ? [N, K] : [K, N]);
            const c = rt.upload('c', randn(M * N, 3, 1), [M, N]);
            rt.run([prepareMatmul(rt, { a, b, out: c, M, N, K, transA, transB, accumulate: true, alpha: 0.5 })]);
            const out = await rt.readF32(c);
            for (const t of [a, b, c]) rt.release(t);
            return out;
          }),
        );
        expect(bits(outs[1]), `${M}x${N}x${K} ${transA} ${transB}`).toEqual(bits(outs[0]));
      }
  });

  it('read-backs are plain ArrayBuffers (they may be stored or posted), though the tensors are shared', async () => {
    const t = threaded.upload('x', Float32Array.of(1, 2, 3), [3]);
    const back = await threaded.readF32(t);
    expect(back.buffer).toBeInstanceOf(ArrayBuffer);
    expect(Array.from(back)).toEqual([1, 2, 3]);
    threaded.release(t);
  });

  it('a part that fails on a worker: the caller gets its error, and the pool refuses more work', async () => {
    const pool = new CpuThreads(2, (src) => nodeThread(src.replace('KERNELS[m.k].apply(CONTEXT, args);', 'throw new Error("injected fault");')));
    try {
      for (let i = 0; i < 200 && !pool.started(); i++) await new Promise((r) => setTimeout(r, 10));
      const sab = (n: number) => new Float32Array(new SharedArrayBuffer(4 * n));
      const [A, B, C] = [sab(16), sab(16), sab(16)];
      const parts = splitRange(4, 2, 1).map(([i0, i1]): Parameters<typeof gemmNT> => [i1 - i0, 4, 4, 1, A, i0 * 4, 4, B, 0, 4, C, i0 * 4, 4, 0]);
      expect(() => pool.run(gemmNT, parts)).toThrow(/A CPU backend thread failed: Error: injected fault/);
      expect(() => pool.run(gemmNT, parts)).toThrow(/failed earlier/);
    } finally {
      pool.destroy();
    }
  });

  it('a toy-world LoRA step (8 × 48 tokens, q and v, dropout 0.05) on 2 threads: the same parameters, bit for bit', async () => {
    const step = async (rt: CpuRuntime) => {
      await started(rt);
      const core = new ModelCore(rt, await uploadWeights(rt, parseConfig(toyConfig), randomWeights(1), 'f32'), { maxBatch: 8, seqQuantum: 16 });
      const { slot, t, batch } = syntheticLoraStep(core, 8, 48, 3);
      for (let i = 1; i <= 2; i++) await trainStep(core, t, batch, 1e-3, i);
      const params = await rt.readF32(slot.params);
      core.dispose();
      return params;
    };
    const two = nodeCpu(2);
    try {
      expect(bits(await step(two))).toEqual(bits(await step(new CpuRuntime())));
    } finally {
      two.destroy();
    }
  });
});

goldenForwardCases('CPU, 3 threads', (name) => cpuFixtureModel(name, {}, threaded));
goldenStepCases('CPU, 3 threads', (name) => cpuFixtureModel(name, {}, threaded));
scoringCases('CPU, 3 threads', (name, opts) => cpuFixtureModel(name, opts, threaded));
