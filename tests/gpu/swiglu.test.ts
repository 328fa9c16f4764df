import { describe, expect, it } from 'vitest';
import { prepareSwiglu } from '../../src/engine/kernels/swiglu/swiglu';
import { swigluBackwardRef, swigluRef } from '../../src/engine/kernels/swiglu/swiglu.ref';
import { closeTo, randn, testRuntime } from '../helpers/gpu';
import { dot, fdGrad } from '../helpers/fd';
import { alignElems } from '../../src/engine/runtime';
import { expectSwigluAsRef, SWIGLU_SHAPES } from '../helpers/kernel-cases';

describe('swiglu reference', () => {
  it('analytic dgate and dup match central differences (f64)', () => {
    const [T, F] = [2, 3];
    const gu = randn(T * 2 * F, 1, 3);
    const dh = randn(T * F, 2);
    const fd = fdGrad((g) => dot(swigluRef(g, T, F), dh), gu);
    // f64 central differences, h = 1e-6: error ≈ 1e-10.
    const r = closeTo(swigluBackwardRef(gu, dh, T, F), fd, 1e-8, 1e-7);
    expect(r.ok, r.worst).toBe(true);
  });
});

describe('swiglu on the GPU', () => {
  for (const [T, F] of SWIGLU_SHAPES) {
    it(`fused [T, 2F] layout T=${T} F=${F}`, async () => {
      const rt = await testRuntime();
      await expectSwigluAsRef(rt, T, F);
      rt.destroy();
    });
  }

  it('block layout: gate and up as two views of one buffer', async () => {
    const rt = await testRuntime();
    const [T, F] = [3, 5];
    const gu = randn(T * 2 * F, 4, 3);
    const up = alignElems(T * F);
    const blocks = new Float32Array(up + T * F);
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < F; j++) {
        blocks[t * F + j] = gu[t * 2 * F + j];
        blocks[up + t * F + j] = gu[t * 2 * F + F + j];
      }
    }
    const H = rt.tensor('h', [T, F]);
    rt.run([prepareSwiglu(rt, { gu: rt.upload('blocks', blocks, [blocks.length]), h: H, T, F, rowStride: F, upOffset: up })]);
    const r = closeTo(await rt.readF32(H), swigluRef(gu, T, F), 1e-6, 1e-5);
    expect(r.ok, r.worst).toBe(true);
    rt.destroy();
  });
});
