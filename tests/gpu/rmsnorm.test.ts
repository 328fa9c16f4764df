import { describe, expect, it } from 'vitest';
import { prepareRmsNorm, prepareRmsNormBackward } from '../../src/engine/kernels/rmsnorm/rmsnorm';
import { rmsNormBackwardRef, rmsNormRef } from '../../src/engine/kernels/rmsnorm/rmsnorm.ref';
import { closeTo, randn, testRuntime } from '../helpers/gpu';
import { dot, fdGrad } from '../helpers/fd';

const EPS = 1e-5;

describe('rmsnorm reference', () => {
  it('analytic dx matches central differences (f64)', () => {
    const [T, D] = [3, 5];
    const x = randn(T * D, 1);
    const w = randn(D, 2);
    const dy = randn(T * D, 3);
    const fd = fdGrad((xx) => dot(rmsNormRef(xx, w, T, D, EPS).y, dy), x);
    // f64 central differences with h = 1e-6: truncation O(h²) and rounding O(1e-16/h) ≈ 1e-10.
    const r = closeTo(rmsNormBackwardRef(x, w, dy, T, D, EPS), fd, 1e-8, 1e-7);
    expect(r.ok, r.worst).toBe(true);
  });
});

describe('rmsnorm on the GPU', () => {
  for (const [T, D] of [
    [1, 1],
    [3, 7],
    [5, 300],
    [2, 2048], // a long row: 8 elements per invocation
  ]) {
    it(`forward and backward T=${T} D=${D}`, async () => {
      const rt = await testRuntime();
      const x = randn(T * D, T + D, 3);
      const w = randn(D, D);
      const dy = randn(T * D, 7 + D);
      const dx0 = randn(T * D, 9);
      const X = rt.upload('x', x, [T, D]);
      const W = rt.upload('w', w, [D]);
      const Y = rt.tensor('y', [T, D]);
      const R = rt.tensor('rstd', [T]);
      const DX = rt.upload('dx', dx0, [T, D]);
      const DX2 = rt.tensor('dx2', [T, D]);
      const DY = rt.upload('dy', dy, [T, D]);
      rt.run([
        prepareRmsNorm(rt, { x: X, weight: W, y: Y, rstd: R, T, D, eps: EPS }),
        prepareRmsNormBackward(rt, { x: X, weight: W, rstd: R, dy: DY, dx: DX, T, D, accumulate: true }),
        prepareRmsNormBackward(rt, { x: X, weight: W, rstd: R, dy: DY, dx: DX2, T, D }),
      ]);
      const ref = rmsNormRef(x, w, T, D, EPS);
      // f32 sums of D squares and an f32 rsqrt: relative error a few ulps · log2(D).
      let r = closeTo(await rt.readF32(Y), ref.y, 1e-6, 1e-5);
      expect(r.ok, r.worst).toBe(true);
      r = closeTo(await rt.readF32(R), ref.rstd, 0, 1e-5);
      expect(r.ok, r.worst).toBe(true);
      const dx = rmsNormBackwardRef(x, w, dy, T, D, EPS);
      // The backward's Σ over D and rstd³ add a little more rounding than the forward.
      r = closeTo(await rt.readF32(DX2), dx, 1e-5, 1e-4);
      expect(r.ok, r.worst).toBe(true);
      r = closeTo(await rt.readF32(DX), dx.map((v, i) => v + dx0[i]), 1e-5, 1e-4);
      expect(r.ok, r.worst).toBe(true);
      rt.destroy();
    });
  }
});
