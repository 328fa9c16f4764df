// Fused LM head + cross-entropy cases and checks the WGSL kernels (tests/gpu/cross_entropy.test.ts) and
// the CPU backend's version (tests/unit/cpu/rows.test.ts) share: one case, two backends, the same tolerances.
import { expect } from 'vitest';
import { IGNORE_INDEX, prepareCrossEntropy } from '../../src/engine/kernels/cross_entropy/cross_entropy';
import { crossEntropyRef, packF16 } from '../../src/engine/kernels/cross_entropy/cross_entropy.ref';
import type { Runtime } from '../../src/engine/runtime';
import { closeTo, randn } from './close';

export interface CrossEntropyCase {
  name: string;
  T: number;
  D: number;
  V: number;
  chunk: number;
  targets: number[];
  /** The head as packed f16 pairs (the GPU only: the CPU backend keeps f32 tables). */
  packedF16?: boolean;
}

const I = IGNORE_INDEX;
// prettier-ignore
export const CROSS_ENTROPY_CASES: readonly CrossEntropyCase[] = [
  { name: 'V=1000 not a multiple of chunk 256, some ignored', T: 7, D: 24, V: 1000, chunk: 256, targets: [3, I, 999, 0, 512, I, 255] },
  { name: 'all but one token ignored', T: 5, D: 16, V: 300, chunk: 64, targets: [I, I, 77, I, I] },
  { name: 'zero counted tokens: loss 0, no NaN', T: 4, D: 8, V: 100, chunk: 32, targets: [I, I, I, I] },
  { name: 'one chunk; T=70 and D=67 cross the 64-wide tiles', T: 70, D: 67, V: 50, chunk: 4096, targets: Array.from({ length: 70 }, (_, i) => (i * 7) % 50) },
  { name: 'chunk of 1 column, V=5, a target id just past V', T: 3, D: 5, V: 5, chunk: 1, targets: [4, 5, 0] },
  { name: 'V=704, chunk 97 (the toy vocabulary, ragged last chunk)', T: 9, D: 16, V: 704, chunk: 97, targets: [703, 0, 96, 97, I, 600, 1, 2, 3] },
];

/**
 * Loss per token, mean and dHidden against crossEntropyRef; dHidden starts NaN (overwritten, not
 * accumulated), and a second run gives the same. Per chunk: logits, stats, then logits again, grad, grad
 * product; one finalize; `extraOps` more (the GPU's split reduce of dHidden).
 */
export async function expectCrossEntropyAsRef(rt: Runtime, c: CrossEntropyCase, extraOps = 0): Promise<void> {
  const hidden = randn(c.T * c.D, 3, 1);
  let w = randn(c.V * c.D, 4, 0.5);
  let weight;
  if (c.packedF16) {
    const { packed, rounded } = packF16(w);
    w = rounded; // the reference sees exactly the f16 values the kernel reads
    weight = rt.upload('w16', packed, [packed.length]);
  } else weight = rt.upload('w', w, [c.V, c.D]);
  const targets = new Uint32Array(c.targets);
  const loss = rt.upload('loss', new Float32Array(c.T).fill(NaN), [c.T]);
  const mean = rt.tensor('mean', [1]);
  const dHidden = rt.upload('dh', new Float32Array(c.T * c.D).fill(NaN), [c.T, c.D]);
  const ops = prepareCrossEntropy(rt, {
    hidden: rt.upload('h', hidden, [c.T, c.D]), weight, packedF16: c.packedF16, targets: rt.upload('y', targets, [c.T]),
    T: c.T, D: c.D, V: c.V, chunk: c.chunk, loss, mean, dHidden,
  });
  expect(ops.length).toBe(5 * Math.ceil(c.V / Math.min(c.chunk, c.V)) + 1 + extraOps);
  rt.run(ops);
  const want = crossEntropyRef(hidden, w, targets, c.T, c.D, c.V);
  // Logits are f32 dots of D ≤ 67 terms; log Σ exp over ≤ 1000 terms: ~1e-6 relative.
  const rl = closeTo(await rt.readF32(loss), want.loss, 1e-5, 1e-5);
  expect(rl.ok, `loss ${rl.worst}`).toBe(true);
  const gotMean = (await rt.readF32(mean))[0];
  expect(Math.abs(gotMean - want.mean)).toBeLessThan(1e-5 + 1e-5 * Math.abs(want.mean));
  if (want.count === 0) expect(gotMean).toBe(0);
  const rg = closeTo(await rt.readF32(dHidden), want.dHidden, 1e-6, 1e-4);
  expect(rg.ok, `dHidden ${rg.worst}`).toBe(true);
  // Run again: nothing accumulates from one step to the next.
  rt.run(ops);
  expect(closeTo(await rt.readF32(dHidden), want.dHidden, 1e-6, 1e-4).ok).toBe(true);
}

/** Forward only (no dHidden): 2 ops per chunk and a finalize, re-run without allocating. */
export async function expectCrossEntropyForwardOnly(rt: Runtime): Promise<void> {
  const [T, D, V] = [3, 8, 70];
  const hidden = randn(T * D, 1), w = randn(V * D, 2);
  const targets = new Uint32Array([5, 69, 0]);
  const loss = rt.tensor('loss', [T]);
  const ops = prepareCrossEntropy(rt, {
    hidden: rt.upload('h', hidden, [T, D]), weight: rt.upload('w', w, [V, D]), targets: rt.upload('y', targets, [T]),
    T, D, V, chunk: 32, loss, mean: rt.tensor('mean', [1]),
  });
  expect(ops.length).toBe(2 * 3 + 1);
  const allocs = rt.counters.allocations;
  rt.run(ops);
  rt.run(ops);
  expect(rt.counters.allocations).toBe(allocs);
  const r = closeTo(await rt.readF32(loss), crossEntropyRef(hidden, w, targets, T, D, V).loss, 1e-5, 1e-5);
  expect(r.ok, r.worst).toBe(true);
}
