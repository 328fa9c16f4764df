// The CPU backend's products (matmul.cpu.ts, gemm.cpu.ts, gemm_simd.cpu.ts, lora.cpu.ts) against the f64 references, on the
// awkward shapes tests/gpu/matmul.test.ts and tests/gpu/lora.test.ts give the WGSL versions, with the same
// tolerances (the CPU sums in f32 registers like the GPU, so it must meet them). Operands sit at odd element
// offsets inside larger buffers (the CPU takes any offset), and what lies outside an output must not change.
import { describe, expect, it } from 'vitest';
import { CpuRuntime } from '../../../src/engine/cpu-runtime';
import { prepareGemvFused, prepareMatmul, type MatmulArgs } from '../../../src/engine/kernels/matmul/matmul';
import { gemvFusedRef, matmulRef } from '../../../src/engine/kernels/matmul/matmul.ref';
import { prepareLoraBackward, prepareLoraForward } from '../../../src/engine/kernels/lora/lora';
import { dropoutMaskRef, loraForwardRef, type LoraRefDims } from '../../../src/engine/kernels/lora/lora.ref';
import { numel, type Tensor } from '../../../src/engine/tensor';
import { gemmSimd, simdInstance, simdModule } from '../../../src/engine/kernels/matmul/gemm_simd.cpu';
import { threadContext } from '../../../src/engine/cpu-threads';
import { closeTo, randn } from '../../helpers/close';
import { expectLoraLinearAsRef, LORA_CASES, MATMUL_SHAPES, TRANSPOSITIONS } from '../../helpers/kernel-cases';

const SENTINEL = 12345.5;

/**
 * `data` placed at element `at` of a buffer `pad` elements longer on both sides, filled with SENTINEL,
 * and returned as a view: a kernel that reads or writes past its view's ends shows up.
 */
function placed(rt: CpuRuntime, name: string, data: Float32Array, shape: number[], at: number): Tensor {
  const pad = 7;
  const whole = rt.tensor(`${name} buffer`, [at + data.length + pad]);
  rt.write(whole, new Float32Array(at + data.length + pad).fill(SENTINEL));
  const v = rt.view(whole, at, shape, name);
  rt.write(v, data);
  return v;
}

/** The elements of `t`'s buffer outside the view are all still SENTINEL. */
function untouchedAround(t: Tensor): boolean {
  const all = new Float32Array((t.buffer as { data: ArrayBuffer }).data);
  const from = (t.offset ?? 0) / 4;
  const to = from + numel(t.shape);
  return all.every((v, i) => (i >= from && i < to) || v === SENTINEL);
}

// The shared awkward shapes, and two more around the 4 × 4 register block.
const SHAPES = [...MATMUL_SHAPES, [3, 6, 2], [4, 4, 4]];

describe('CPU matmul against the reference: every transposition, awkward shapes, views at odd offsets', () => {
  const rt = new CpuRuntime();
  for (const [M, N, K] of SHAPES)
    for (const [transA, transB] of TRANSPOSITIONS) {
      it(`${M}x${N}x${K} transA=${transA} transB=${transB}`, async () => {
        const a = randn(M * K, 1 + M, 1);
        const b = randn(K * N, 2 + N, 1);
        const A = placed(rt, 'a', a, transA ? [K, M] : [M, K], 3);
        const B = placed(rt, 'b', b, transB ? [N, K] : [K, N], 5);
        const C = placed(rt, 'c', randn(M * N, 3, 1), [M, N], 1);
        const op = prepareMatmul(rt, { a: A, b: B, out: C, M, N, K, transA, transB });
        expect(op.label.startsWith('matmul_cpu ')).toBe(true);
        rt.run([op]);
        const want = matmulRef(a, b, { M, N, K, transA, transB });
        // As tests/gpu/matmul.test.ts: f32 sums of K products of size ≤ 1, reordered against f64.
        const r = closeTo(await rt.readF32(C), want, 1e-5 * Math.sqrt(K) + 1e-6, 1e-5);
        expect(r.ok, r.worst).toBe(true);
        for (const t of [A, B, C]) expect(untouchedAround(t), t.label).toBe(true);
        // The operands are read, never written.
        expect(Array.from(await rt.readF32(A))).toEqual(Array.from(a));
        expect(Array.from(await rt.readF32(B))).toEqual(Array.from(b));
      });
    }

  for (const [transA, transB] of TRANSPOSITIONS)
    it(`batch 3, alpha 0.5, bias, accumulate (transA=${transA} transB=${transB})`, async () => {
      const [M, N, K, batch] = [7, 11, 13, 3];
      const a = randn(batch * M * K, 3);
      const b = randn(batch * N * K, 4);
      const bias = randn(N, 5);
      const c0 = randn(batch * M * N, 6);
      const A = placed(rt, 'a', a, [batch, M * K], 1);
      const B = placed(rt, 'b', b, [batch, N * K], 2);
      const C = placed(rt, 'c', c0, [batch, M, N], 3);
      const op = prepareMatmul(rt, { a: A, b: B, bias: placed(rt, 'bias', bias, [N], 1), out: C, M, N, K, transA, transB, alpha: 0.5, accumulate: true, batch });
      rt.run([op]);
      const got = await rt.readF32(C);
      const want = new Float32Array(batch * M * N);
      for (let z = 0; z < batch; z++) {
        const sa = a.subarray(z * M * K, (z + 1) * M * K), sb = b.subarray(z * N * K, (z + 1) * N * K);
        want.set(matmulRef(sa, sb, { M, N, K, transA, transB, alpha: 0.5, bias, c: c0.subarray(z * M * N, (z + 1) * M * N) }), z * M * N);
      }
      const r = closeTo(got, want, 1e-5, 1e-5);
      expect(r.ok, r.worst).toBe(true);
      expect(untouchedAround(C)).toBe(true);
      // A planted error is caught: the comparison is not vacuous.
      want[3] += 1e-2;
      expect(closeTo(got, want, 1e-5, 1e-5).ok).toBe(false);
    });

  it('a residual [M, N] per batch slice (training o/down), with and without accumulate', async () => {
    const [M, N, K, batch] = [9, 13, 5, 2];
    const a = randn(batch * M * K, 31);
    const b = randn(batch * N * K, 32);
    const res = randn(batch * M * N, 33);
    const c0 = randn(batch * M * N, 34);
    for (const accumulate of [false, true]) {
      const C = placed(rt, 'c', c0, [batch, M, N], 2);
      const args: MatmulArgs = { a: placed(rt, 'a', a, [batch, M, K], 1), b: placed(rt, 'b', b, [batch, N, K], 0), residual: placed(rt, 'r', res, [batch, M, N], 3), out: C, M, N, K, batch, accumulate };
      rt.run([prepareMatmul(rt, args)]);
      const want = new Float32Array(batch * M * N);
      for (let z = 0; z < batch; z++) {
        const sl = (x: Float32Array, n: number) => x.subarray(z * n, (z + 1) * n);
        const r = matmulRef(sl(a, M * K), sl(b, N * K), { M, N, K, c: sl(res, M * N) });
        want.set(accumulate ? r.map((v, i) => v + c0[z * M * N + i]) : r, z * M * N);
      }
      const r = closeTo(await rt.readF32(C), want, 1e-5, 1e-5);
      expect(r.ok, `accumulate ${accumulate}: ${r.worst}`).toBe(true);
    }
  });

  it('refuses a bias with a residual, a LoRA epilogue on a batch, and packed-f16 weights', () => {
    const t = (n: number, dtype: 'f32' | 'f16' = 'f32') => rt.tensor('t', [n], dtype);
    expect(() => prepareMatmul(rt, { a: t(4), b: t(4), out: t(4), bias: t(2), residual: t(4), M: 2, N: 2, K: 2 })).toThrow(/bias and a residual/);
    expect(() => prepareMatmul(rt, { a: t(8), b: t(8), out: t(8), M: 2, N: 2, K: 2, batch: 2, lora: { kind: 'up', u: t(2), loraB: t(2), rank: 1, scale: 1 } })).toThrow(/batch 1/);
    expect(() => prepareMatmul(rt, { a: t(4), b: t(4, 'f16'), out: t(4), M: 2, N: 2, K: 2 })).toThrow(/f32 weights/);
  });

  it('ops share the runtime scratch: a larger one prepared later leaves an earlier op correct, and running allocates nothing', async () => {
    const small = { M: 3, N: 5, K: 7 };
    const big = { M: 40, N: 50, K: 60 };
    const mk = (s: typeof small, seed: number) => {
      const a = randn(s.M * s.K, seed), b = randn(s.K * s.N, seed + 1);
      const C = rt.tensor('c', [s.M, s.N]);
      // transA and !transB: both operands go through the scratch.
      const op = prepareMatmul(rt, { a: rt.upload('a', a, [s.K, s.M]), b: rt.upload('b', b, [s.K, s.N]), out: C, ...s, transA: true, transB: false });
      return { op, C, want: matmulRef(a, b, { ...s, transA: true, transB: false }) };
    };
    const first = mk(small, 40);
    const second = mk(big, 50);
    const allocs = rt.counters.allocations;
    rt.run([second.op, first.op, second.op]);
    expect(rt.counters.allocations).toBe(allocs);
    for (const x of [first, second]) {
      const r = closeTo(await rt.readF32(x.C), x.want, 1e-4, 1e-5);
      expect(r.ok, r.worst).toBe(true);
    }
  });
});

describe('CPU matmul LoRA epilogues', () => {
  const rt = new CpuRuntime();

  for (const [M, N, K, r] of [[1, 1, 1, 1], [5, 9, 7, 3], [17, 33, 12, 8]])
    it(`up: C = x·Wᵀ + bias + s·u·Bᵀ, ${M}x${N}x${K} r${r}, accumulate`, async () => {
      const x = randn(M * K, 1), w = randn(N * K, 2), u = randn(M * r, 3), lb = randn(N * r, 4), bias = randn(N, 5), c0 = randn(M * N, 6);
      const C = placed(rt, 'c', c0, [M, N], 1);
      rt.run([prepareMatmul(rt, {
        a: placed(rt, 'x', x, [M, K], 2), b: placed(rt, 'w', w, [N, K], 3), bias: rt.upload('bias', bias, [N]), out: C, M, N, K, accumulate: true,
        lora: { kind: 'up', u: placed(rt, 'u', u, [M, r], 1), loraB: placed(rt, 'B', lb, [N, r], 5), rank: r, scale: 1.75 },
      })]);
      const base = matmulRef(x, w, { M, N, K, bias, c: c0 });
      const lora = matmulRef(u, lb, { M, N, K: r, alpha: 1.75 });
      const res = closeTo(await rt.readF32(C), base.map((v, i) => v + lora[i]), 2e-5, 1e-5);
      expect(res.ok, res.worst).toBe(true);
      expect(untouchedAround(C)).toBe(true);
    });

  for (const p of [0, 0.3])
    it(`dx: C = dY·W + m ⊙ (g·A), dropout p = ${p}, accumulate`, async () => {
      const [T, inDim, outDim, r] = [6, 11, 5, 3];
      const dy = randn(T * outDim, 1), w = randn(outDim * inDim, 2), g = randn(T * r, 3), la = randn(r * inDim, 4), c0 = randn(T * inDim, 5);
      const d: LoraRefDims = { T, inDim, outDim, rank: r, scale: 1, dropout: { p, seed: 77, step: 3, salt: 9 } };
      const state = rt.upload('state', new Uint32Array([77, 3]), [2]);
      const threshold = Math.min(0xffffffff, Math.round(p * 2 ** 32));
      const C = placed(rt, 'dx', c0, [T, inDim], 3);
      rt.run([prepareMatmul(rt, {
        a: placed(rt, 'dy', dy, [T, outDim], 1), b: placed(rt, 'w', w, [outDim, inDim], 2), out: C, M: T, N: inDim, K: outDim, transB: false, accumulate: true,
        lora: { kind: 'dx', g: placed(rt, 'g', g, [T, r], 1), loraA: placed(rt, 'A', la, [r, inDim], 3), rank: r, dropout: p > 0 ? { state, salt: 9, threshold, keepScale: 1 / (1 - p) } : undefined },
      })]);
      const m = dropoutMaskRef(d);
      const base = matmulRef(dy, w, { M: T, N: inDim, K: outDim, transB: false, c: c0 });
      const term = matmulRef(g, la, { M: T, N: inDim, K: r, transB: false });
      const res = closeTo(await rt.readF32(C), base.map((v, i) => v + m[i] * term[i]), 2e-5, 1e-5);
      expect(res.ok, res.worst).toBe(true);
      if (p > 0) expect(m.some((v) => v === 0)).toBe(true);
    });

  it('dx: the dropout mask is dropoutMaskRef exactly (g·A = 1, no base product)', async () => {
    const [T, inDim, p] = [13, 37, 0.25];
    for (const [seed, step, salt] of [[1, 0, 0], [1234, 5, 3], [0xffffffff, 99, 17]]) {
      const state = rt.upload('state', new Uint32Array([seed, step]), [2]);
      const C = rt.tensor('dx', [T, inDim]);
      rt.run([prepareMatmul(rt, {
        a: rt.tensor('dy', [T, 1]), b: rt.tensor('w', [1, inDim]), out: C, M: T, N: inDim, K: 1, transB: false,
        lora: { kind: 'dx', g: rt.upload('g', new Float32Array(T).fill(1), [T, 1]), loraA: rt.upload('A', new Float32Array(inDim).fill(1), [1, inDim]), rank: 1,
          dropout: { state, salt, threshold: Math.round(p * 2 ** 32), keepScale: 1 / (1 - p) } },
      })]);
      const want = dropoutMaskRef({ T, inDim, outDim: 1, rank: 1, scale: 1, dropout: { p, seed, step, salt } });
      expect(Array.from(await rt.readF32(C))).toEqual(Array.from(want));
    }
  });
});

describe('CPU LoRA linear (prepareLoraForward / prepareLoraBackward) against loraForwardRef / loraBackwardRef', () => {
  for (const c of LORA_CASES)
    it(`r=${c.rank} T=${c.T} in=${c.inDim} out=${c.outDim} p=${c.p}`, async () => {
      const rt = new CpuRuntime();
      const { T, inDim, rank } = c;
      // Unaligned views, zero padding around them: the CPU takes any element offset.
      const { dims, grads, X, W, Y, loraA, loraB, U, dA, dB } = await expectLoraLinearAsRef(rt, c, (aSize) => ({ a: 1, b: aSize + 3, end: aSize + 4 }));
      const offB = rank * inDim + 3;
      // The padding around the views stays zero (nothing written past a view).
      const g = await rt.readF32(grads);
      expect([g[0], g[g.length - 1], ...g.subarray(1 + rank * inDim, offB)].every((v) => v === 0)).toBe(true);
      // Without dx the backward is 3 ops and leaves dx alone.
      expect(prepareLoraBackward(rt, { ...dims, x: X, weight: W, loraA, loraB, u: U, dy: Y, g: rt.tensor('g', [T, rank]), dA, dB }).length).toBe(3);
    });

  it('o/down with LoRA: the residual stream added in the same op (residual + up epilogue), dropout on', async () => {
    const rt = new CpuRuntime();
    const [T, inDim, outDim, rank] = [7, 10, 6, 3];
    const x = randn(T * inDim, 11), w = randn(outDim * inDim, 12), A = randn(rank * inDim, 13), B = randn(outDim * rank, 14), res = randn(T * outDim, 15);
    const state = rt.upload('dropout', new Uint32Array([5, 2]), [2]);
    const Y = rt.upload('y', new Float32Array(T * outDim).fill(NaN), [T, outDim]);
    rt.run(prepareLoraForward(rt, {
      T, inDim, outDim, rank, scale: 0.5, dropout: { p: 0.2, state, salt: 4 }, residual: placed(rt, 'res', res, [T, outDim], 1),
      x: rt.upload('x', x, [T, inDim]), weight: rt.upload('w', w, [outDim, inDim]), loraA: rt.upload('A', A, [rank, inDim]), loraB: rt.upload('B', B, [outDim, rank]), u: rt.tensor('u', [T, rank]), y: Y,
    }));
    const d: LoraRefDims = { T, inDim, outDim, rank, scale: 0.5, dropout: { p: 0.2, seed: 5, step: 2, salt: 4 } };
    const r = closeTo(await rt.readF32(Y), loraForwardRef(x, w, undefined, A, B, d).y.map((v, i) => v + res[i]), 1e-5, 1e-5);
    expect(r.ok, r.worst).toBe(true);
  });

  it('a different step draws a different mask (the state tensor is read at run time), and the forward accumulates', async () => {
    const rt = new CpuRuntime();
    const [T, inDim, outDim, rank] = [4, 8, 3, 2];
    const x = randn(T * inDim, 1), w = randn(outDim * inDim, 2), A = randn(rank * inDim, 3), B = randn(outDim * rank, 4), y0 = randn(T * outDim, 5);
    const state = rt.upload('dropout', new Uint32Array([9, 0]), [2]);
    const U = rt.tensor('u', [T, rank]);
    const Y = rt.upload('y', y0, [T, outDim]);
    const ops = prepareLoraForward(rt, {
      T, inDim, outDim, rank, scale: 2, dropout: { p: 0.5, state, salt: 0 }, accumulate: true,
      x: rt.upload('x', x, [T, inDim]), weight: rt.upload('w', w, [outDim, inDim]), loraA: rt.upload('A', A, [rank, inDim]), loraB: rt.upload('B', B, [outDim, rank]), u: U, y: Y,
    });
    rt.run(ops);
    const d = (step: number): LoraRefDims => ({ T, inDim, outDim, rank, scale: 2, dropout: { p: 0.5, seed: 9, step, salt: 0 } });
    let r = closeTo(await rt.readF32(Y), loraForwardRef(x, w, undefined, A, B, d(0)).y.map((v, i) => v + y0[i]), 1e-5, 1e-5);
    expect(r.ok, r.worst).toBe(true);
    const u0 = await rt.readF32(U);
    rt.write(state, new Uint32Array([9, 1]));
    rt.run(ops);
    const u1 = await rt.readF32(U);
    expect(Array.from(u1)).not.toEqual(Array.from(u0));
    r = closeTo(u1, loraForwardRef(x, w, undefined, A, B, d(1)).u, 1e-5, 1e-5);
    expect(r.ok, r.worst).toBe(true);
  });
});

// As tests/gpu/matmul.test.ts's fused gemv cases (the CPU takes f32 weights only).
describe('CPU gemv fused (q|k|v, gate|up, down) against gemvFusedRef', () => {
  const cases = [
    { M: 1, K: 24, cols: [13, 5, 5], prologue: 'rmsnorm' as const, three: true },
    { M: 5, K: 16, cols: [9, 7, 7], prologue: 'rmsnorm' as const, three: true, bias: true },
    { M: 3, K: 40, cols: [11, 11], prologue: 'rmsnorm' as const, three: false, accumulate: true },
    { M: 6, K: 32, cols: [17], prologue: 'swiglu' as const, three: false, accumulate: true },
    { M: 1, K: 12, cols: [1], prologue: 'swiglu' as const, three: false, bias: true },
    { M: 2, K: 8, cols: [3, 1], prologue: undefined, three: false, bias: true, accumulate: true },
    { M: 7, K: 4, cols: [2, 3, 1], prologue: undefined, three: true },
  ];
  const rt = new CpuRuntime();
  for (const c of cases)
    it(`M ${c.M} K ${c.K} parts [${c.cols}] ${c.prologue ?? 'plain'}${c.three ? ' (3 outputs)' : ''}${c.bias ? ', bias' : ''}${c.accumulate ? ', accumulate' : ''}`, async () => {
      const { M, K } = c;
      const wStarts: number[] = [];
      let n = 0;
      for (const cols of c.cols) {
        wStarts.push(n);
        n = Math.ceil((n + cols * K + 1) / 4) * 4;
      }
      const w = randn(n, 7 + M, 1);
      const upOffset = c.prologue === 'swiglu' ? Math.ceil((M * K + 3) / 4) * 4 : 0;
      const a = randn(c.prologue === 'swiglu' ? upOffset + M * K : M * K, 3 + K, 2);
      const g = randn(K, 5, 1.5);
      const biasStarts = c.cols.map((_, i) => i * 64 + 3);
      const bias = c.bias ? randn(64 * c.cols.length + 3, 9, 1) : undefined;
      const alpha = c.accumulate ? 0.5 : 1;
      const outStarts = c.three ? c.cols.map(() => 0) : c.cols.map((_, i) => i * 256 + 5);
      const outs = c.three ? c.cols.map((cols, i) => rt.upload(`o${i}`, randn(M * cols, 11 + i, 1), [M * cols])) : [rt.upload('o', randn(256 * c.cols.length, 11, 1), [256 * c.cols.length])];
      const before = await Promise.all(outs.map((o) => rt.readF32(o)));
      const prologue = c.prologue === 'rmsnorm' ? { kind: 'rmsnorm' as const, eps: 1e-5 } : c.prologue === 'swiglu' ? { kind: 'swiglu' as const, upOffset } : undefined;
      const op = prepareGemvFused(rt, {
        a: rt.upload('a', a, [a.length]), b: rt.upload('w', w, [n]), outs, M, K, alpha, bias: bias && rt.upload('bias', bias, [bias.length]), accumulate: c.accumulate,
        parts: c.cols.map((cols, i) => ({ cols, wStart: wStarts[i], outStart: outStarts[i], biasStart: biasStarts[i] })),
        prologue: prologue?.kind === 'rmsnorm' ? { ...prologue, weight: rt.upload('g', g, [K]) } : prologue,
      });
      expect(op.label.startsWith(`gemv_fused_cpu${c.prologue ? `+${c.prologue}` : ''} `)).toBe(true);
      rt.run([op]);
      const got = await Promise.all(outs.map((o) => rt.readF32(o)));
      const want = gemvFusedRef(a, w, {
        M, K, alpha, bias, parts: c.cols.map((cols, i) => ({ cols, wStart: wStarts[i], biasStart: biasStarts[i] })),
        prologue: prologue?.kind === 'rmsnorm' ? { ...prologue, weight: g } : prologue,
      });
      c.cols.forEach((cols, i) => {
        const o = c.three ? i : 0;
        const start = outStarts[i];
        const expected = want[i].map((v, j) => v + (c.accumulate ? before[o][start + j] : 0));
        const r = closeTo(got[o].slice(start, start + M * cols), expected, 1e-5 * Math.sqrt(K) * 4 + 1e-6, 1e-5);
        expect(r.ok, `part ${i}: ${r.worst}`).toBe(true);
      });
      if (!c.three) for (let i = 0; i < got[0].length; i++) if (!outStarts.some((s, p) => i >= s && i < s + M * c.cols[p])) expect(got[0][i]).toBe(before[0][i]);
    });
});

describe('gemmSimd (gemm_simd.wat, WebAssembly SIMD): gemmNT\'s contract on awkward shapes, strides and offsets', () => {
  const module = simdModule();
  it('runs here (Node has WebAssembly SIMD), and the runtime takes it for products of 4 rows or more', () => {
    expect(module).not.toBeNull();
    expect(new CpuRuntime().summary().description).toContain('WebAssembly SIMD products');
    expect(new CpuRuntime(undefined, undefined, { simd: false }).summary().description).toContain('plain-JS products');
  });
  // Rows not a multiple of 4, columns not of 8, K of 1 and odd, long K; lda > K, ldb > K, ldc > N.
  for (const [M, N, K] of [[4, 8, 1], [5, 9, 3], [7, 1, 33], [1, 17, 5], [13, 31, 64], [64, 72, 257], [100, 3, 7]]) {
    for (const beta of [0, 1] as const)
      it(`${M}x${N}x${K} beta=${beta}: within f32 summation of the f64 product; nothing outside C's rows changes`, () => {
        const ctx = threadContext(simdInstance(module!));
        const [lda, ldb, ldc, aOff, bOff, cOff] = [K + 3, K + 1, N + 5, 2, 7, 3];
        const A = randn(aOff + M * lda, 1 + M, 1), B = randn(bOff + N * ldb, 2 + N, 1);
        const C0 = randn(cOff + M * ldc, 3, 1);
        const C = C0.slice();
        gemmSimd.call(ctx, M, N, K, 0.75, A, aOff, lda, B, bOff, ldb, C, cOff, ldc, beta);
        for (let i = 0; i < M; i++)
          for (let j = 0; j < ldc; j++) {
            const at = cOff + i * ldc + j;
            if (j >= N) {
              expect(C[at]).toBe(C0[at]);
              continue;
            }
            let want = 0;
            for (let k = 0; k < K; k++) want += A[aOff + i * lda + k] * B[bOff + j * ldb + k];
            want = 0.75 * want + (beta ? C0[at] : 0);
            expect(Math.abs(C[at] - want)).toBeLessThan(1e-5 * Math.sqrt(K) * 4 + 1e-6);
          }
        for (let e = 0; e < cOff; e++) expect(C[e]).toBe(C0[e]);
      });
  }
});
