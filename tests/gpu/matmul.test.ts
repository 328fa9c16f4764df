import { describe, expect, it } from 'vitest';
import { prepareMatmul } from '../../src/engine/kernels/matmul/matmul';
import { matmulRef } from '../../src/engine/kernels/matmul/matmul.ref';
import { closeTo, randn, testRuntime } from '../helpers/gpu';

// Awkward shapes: not multiples of any tile, single rows and columns, long K.
const SHAPES = [
  [1, 1, 1],
  [1, 37, 64],
  [17, 1, 9],
  [33, 65, 17],
  [64, 64, 64],
  [5, 130, 257],
];

describe('matmul (naive) against the CPU reference', () => {
  for (const [M, N, K] of SHAPES) {
    for (const [transA, transB] of [
      [false, true],
      [false, false],
      [true, false],
    ]) {
      it(`${M}x${N}x${K} transA=${transA} transB=${transB}`, async () => {
        const rt = await testRuntime();
        const a = randn(M * K, 1 + M, 1);
        const b = randn(K * N, 2 + N, 1);
        const A = rt.upload('a', a, transA ? [K, M] : [M, K]);
        const B = rt.upload('b', b, transB ? [N, K] : [K, N]);
        const C = rt.tensor('c', [M, N]);
        rt.run([prepareMatmul(rt, { a: A, b: B, out: C, M, N, K, transA, transB })]);
        const got = await rt.readF32(C);
        const want = matmulRef(a, b, { M, N, K, transA, transB });
        // f32 accumulation of K products of magnitude ≤ 1: error grows like √K · 2⁻²⁴ per term.
        const r = closeTo(got, want, 1e-5 * Math.sqrt(K) + 1e-6, 1e-5);
        expect(r.ok, r.worst).toBe(true);
        rt.destroy();
      });
    }
  }

  it('adds a bias, scales by alpha and accumulates', async () => {
    const rt = await testRuntime();
    const [M, N, K] = [7, 11, 13];
    const a = randn(M * K, 3);
    const b = randn(N * K, 4);
    const bias = randn(N, 5);
    const c0 = randn(M * N, 6);
    const C = rt.upload('c', c0, [M, N]);
    const op = prepareMatmul(rt, {
      a: rt.upload('a', a, [M, K]),
      b: rt.upload('b', b, [N, K]),
      bias: rt.upload('bias', bias, [N]),
      out: C,
      M,
      N,
      K,
      alpha: 0.5,
      accumulate: true,
    });
    rt.run([op]);
    const got = await rt.readF32(C);
    const want = matmulRef(a, b, { M, N, K, alpha: 0.5, bias, c: c0 });
    const r = closeTo(got, want, 1e-5, 1e-5);
    expect(r.ok, r.worst).toBe(true);
    // A planted error must be caught: the comparison is not vacuous.
    want[3] += 1e-2;
    expect(closeTo(got, want, 1e-5, 1e-5).ok).toBe(false);
    rt.destroy();
  });

  it('encodes a prepared op again without allocating, and counts dispatches and FLOPs', async () => {
    const rt = await testRuntime();
    const [M, N, K] = [8, 8, 8];
    const op = prepareMatmul(rt, {
      a: rt.upload('a', randn(64, 1), [M, K]),
      b: rt.upload('b', randn(64, 2), [N, K]),
      out: rt.tensor('c', [M, N]),
      M,
      N,
      K,
    });
    const allocs = rt.counters.allocations;
    rt.run([op, op, op]);
    await rt.sync();
    expect(rt.counters.allocations).toBe(allocs);
    expect(rt.counters.dispatches).toBe(3);
    expect(rt.counters.flops).toBe(3 * 2 * M * N * K);
    rt.destroy();
  });
});
