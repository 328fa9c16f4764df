// Cases and checks the WGSL kernels (tests/gpu) and their CPU versions (tests/unit/cpu) share: one case,
// two backends, the same tolerances (the CPU sums in f32 like the GPU, so it must meet them).
import { expect } from 'vitest';
import { prepareRmsNorm, prepareRmsNormBackward } from '../../src/engine/kernels/rmsnorm/rmsnorm';
import { rmsNormBackwardRef, rmsNormRef } from '../../src/engine/kernels/rmsnorm/rmsnorm.ref';
import { prepareLoraBackward, prepareLoraForward } from '../../src/engine/kernels/lora/lora';
import { prepareSwiglu, prepareSwigluBackward } from '../../src/engine/kernels/swiglu/swiglu';
import { swigluBackwardRef, swigluRef } from '../../src/engine/kernels/swiglu/swiglu.ref';
import { loraBackwardRef, loraForwardRef, type LoraRefDims } from '../../src/engine/kernels/lora/lora.ref';
import { f32ToF16Array, roundToF16 } from '../../src/engine/convert';
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

export interface LoraCase {
  rank: number;
  T: number;
  inDim: number;
  outDim: number;
  /** Dropout probability. */
  p: number;
  bias: boolean;
  /** The base weight as f16 (the GPU only: the CPU backend keeps f32 weights). */
  f16?: boolean;
}

/** LoRA linear cases: rank 1 to 8, dropout off and on, with and without bias, a single token. */
export const LORA_CASES: readonly LoraCase[] = [
  { rank: 1, T: 3, inDim: 5, outDim: 7, p: 0, bias: true },
  { rank: 4, T: 9, inDim: 13, outDim: 6, p: 0.2, bias: false },
  { rank: 8, T: 17, inDim: 35, outDim: 21, p: 0.1, bias: true },
  { rank: 8, T: 40, inDim: 64, outDim: 36, p: 0.1, bias: true }, // vec4 base matmul on the GPU
  { rank: 2, T: 1, inDim: 16, outDim: 9, p: 0.5, bias: false },
];

/**
 * The LoRA linear end to end (prepareLoraForward, then prepareLoraBackward run twice so that dx, dA and dB
 * accumulate), dropout on, the parameters A, B and their gradients as views of flat buffers as the trainer
 * lays them out, at the element offsets `at` gives (aligned on the GPU); checked by expectLoraAsRef.
 * Returns what a suite needs for checks of its own.
 */
export async function expectLoraLinearAsRef(rt: Runtime, c: LoraCase, at: (aSize: number) => { a: number; b: number; end: number }) {
  const { T, inDim, outDim, rank } = c;
  const scale = 16 / rank;
  const d: LoraRefDims = { T, inDim, outDim, rank, scale, dropout: { p: c.p, seed: 1234, step: 5, salt: 3 } };
  const x = randn(T * inDim, 1);
  let w = randn(outDim * inDim, 2, 0.5);
  const bias = c.bias ? randn(outDim, 3) : undefined;
  const A = randn(rank * inDim, 4, 0.3);
  const B = randn(outDim * rank, 5, 0.3); // non-zero so every term is exercised
  const dy = randn(T * outDim, 6);
  const dx0 = randn(T * inDim, 7);
  const W = c.f16 ? rt.upload('w', f32ToF16Array(w), [outDim, inDim]) : rt.upload('w', w, [outDim, inDim]);
  if (c.f16) w = roundToF16(w);
  const off = at(rank * inDim);
  const params = rt.tensor('params', [off.end + outDim * rank]);
  const grads = rt.tensor('grads', [off.end + outDim * rank]);
  const loraA = rt.view(params, off.a, [rank, inDim], 'A');
  const loraB = rt.view(params, off.b, [outDim, rank], 'B');
  rt.write(loraA, A);
  rt.write(loraB, B);
  const dA = rt.view(grads, off.a, [rank, inDim], 'dA');
  const dB = rt.view(grads, off.b, [outDim, rank], 'dB');
  const state = rt.upload('dropout', new Uint32Array([1234, 5]), [2]);
  const dims = { T, inDim, outDim, rank, scale, dropout: { p: c.p, state, salt: 3 } };
  const X = rt.upload('x', x, [T, inDim]);
  const U = rt.tensor('u', [T, rank]);
  const Y = rt.tensor('y', [T, outDim]);
  const DX = rt.upload('dx', dx0, [T, inDim]);
  const fwd = prepareLoraForward(rt, { ...dims, x: X, weight: W, bias: bias && rt.upload('b', bias, [outDim]), loraA, loraB, u: U, y: Y });
  const bwd = prepareLoraBackward(rt, {
    ...dims, x: X, weight: W, loraA, loraB, u: U, dy: rt.upload('dy', dy, [T, outDim]), g: rt.tensor('g', [T, rank]),
    dx: DX, accumulateDx: true, dA, dB, accumulateGrads: true,
  });
  expect(fwd.length).toBe(2);
  expect(bwd.length).toBe(4);
  rt.run([...fwd, ...bwd, ...bwd]);
  await expectLoraAsRef(rt, { U, Y, DX, dA, dB }, loraForwardRef(x, w, bias, A, B, d), loraBackwardRef(x, w, A, B, dy, d), dx0);
  return { dims, grads, X, W, Y, U, loraA, loraB, dA, dB };
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

/** [T, F] of SwiGLU's fused [T, 2F] gate|up layout: a single element, an odd F, a long row. */
export const SWIGLU_SHAPES = [
  [1, 1],
  [3, 17],
  [7, 300],
] as const;

/** SwiGLU forward and backward on the fused [T, 2F] layout against the f64 references. */
export async function expectSwigluAsRef(rt: Runtime, T: number, F: number): Promise<void> {
  const gu = randn(T * 2 * F, T + F, 6); // |g| up to 6: both tails of the sigmoid
  const dh = randn(T * F, 5);
  const GU = rt.upload('gu', gu, [T, 2 * F]);
  const H = rt.tensor('h', [T, F]);
  const DGU = rt.tensor('dgu', [T, 2 * F]);
  rt.run([prepareSwiglu(rt, { gu: GU, h: H, T, F }), prepareSwigluBackward(rt, { gu: GU, dh: rt.upload('dh', dh, [T, F]), dgu: DGU, T, F })]);
  // exp and one divide in f32: a few ulps relative.
  let r = closeTo(await rt.readF32(H), swigluRef(gu, T, F), 1e-6, 1e-5);
  expect(r.ok, r.worst).toBe(true);
  r = closeTo(await rt.readF32(DGU), swigluBackwardRef(gu, dh, T, F), 1e-6, 1e-5);
  expect(r.ok, r.worst).toBe(true);
}
