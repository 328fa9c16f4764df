import { describe, expect, it } from 'vitest';
import { prepareAdd, prepareCopy, prepareScale } from '../../src/engine/kernels/elementwise/elementwise';
import { addRef, scaleRef } from '../../src/engine/kernels/elementwise/elementwise.ref';
import { closeTo, randn, testRuntime } from '../helpers/gpu';

describe('elementwise', () => {
  for (const n of [1, 257, 70_001]) {
    it(`add, copy and scale on n=${n}`, async () => {
      const rt = await testRuntime();
      const x = randn(n, 1);
      const y = randn(n, 2);
      const X = rt.upload('x', x, [n]);
      const Y = rt.upload('y', y, [n]);
      const Z = rt.tensor('z', [n]);
      rt.run([prepareAdd(rt, { x: X, y: Y, n, alpha: 0.5, beta: 2 }), prepareCopy(rt, { src: Y, dst: Z, n }), prepareScale(rt, { x: Z, n, alpha: -3 })]);
      const want = addRef(x, y, 0.5, 2);
      // one f32 multiply-add per element: ≤ 1 ulp or so.
      let r = closeTo(await rt.readF32(Y), want, 1e-7, 1e-6);
      expect(r.ok, r.worst).toBe(true);
      r = closeTo(await rt.readF32(Z), scaleRef(want, -3), 1e-7, 1e-6);
      expect(r.ok, r.worst).toBe(true);
      rt.destroy();
    });
  }
});
