// Cases and checks the WGSL kernels (tests/gpu) and their CPU versions (tests/unit/cpu) share: one case,
// two backends, the same tolerances (the CPU sums in f32 like the GPU, so it must meet them).
import { expect } from 'vitest';
import { prepareRmsNorm, prepareRmsNormBackward } from '../../src/engine/kernels/rmsnorm/rmsnorm';
import { rmsNormBackwardRef, rmsNormRef } from '../../src/engine/kernels/rmsnorm/rmsnorm.ref';
import type { loraBackwardRef, loraForwardRef } from '../../src/engine/kernels/lora/lora.ref';
import type { Runtime, Tensor } from '../../src/engine/runtime';
import { closeTo, randn } from './close';

/** Awkward matmul shapes [M, N, K]: not multiples of any tile or register block, single rows and columns, long K. */
export const MATMUL_SHAPES: readonly (readonly [number, number, number])[] = [
  [1, 1, 1],
  [1, 37, 64],
  [17, 1, 9],
  [33, 65, 17],
  [64, 64, 64],
  [5, 130, 257],
];

/** [transA, transB]: every transposition, the default (B as [N, K]) first. */
export const TRANSPOSITIONS = [
  [false, true],
  [false, false],
  [true, false],
  [true, true],
] as const;

/**
 * The LoRA forward (u, y) and a backward run twice (dX accumulated onto dx0, dA and dB accumulated: twice
 * the reference) against the f64 references.
 */
export async function expectLoraAsRef(
  rt: Runtime,
  got: { U: Tensor; Y: Tensor; DX: Tensor; dA: Tensor; dB: Tensor },
  ref: ReturnType<typeof loraForwardRef>,
  an: ReturnType<typeof loraBackwardRef>,
  dx0: Float32Array,
): Promise<void> {
  // f32 sums over in (≤ 64) and out terms of size ≤ ~1 reordered against f64: ~√K·1e-7 each, plus s = 16/r.
  const tol = 2e-5;
  let r = closeTo(await rt.readF32(got.U), ref.u, tol, 1e-5);
  expect(r.ok, 'u ' + r.worst).toBe(true);
  r = closeTo(await rt.readF32(got.Y), ref.y, tol, 1e-5);
  expect(r.ok, 'y ' + r.worst).toBe(true);
  r = closeTo(await rt.readF32(got.DX), an.dx.map((v, i) => 2 * v + dx0[i]), 4 * tol, 1e-5);
  expect(r.ok, 'dx ' + r.worst).toBe(true);
  // dA, dB sum over T tokens (≤ 40) with the scale 16/r ≤ 16 folded in: a looser absolute bound.
  r = closeTo(await rt.readF32(got.dA), an.dA.map((v) => 2 * v), 1e-4, 1e-5);
  expect(r.ok, 'dA ' + r.worst).toBe(true);
  r = closeTo(await rt.readF32(got.dB), an.dB.map((v) => 2 * v), 1e-4, 1e-5);
  expect(r.ok, 'dB ' + r.worst).toBe(true);
}

/** [T, D] of the RMSNorm cases: one element, odd sizes, and a long row (8 elements per GPU invocation). */
export const RMSNORM_SHAPES = [
  [1, 1],
  [3, 7],
  [5, 300],
  [2, 2048],
] as const;

/**
 * RMSNorm forward, backward that accumulates onto dx0, and backward that overwrites (its output starts NaN,
 * so an element left unwritten shows), against the f64 references.
 */
export async function expectRmsNormAsRef(rt: Runtime, T: number, D: number, eps: number): Promise<void> {
  const x = randn(T * D, T + D, 3), w = randn(D, D), dy = randn(T * D, 7 + D), dx0 = randn(T * D, 9);
  const X = rt.upload('x', x, [T, D]), W = rt.upload('w', w, [D]);
  const Y = rt.tensor('y', [T, D]), R = rt.tensor('rstd', [T]);
  const DX = rt.upload('dx', dx0, [T, D]), DX2 = rt.upload('dx2', new Float32Array(T * D).fill(NaN), [T, D]);
  const DY = rt.upload('dy', dy, [T, D]);
  rt.run([
    prepareRmsNorm(rt, { x: X, weight: W, y: Y, rstd: R, T, D, eps }),
    prepareRmsNormBackward(rt, { x: X, weight: W, rstd: R, dy: DY, dx: DX, T, D, accumulate: true }),
    prepareRmsNormBackward(rt, { x: X, weight: W, rstd: R, dy: DY, dx: DX2, T, D }),
  ]);
  const ref = rmsNormRef(x, w, T, D, eps);
  // f32 sums of D squares and an f32 rsqrt: relative error a few ulps · log2(D).
  let r = closeTo(await rt.readF32(Y), ref.y, 1e-6, 1e-5);
  expect(r.ok, r.worst).toBe(true);
  r = closeTo(await rt.readF32(R), ref.rstd, 0, 1e-5);
  expect(r.ok, r.worst).toBe(true);
  const dx = rmsNormBackwardRef(x, w, dy, T, D, eps);
  // The backward's Σ over D and rstd³ add a little more rounding than the forward.
  r = closeTo(await rt.readF32(DX2), dx, 1e-5, 1e-4);
  expect(r.ok, 'overwrite ' + r.worst).toBe(true);
  r = closeTo(await rt.readF32(DX), dx.map((v, i) => v + dx0[i]), 1e-5, 1e-4);
  expect(r.ok, 'accumulate ' + r.worst).toBe(true);
}
