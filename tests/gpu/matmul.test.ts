import { describe, expect, it } from 'vitest';
import { bestMatmulVersion, prepareGemvFused, prepareMatmul, vec4Eligible, type MatmulVersion } from '../../src/engine/kernels/matmul/matmul';
import { gemvFusedRef, matmulRef } from '../../src/engine/kernels/matmul/matmul.ref';
import { f32ToF16Array, roundToF16 } from '../../src/engine/convert';
import { closeTo, randn, testRuntime } from '../helpers/gpu';
import type { GpuRuntime } from '../../src/engine/runtime';
import { MATMUL_SHAPES, TRANSPOSITIONS } from '../helpers/kernel-cases';

const SHAPES = MATMUL_SHAPES;
// For vec4: every contiguous dimension a multiple of 4 (so vec4 really runs), M and N still awkward.
const VEC4_SHAPES = [
  [4, 4, 4],
  [1, 36, 64],
  [68, 4, 12],
  [36, 68, 20],
  [100, 132, 260],
];
const TRANS = TRANSPOSITIONS;

// One runtime for the shape sweeps, so each (version, transposition) pipeline compiles once (SwiftShader
// compiles slowly); each case releases its tensors.
let shared: GpuRuntime | undefined;

async function check(version: MatmulVersion, M: number, N: number, K: number, transA: boolean, transB: boolean, f16 = false) {
  const rt = (shared ??= await testRuntime());
  const a = randn(M * K, 1 + M, 1);
  const b = randn(K * N, 2 + N, 1);
  const A = rt.upload('a', a, transA ? [K, M] : [M, K]);
  const bShape = transB ? [N, K] : [K, N];
  const B = f16 ? rt.upload('b16', f32ToF16Array(b), bShape) : rt.upload('b', b, bShape);
  const C = rt.tensor('c', [M, N]);
  const args = { a: A, b: B, out: C, M, N, K, transA, transB };
  const op = prepareMatmul(rt, args, version);
  const ran = version === 'gemv' ? 'gemv' : f16 ? 'f16w' : version === 'vec4' && !vec4Eligible(args) ? 'tiled' : version;
  expect(op.label.startsWith(`matmul_${ran} `)).toBe(true);
  rt.run([op]);
  const got = await rt.readF32(C);
  const want = matmulRef(a, f16 ? roundToF16(b) : b, { M, N, K, transA, transB });
  // f32 accumulation of K products of magnitude ≤ 1 in a different order than the f64 reference:
  // the error grows like √K · 2⁻²⁴ per term (f16 B is compared against the f16-rounded B, so no extra slack).
  const r = closeTo(got, want, 1e-5 * Math.sqrt(K) + 1e-6, 1e-5);
  for (const t of [A, B, C]) rt.release(t);
  expect(r.ok, r.worst).toBe(true);
}

for (const version of ['naive', 'tiled'] as const) {
  describe(`matmul (${version}) against the CPU reference`, () => {
    for (const [M, N, K] of SHAPES) {
      for (const [transA, transB] of version === 'naive' ? TRANS.slice(0, 3) : TRANS) {
        it(`${M}x${N}x${K} transA=${transA} transB=${transB}`, () => check(version, M, N, K, transA, transB));
      }
    }
  });
}

describe('matmul (vec4) against the CPU reference', () => {
  for (const [M, N, K] of VEC4_SHAPES) {
    for (const [transA, transB] of TRANS) {
      it(`${M}x${N}x${K} transA=${transA} transB=${transB}`, () => check('vec4', M, N, K, transA, transB));
    }
  }
  it('falls back to tiled when a contiguous dimension is not a multiple of 4', async () => {
    const rt = await testRuntime();
    const op = prepareMatmul(
      rt,
      { a: rt.tensor('a', [3, 5]), b: rt.tensor('b', [7, 5]), out: rt.tensor('c', [3, 7]), M: 3, N: 7, K: 5 },
      'vec4',
    );
    expect(op.label.startsWith('matmul_tiled')).toBe(true);
    rt.destroy();
  });
});

describe('matmul (f16w: packed-f16 B) against the CPU reference', () => {
  for (const [M, N, K] of [...SHAPES, [36, 68, 20]]) {
    for (const [transA, transB] of [
      [false, true],
      [false, false],
    ] as const) {
      it(`${M}x${N}x${K} transA=${transA} transB=${transB}`, () => check('f16w', M, N, K, transA, transB, true));
    }
  }
  it('rejects f16w with an f32 B', async () => {
    const rt = await testRuntime();
    expect(() =>
      prepareMatmul(rt, { a: rt.tensor('a', [2, 2]), b: rt.tensor('b', [2, 2]), out: rt.tensor('c', [2, 2]), M: 2, N: 2, K: 2 }, 'f16w'),
    ).toThrow(/packed-f16/);
    rt.destroy();
  });
});

// gemv: few rows of A times a weight [N, K]; K a multiple of 8, rows and columns not multiples of its 4×8 block.
const GEMV_SHAPES = [
  [1, 1, 8],
  [1, 37, 64],
  [3, 65, 24],
  [5, 130, 264],
  [16, 9, 8],
  [19, 33, 40],
];

describe('matmul (gemv: few rows) against the CPU reference', () => {
  for (const [M, N, K] of GEMV_SHAPES) {
    it(`${M}x${N}x${K} f32 weight`, () => check('gemv', M, N, K, false, true));
    it(`${M}x${N}x${K} packed-f16 weight`, () => check('gemv', M, N, K, false, true, true));
  }
  it('is the default for decode-sized products and gives way where it cannot run', async () => {
    const rt = await testRuntime();
    const mk = (M: number, N: number, K: number, dtype: 'f32' | 'f16' = 'f16') => ({
      a: rt.tensor('a', [M, K]), b: rt.tensor('b', [N, K], dtype), out: rt.tensor('c', [M, N]), M, N, K,
    });
    expect(bestMatmulVersion(mk(1, 576, 576))).toBe('gemv');
    expect(bestMatmulVersion(mk(16, 64, 64, 'f32'))).toBe('gemv');
    expect(bestMatmulVersion(mk(256, 576, 576))).toBe('f16w');
    // K not a multiple of 8 for packed f16, or a transposed A: the tiled versions run.
    expect(prepareMatmul(rt, mk(1, 8, 12), 'gemv').label.startsWith('matmul_f16w ')).toBe(true);
    expect(prepareMatmul(rt, { ...mk(4, 8, 8, 'f32'), transA: true }, 'gemv').label.startsWith('matmul_tiled ')).toBe(true);
    rt.destroy();
  });
});

describe('matmul options', () => {
  for (const version of ['naive', 'tiled', 'vec4', 'f16w', 'gemv'] as const) {
    it(`${version}: adds a bias, scales by alpha, accumulates${version === 'gemv' ? '' : ', and runs batches'}`, async () => {
      const rt = await testRuntime();
      const [M, N, K, batch] = version === 'gemv' ? [7, 11, 16, 1] : [7, 11, 12, 3];
      const a = randn(batch * M * K, 3);
      let b = randn(batch * N * K, 4);
      const bias = randn(N, 5);
      const c0 = randn(batch * M * N, 6);
      const C = rt.upload('c', c0, [batch, M, N]);
      const B = version === 'f16w' ? rt.upload('b', f32ToF16Array(b), [batch, N, K]) : rt.upload('b', b, [batch, N, K]);
      if (version === 'f16w') b = roundToF16(b);
      expect(prepareMatmul(rt, { a: rt.tensor('a', [M, K]), b: B, out: C, M, N, K, batch }, version).label).toContain(`matmul_${version} `);
      const op = prepareMatmul(
        rt,
        { a: rt.upload('a', a, [batch, M, K]), b: B, bias: rt.upload('bias', bias, [N]), out: C, M, N, K, alpha: 0.5, accumulate: true, batch },
        version,
      );
      rt.run([op]);
      const got = await rt.readF32(C);
      const want = new Float32Array(batch * M * N);
      for (let z = 0; z < batch; z++) {
        const r = matmulRef(a.subarray(z * M * K, (z + 1) * M * K), b.subarray(z * N * K, (z + 1) * N * K), {
          M, N, K, alpha: 0.5, bias, c: c0.subarray(z * M * N, (z + 1) * M * N),
        });
        want.set(r, z * M * N);
      }
      const r = closeTo(got, want, 1e-5, 1e-5);
      expect(r.ok, r.worst).toBe(true);
      // A planted error must be caught: the comparison is not vacuous.
      want[3] += 1e-2;
      expect(closeTo(got, want, 1e-5, 1e-5).ok).toBe(false);
      rt.destroy();
    });
  }

  for (const version of ['tiled', 'vec4', 'f16w', 'gemv'] as const) {
    it(`${version}: adds a residual [M, N] in the epilogue (training's o/down), per batch slice`, async () => {
      const rt = (shared ??= await testRuntime());
      const [M, N, K, batch] = version === 'gemv' ? [5, 13, 24, 1] : [9, 13, 12, 2];
      const a = randn(batch * M * K, 31);
      const b = randn(batch * N * K, 32);
      const res = randn(batch * M * N, 33);
      const f16 = version === 'f16w';
      const A = rt.upload('a', a, [batch, M, K]);
      const B = f16 ? rt.upload('b', f32ToF16Array(b), [batch, N, K]) : rt.upload('b', b, [batch, N, K]);
      const R = rt.upload('residual', res, [batch, M, N]);
      const C = rt.tensor('c', [batch, M, N]);
      const op = prepareMatmul(rt, { a: A, b: B, residual: R, out: C, M, N, K, batch }, version);
      expect(op.label).toContain(`matmul_${version} `);
      rt.run([op]);
      const got = await rt.readF32(C);
      const bb = f16 ? roundToF16(b) : b;
      const want = new Float32Array(batch * M * N);
      for (let z = 0; z < batch; z++) {
        want.set(matmulRef(a.subarray(z * M * K, (z + 1) * M * K), bb.subarray(z * N * K, (z + 1) * N * K), { M, N, K, c: res.subarray(z * M * N, (z + 1) * M * N) }), z * M * N);
      }
      for (const t of [A, B, R, C]) rt.release(t);
      const r = closeTo(got, want, 1e-5, 1e-5);
      expect(r.ok, r.worst).toBe(true);
    });
  }

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

// gemv's fused entry points (decode): several weights of one A in one dispatch, RMSNorm or SwiGLU folded
// into the A loads. Awkward: part widths not multiples of the 8-column block, M not a multiple of 4, a
// part starting mid-buffer (16-byte aligned, not 256), biases at offsets, accumulation.
describe('gemv fused (q|k|v, gate|up, down) against the CPU reference', () => {
  const cases = [
    { M: 1, K: 24, cols: [13, 5, 5], prologue: 'rmsnorm' as const, three: true, f16: true },
    { M: 5, K: 16, cols: [9, 7, 7], prologue: 'rmsnorm' as const, three: true, f16: false, bias: true },
    { M: 3, K: 40, cols: [11, 11], prologue: 'rmsnorm' as const, three: false, f16: true },
    { M: 6, K: 32, cols: [17], prologue: 'swiglu' as const, three: false, f16: true, accumulate: true },
    { M: 2, K: 8, cols: [3, 1], prologue: undefined, three: false, f16: false, bias: true, accumulate: true },
  ];
  for (const c of cases) {
    it(`M ${c.M} K ${c.K} parts [${c.cols}] ${c.prologue ?? 'plain'}${c.three ? ' (3 outputs)' : ''} ${c.f16 ? 'f16' : 'f32'}`, async () => {
      const rt = (shared ??= await testRuntime());
      const { M, K } = c;
      const per = c.f16 ? 8 : 4;
      // Parts packed with an 8-element gap, so that wStart is aligned to 16 bytes but not to a row.
      const wStarts: number[] = [];
      let n = 0;
      for (const cols of c.cols) {
        wStarts.push(n);
        n = Math.ceil((n + cols * K + 1) / per) * per;
      }
      const wRaw = randn(n, 7 + M, 1);
      const w = c.f16 ? roundToF16(wRaw) : wRaw;
      const upOffset = c.prologue === 'swiglu' ? Math.ceil((M * K + 3) / 4) * 4 : 0;
      const a = randn(c.prologue === 'swiglu' ? upOffset + M * K : M * K, 3 + K, 2);
      const g = randn(K, 5, 1.5);
      const biasStarts = c.cols.map((_, i) => i * 64);
      const bias = c.bias ? randn(64 * c.cols.length, 9, 1) : undefined;
      const alpha = c.accumulate ? 0.5 : 1;
      const A = rt.upload('a', a, [a.length]);
      const B = c.f16 ? rt.upload('w16', f32ToF16Array(wRaw), [n], 'f16') : rt.upload('w', w, [n]);
      const G = rt.upload('g', g, [K]);
      const Bias = bias ? rt.upload('bias', bias, [bias.length]) : undefined;
      const outStarts = c.three ? c.cols.map(() => 0) : c.cols.map((_, i) => i * 256);
      const outs = c.three ? c.cols.map((cols, i) => rt.upload(`o${i}`, randn(M * cols, 11 + i, 1), [M * cols])) : [rt.upload('o', randn(256 * c.cols.length, 11, 1), [256 * c.cols.length])];
      const before = await Promise.all(outs.map((o) => rt.readF32(o)));
      const op = prepareGemvFused(rt, {
        a: A, b: B, outs, M, K, alpha, bias: Bias, accumulate: c.accumulate,
        parts: c.cols.map((cols, i) => ({ cols, wStart: wStarts[i], outStart: outStarts[i], biasStart: biasStarts[i] })),
        prologue: c.prologue === 'rmsnorm' ? { kind: 'rmsnorm', weight: G, eps: 1e-5 } : c.prologue === 'swiglu' ? { kind: 'swiglu', upOffset } : undefined,
      });
      rt.run([op]);
      const got = await Promise.all(outs.map((o) => rt.readF32(o)));
      const want = gemvFusedRef(a, w, {
        M, K, alpha, bias, parts: c.cols.map((cols, i) => ({ cols, wStart: wStarts[i], biasStart: biasStarts[i] })),
        prologue: c.prologue === 'rmsnorm' ? { kind: 'rmsnorm', weight: g, eps: 1e-5 } : c.prologue === 'swiglu' ? { kind: 'swiglu', upOffset } : undefined,
      });
      c.cols.forEach((cols, i) => {
        const o = c.three ? i : 0;
        const start = outStarts[i];
        const part = got[o].slice(start, start + M * cols);
        const expected = want[i].map((v, j) => v + (c.accumulate ? before[o][start + j] : 0));
        const r = closeTo(part, expected, 1e-5 * Math.sqrt(K) * 4 + 1e-6, 1e-5);
        expect(r.ok, `part ${i}: ${r.worst}`).toBe(true);
      });
      // Outside the parts nothing is written (the single-output case leaves its gaps alone).
      if (!c.three) for (let i = 0; i < got[0].length; i++) if (!outStarts.some((s, p) => i >= s && i < s + M * c.cols[p])) expect(got[0][i]).toBe(before[0][i]);
      for (const t of [A, B, G, ...(Bias ? [Bias] : []), ...outs]) rt.release(t);
    });
  }
});

// Tensor cores (subgroup matrices): run where the device offers them (a later run on a real GPU); here, on
// SwiftShader, which offers none, asking for sgmat must fall back to the f32 ladder and stay correct.
describe('matmul (sgmat: subgroup matrices, f16 operands, f32 accumulation)', () => {
  const SG_SHAPES = [
    [37, 45, 70, false, true],
    [64, 64, 64, false, true],
    [5, 130, 257, false, false],
    [33, 17, 40, true, true],
  ] as const;
  for (const [M, N, K, transA, transB] of SG_SHAPES) {
    it(`${M}x${N}x${K} transA=${transA} transB=${transB}, packed-f16 and f32 B: the CPU reference on f16-rounded operands`, async () => {
      const rt = (shared ??= await testRuntime());
      const sg = rt.engine.subgroupMatrix;
      const a = randn(M * K, 21 + M, 1);
      const b = randn(K * N, 22 + N, 1);
      for (const f16 of [true, false]) {
        const A = rt.upload('a', a, transA ? [K, M] : [M, K]);
        const bShape = transB ? [N, K] : [K, N];
        const B = f16 ? rt.upload('b16', f32ToF16Array(b), bShape, 'f16') : rt.upload('b', b, bShape);
        const bias = rt.upload('bias', randn(N, 3, 1), [N]);
        const C = rt.upload('c', randn(M * N, 4, 1), [M, N]);
        const c0 = await rt.readF32(C);
        const op = prepareMatmul(rt, { a: A, b: B, out: C, M, N, K, transA, transB, bias, accumulate: true, alpha: 0.5 }, 'sgmat');
        expect(op.label.startsWith('matmul_sgmat')).toBe(Boolean(sg));
        rt.run([op]);
        const got = await rt.readF32(C);
        // sgmat rounds both operands to f16; the fallbacks round only a packed-f16 B.
        const want = matmulRef(sg ? roundToF16(a) : a, sg || f16 ? roundToF16(b) : b, { M, N, K, transA, transB, alpha: 0.5, bias: await rt.readF32(bias), c: c0 });
        const r = closeTo(got, want, 1e-5 * Math.sqrt(K) + 1e-5, 1e-5);
        for (const t of [A, B, C, bias]) rt.release(t);
        expect(r.ok, `${f16 ? 'f16' : 'f32'} B: ${r.worst}`).toBe(true);
      }
    });
  }
  it('the device reports the choice (SwiftShader: none, and nothing requested)', async () => {
    const rt = (shared ??= await testRuntime());
    const r = rt.engine.report;
    expect(r.subgroupMatrix).toEqual(rt.engine.subgroupMatrix);
    if (!r.features.subgroupMatrix) expect(rt.engine.subgroupMatrix).toBeNull();
    expect(r.subgroupMatrixProblem).toBeUndefined();
  });
});

// shader-f16 arithmetic for packed-f16 weights (f16h): where the device grants shader-f16; here (SwiftShader
// has none) asking for it falls back to f16w, f32 arithmetic.
describe('matmul (f16h: f16 tiles and products, f32 accumulation)', () => {
  for (const [M, N, K] of [[33, 65, 17], [5, 130, 257], [64, 64, 64]] as const) {
    it(`${M}x${N}x${K} x·Wᵀ with a packed-f16 weight, bias, accumulate`, async () => {
      const rt = (shared ??= await testRuntime());
      const f16 = rt.engine.f16;
      const a = randn(M * K, 41 + M, 1);
      const b = randn(N * K, 42 + N, 1);
      const A = rt.upload('a', a, [M, K]);
      const B = rt.upload('b16', f32ToF16Array(b), [N, K], 'f16');
      const bias = randn(N, 43, 1);
      const Bias = rt.upload('bias', bias, [N]);
      const c0 = randn(M * N, 44, 1);
      const C = rt.upload('c', c0, [M, N]);
      const op = prepareMatmul(rt, { a: A, b: B, out: C, M, N, K, bias: Bias, accumulate: true }, 'f16h');
      expect(op.label.startsWith(f16 ? 'matmul_f16h ' : 'matmul_f16w ')).toBe(true);
      rt.run([op]);
      const got = await rt.readF32(C);
      const want = matmulRef(f16 ? roundToF16(a) : a, roundToF16(b), { M, N, K, bias, c: c0 });
      for (const t of [A, B, Bias, C]) rt.release(t);
      // f16 products: each rounded once (2⁻¹¹ relative), summed in f32.
      const r = closeTo(got, want, (f16 ? 1e-3 : 1e-5) * Math.sqrt(K) + 1e-5, 1e-5);
      expect(r.ok, r.worst).toBe(true);
    });
  }
});
