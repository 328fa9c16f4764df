// Each dense kernel once, on a small awkward shape, against its CPU reference, on whatever device the
// runtime has (the app shows these; the browser e2e suite runs them in Chromium).
import type { GpuRuntime, Tensor } from '../runtime';
import type { SelfTestResult } from './types';
import { f32ToF16Array, roundToF16 } from '../convert';
import { uniformArray as rand } from '../random';
import { prepareGemvFused, prepareMatmul, type MatmulVersion } from '../kernels/matmul/matmul';
import { gemvFusedRef, matmulRef } from '../kernels/matmul/matmul.ref';
import { prepareEmbedding } from '../kernels/embedding/embedding';
import { embeddingRef } from '../kernels/embedding/embedding.ref';
import { prepareRmsNorm, prepareRmsNormBackward } from '../kernels/rmsnorm/rmsnorm';
import { rmsNormBackwardRef, rmsNormRef } from '../kernels/rmsnorm/rmsnorm.ref';
import { prepareRope, ropeInvFreq } from '../kernels/rope/rope';
import { ropeRef } from '../kernels/rope/rope.ref';
import { prepareSwiglu, prepareSwigluBackward } from '../kernels/swiglu/swiglu';
import { swigluBackwardRef, swigluRef } from '../kernels/swiglu/swiglu.ref';
import { prepareAdd } from '../kernels/elementwise/elementwise';
import { addRef } from '../kernels/elementwise/elementwise.ref';
import { prepareLoraBackward, prepareLoraForward } from '../kernels/lora/lora';
import { loraBackwardRef, loraForwardRef } from '../kernels/lora/lora.ref';

/** Largest |got − want| relative to max(1, |want|): one number per kernel, comparable to a tolerance. */
function maxErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Infinity;
  let m = 0;
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i]));
    if (!(e <= m)) m = Number.isNaN(e) ? Infinity : e;
  }
  return m;
}

export async function selfTestDense(rt: GpuRuntime): Promise<SelfTestResult[]> {
  const results: SelfTestResult[] = [];
  const made: Tensor[] = [];
  const up = (name: string, data: Float32Array | Uint32Array | Uint16Array, shape: number[]) => {
    const t = rt.upload(name, data, shape);
    made.push(t);
    return t;
  };
  const zeros = (name: string, shape: number[]) => {
    const t = rt.tensor(name, shape);
    made.push(t);
    return t;
  };
  const check = (name: string, got: ArrayLike<number>, want: ArrayLike<number>, tolerance: number) => {
    const maxAbsError = maxErr(got, want);
    results.push({ name, maxAbsError, tolerance, ok: maxAbsError <= tolerance });
  };

  try {
    // Matmul ladder: the contiguous dimensions are multiples of 4 so vec4 really runs; M, N are not tiles.
    {
      const [M, N, K] = [37, 34, 20];
      const a = rand(M * K, 1);
      const b = rand(N * K, 2);
      const A = up('a', a, [M, K]);
      const want = matmulRef(a, b, { M, N, K });
      for (const v of ['naive', 'tiled', 'vec4', 'f16w'] as MatmulVersion[]) {
        const B = v === 'f16w' ? up('b16', f32ToF16Array(b), [N, K]) : up('b', b, [N, K]);
        const C = zeros('c', [M, N]);
        rt.run([prepareMatmul(rt, { a: A, b: B, out: C, M, N, K }, v)]);
        const w = v === 'f16w' ? matmulRef(a, roundToF16(b), { M, N, K }) : want;
        check(`matmul_${v} ${M}x${N}x${K}`, await rt.readF32(C), w, 1e-4);
      }
      // The f16-operand versions where this device offers them (shader-f16; tensor cores): both operands
      // rounded to f16 in the reference; f16h also rounds each product (2⁻¹¹ relative).
      const f16Versions = [...(rt.engine.f16 ? [['f16h', 1e-2]] : []), ...(rt.engine.subgroupMatrix ? [['sgmat', 1e-3]] : [])] as [MatmulVersion, number][];
      for (const [v, tol] of f16Versions) {
        const B = up('b16', f32ToF16Array(b), [N, K]);
        const C = zeros('c', [M, N]);
        rt.run([prepareMatmul(rt, { a: A, b: B, out: C, M, N, K }, v)]);
        check(`matmul_${v} ${M}x${N}x${K}`, await rt.readF32(C), matmulRef(roundToF16(a), roundToF16(b), { M, N, K }), tol);
      }
    }
    // Decode's fused projections: q|k|v from one packed-f16 buffer with the RMSNorm folded in, 3 outputs.
    {
      const [M, K] = [3, 24];
      const cols = [13, 5, 5];
      const starts = [0, 320, 448]; // 16-byte aligned parts, rows of 24 halves
      const a = rand(M * K, 21, 2);
      const g = rand(K, 22, 1);
      const wRaw = rand(starts[2] + cols[2] * K, 23);
      const outs = cols.map((c, i) => zeros(`o${i}`, [M, c]));
      rt.run([prepareGemvFused(rt, {
        a: up('x', a, [M, K]), b: up('w16', f32ToF16Array(wRaw), [wRaw.length]), outs, M, K,
        parts: cols.map((c, i) => ({ cols: c, wStart: starts[i] })), prologue: { kind: 'rmsnorm', weight: up('g', g, [K]), eps: 1e-5 },
      })]);
      const want = gemvFusedRef(a, roundToF16(wRaw), { M, K, parts: cols.map((c, i) => ({ cols: c, wStart: starts[i] })), prologue: { kind: 'rmsnorm', weight: g, eps: 1e-5 } });
      const got = await Promise.all(outs.map((o) => rt.readF32(o)));
      check(`matmul_gemv_fused3+rmsnorm ${M}x${cols.join('|')}x${K}`, got.flatMap((x) => [...x]), want.flatMap((x) => [...x]), 1e-4);
    }
    // Embedding gather from a packed-f16 table with odd D.
    {
      const [V, D, T] = [13, 7, 6];
      const table = rand(V * D, 3);
      const ids = Uint32Array.from([0, 12, 5, 5, 1, 7]);
      const out = zeros('emb', [T, D]);
      rt.run([prepareEmbedding(rt, { ids: up('ids', ids, [T]), table: up('tab', f32ToF16Array(table), [V, D]), out, T, D, V })]);
      check('embedding_f16', await rt.readF32(out), embeddingRef(ids, roundToF16(table), D, V), 0);
    }
    // RMSNorm forward and backward.
    {
      const [T, D, eps] = [3, 300, 1e-5];
      const x = rand(T * D, 4, 2);
      const w = rand(D, 5);
      const dy = rand(T * D, 6);
      const X = up('x', x, [T, D]);
      const W = up('w', w, [D]);
      const Y = zeros('y', [T, D]);
      const R = zeros('rstd', [T]);
      const DX = zeros('dx', [T, D]);
      rt.run([
        prepareRmsNorm(rt, { x: X, weight: W, y: Y, rstd: R, T, D, eps }),
        prepareRmsNormBackward(rt, { x: X, weight: W, rstd: R, dy: up('dy', dy, [T, D]), dx: DX, T, D }),
      ]);
      check('rmsnorm', await rt.readF32(Y), rmsNormRef(x, w, T, D, eps).y, 1e-5);
      check('rmsnorm_backward', await rt.readF32(DX), rmsNormBackwardRef(x, w, dy, T, D, eps), 1e-4);
    }
    // RoPE with Llama-3 frequencies into a KV cache, and its backward.
    {
      const [B, S, H, Dh, L, past] = [2, 3, 3, 16, 7, 2];
      const x = rand(B * S * H * Dh, 7);
      const pos = Uint32Array.from({ length: B * S }, (_, t) => past + (t % S) + 100 * Math.floor(t / S));
      const inv = ropeInvFreq({ headDim: Dh, ropeTheta: 500000, ropeScaling: { factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 } });
      const X = up('x', x, [B, S, H, Dh]);
      const P = up('pos', pos, [B * S]);
      const I = up('inv', inv, [Dh / 2]);
      const cache = zeros('cache', [B, L, H, Dh]);
      const DX = zeros('dx', [B, S, H, Dh]);
      rt.run([
        prepareRope(rt, { x: X, out: cache, positions: P, invFreq: I, B, S, H, Dh, L, past }),
        prepareRope(rt, { x: X, out: DX, positions: P, invFreq: I, B, S, H, Dh, backward: true }),
      ]);
      check('rope_kv_cache', await rt.readF32(cache), ropeRef(x, pos, inv, { B, S, H, Dh, L, past }), 1e-5);
      check('rope_backward', await rt.readF32(DX), ropeRef(x, pos, inv, { B, S, H, Dh, backward: true }), 1e-5);
    }
    // SwiGLU forward and backward on a fused [T, 2F] buffer.
    {
      const [T, F] = [5, 37];
      const gu = rand(T * 2 * F, 8, 5);
      const dh = rand(T * F, 9);
      const GU = up('gu', gu, [T, 2 * F]);
      const H = zeros('h', [T, F]);
      const DGU = zeros('dgu', [T, 2 * F]);
      rt.run([prepareSwiglu(rt, { gu: GU, h: H, T, F }), prepareSwigluBackward(rt, { gu: GU, dh: up('dh', dh, [T, F]), dgu: DGU, T, F })]);
      check('swiglu', await rt.readF32(H), swigluRef(gu, T, F), 1e-5);
      check('swiglu_backward', await rt.readF32(DGU), swigluBackwardRef(gu, dh, T, F), 1e-5);
    }
    // Residual add.
    {
      const n = 1001;
      const x = rand(n, 10);
      const y = rand(n, 11);
      const Y = up('y', y, [n]);
      rt.run([prepareAdd(rt, { x: up('x', x, [n]), y: Y, n })]);
      check('add', await rt.readF32(Y), addRef(x, y), 1e-6);
    }
    // LoRA linear, packed-f16 base weight, dropout on.
    {
      const [T, inDim, outDim, rank] = [9, 19, 11, 4];
      const scale = 2;
      const drop = { p: 0.1, seed: 42, step: 3, salt: 5 };
      const x = rand(T * inDim, 12);
      const w = rand(outDim * inDim, 13, 0.5);
      const bias = rand(outDim, 14);
      const A = rand(rank * inDim, 15, 0.3);
      const Bm = rand(outDim * rank, 16, 0.3);
      const dy = rand(T * outDim, 17);
      const state = up('state', Uint32Array.from([drop.seed, drop.step]), [2]);
      const dims = { T, inDim, outDim, rank, scale, dropout: { p: drop.p, state, salt: drop.salt } };
      const X = up('x', x, [T, inDim]);
      const W = up('w16', f32ToF16Array(w), [outDim, inDim]);
      const LA = up('A', A, [rank, inDim]);
      const LB = up('B', Bm, [outDim, rank]);
      const U = zeros('u', [T, rank]);
      const Y = zeros('y', [T, outDim]);
      const DX = zeros('dx', [T, inDim]);
      const DA = zeros('dA', [rank, inDim]);
      const DB = zeros('dB', [outDim, rank]);
      rt.run([
        ...prepareLoraForward(rt, { ...dims, x: X, weight: W, bias: up('bias', bias, [outDim]), loraA: LA, loraB: LB, u: U, y: Y }),
        ...prepareLoraBackward(rt, { ...dims, x: X, weight: W, loraA: LA, loraB: LB, u: U, dy: up('dy', dy, [T, outDim]), g: zeros('g', [T, rank]), dx: DX, dA: DA, dB: DB }),
      ]);
      const wr = roundToF16(w);
      const rd = { T, inDim, outDim, rank, scale, dropout: drop };
      const an = loraBackwardRef(x, wr, A, Bm, dy, rd);
      check('lora_forward', await rt.readF32(Y), loraForwardRef(x, wr, bias, A, Bm, rd).y, 1e-4);
      check('lora_backward_dx', await rt.readF32(DX), an.dx, 1e-4);
      check('lora_backward_dA', await rt.readF32(DA), an.dA, 1e-4);
      check('lora_backward_dB', await rt.readF32(DB), an.dB, 1e-4);
    }
  } finally {
    for (const t of made) rt.release(t);
  }
  return results;
}
