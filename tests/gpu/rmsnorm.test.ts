import { describe, expect, it } from 'vitest';
import { rmsNormBackwardRef, rmsNormRef } from '../../src/engine/kernels/rmsnorm/rmsnorm.ref';
import { closeTo, randn, testRuntime } from '../helpers/gpu';
import { dot, fdGrad } from '../helpers/fd';
import { expectRmsNormAsRef, RMSNORM_SHAPES } from '../helpers/kernel-cases';

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
  for (const [T, D] of RMSNORM_SHAPES) {
    it(`forward and backward T=${T} D=${D}`, async () => {
      const rt = await testRuntime();
      await expectRmsNormAsRef(rt, T, D, EPS);
      rt.destroy();
    });
  }
});
