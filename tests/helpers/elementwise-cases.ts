// The elementwise case the WGSL kernels (tests/gpu/elementwise.test.ts) and the CPU backend's versions
// (tests/unit/cpu/rows.test.ts) share: one case, two backends, the same tolerances.
import { expect } from 'vitest';
import { prepareAdd, prepareCopy, prepareScale } from '../../src/engine/kernels/elementwise/elementwise';
import { addRef, scaleRef } from '../../src/engine/kernels/elementwise/elementwise.ref';
import type { Runtime, Tensor } from '../../src/engine/runtime';
import { closeTo, randn } from './close';

/** Sizes: one element, one past a workgroup multiple, more than one grid stride. */
export const ELEMENTWISE_SIZES = [1, 257, 70_001] as const;

/**
 * Add (y = 0.5·x + 2·y), copy y to z and scale z by −3 on n elements of the tensors X, Y, Z the suite
 * allocated (views of one buffer on the CPU; WebGPU cannot read and write one buffer in a dispatch);
 * x is left alone.
 */
export async function expectElementwiseAsRef(rt: Runtime, n: number, [X, Y, Z]: readonly [Tensor, Tensor, Tensor]): Promise<void> {
  const x = randn(n, 1), y = randn(n, 2);
  rt.write(X, x);
  rt.write(Y, y);
  rt.run([prepareAdd(rt, { x: X, y: Y, n, alpha: 0.5, beta: 2 }), prepareCopy(rt, { src: Y, dst: Z, n }), prepareScale(rt, { x: Z, n, alpha: -3 })]);
  const want = addRef(x, y, 0.5, 2);
  // One f32 multiply-add per element: ≤ 1 ulp or so.
  let r = closeTo(await rt.readF32(Y), want, 1e-7, 1e-6);
  expect(r.ok, r.worst).toBe(true);
  r = closeTo(await rt.readF32(Z), scaleRef(want, -3), 1e-7, 1e-6);
  expect(r.ok, r.worst).toBe(true);
  expect(Array.from(await rt.readF32(X))).toEqual(Array.from(x));
}
