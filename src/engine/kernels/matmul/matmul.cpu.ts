/**
 * The CPU backend's matmul (matmul.ts's MatmulArgs and GemvFusedArgs): every layout brought to gemmNT's
 * A·Bᵀ form (transposing into the runtime's shared scratch where an operand runs the other way), then the
 * same epilogue as matmul_common.wgsl — alpha, the LoRA term, bias or residual, accumulate. f32 only: the
 * CPU backend keeps weights in f32 (CpuRuntime.packedF16 is false).
 */
import { f32v, u32v, type CpuRuntime } from '../../cpu-runtime';
import type { Tensor } from '../../tensor';
import { dropoutKey, dropoutKeep } from '../lora/dropout.cpu';
import { transpose } from './gemm.cpu';
import type { GemvFusedArgs, MatmulArgs } from './matmul.types';

function f32Only(t: Tensor, what: string): void {
  if (t.dtype !== 'f32') throw new Error(`matmul (CPU): ${what} ${t.label} is ${t.dtype}; the CPU backend computes with f32 weights`);
}

/** The op's body: C = alpha·op(A)·op(B) (+LoRA term) (+bias | +residual) (+C). */
export function matmulCpu(rt: CpuRuntime, args: MatmulArgs): () => void {
  const { M, N, K, transA = false, transB = true, alpha = 1, accumulate = false, batch = 1, lora } = args;
  f32Only(args.a, 'a');
  f32Only(args.b, 'b');
  const A = f32v(args.a, batch * M * K);
  const B = f32v(args.b, batch * K * N);
  const C = f32v(args.out, batch * M * N);
  const bias = args.bias ? f32v(args.bias, N) : null;
  const res = args.residual ? f32v(args.residual, batch * M * N) : null;
  // Scratch: A transposed to [M, K] when stored [K, M]; B to [N, K] when stored [K, N]; one row for the dx term.
  const prod = productScratch(M, N, K, transA, transB);
  const need = prod + (lora?.kind === 'dx' ? N : 0);
  rt.scratch(need);
  const up = lora?.kind === 'up' ? { U: f32v(lora.u, M * lora.rank), LB: f32v(lora.loraB, N * lora.rank), r: lora.rank, s: lora.scale } : null;
  const dx = lora?.kind === 'dx'
    ? {
        G: f32v(lora.g, M * lora.rank), LA: f32v(lora.loraA, lora.rank * N), r: lora.rank,
        drop: lora.dropout ? { state: u32v(lora.dropout.state, 2), salt: lora.dropout.salt, threshold: lora.dropout.threshold, keep: Math.fround(lora.dropout.keepScale) } : null,
      }
    : null;
  return () => {
    const S = rt.scratch(need);
    for (let z = 0; z < batch; z++) {
      const co = z * M * N;
      // Accumulate: the old C is the epilogue's last term; with the product added into it, the sum is the same.
      product(rt, M, N, K, transA, transB, alpha, A, z * M * K, B, z * K * N, C, co, accumulate ? 1 : 0, S, 0);
      if (up) rt.gemm(M, N, up.r, up.s, up.U, 0, up.r, up.LB, 0, up.r, C, co, N, 1);
      if (bias) for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) C[co + i * N + j] += bias[j];
      if (res) for (let e = co; e < co + M * N; e++) C[e] += res[e];
      if (dx) addDxTerm(M, N, dx, C, S, prod);
    }
  };
}

/** Scratch elements `product` needs for these layouts. */
export function productScratch(M: number, N: number, K: number, transA: boolean, transB: boolean): number {
  return (transA ? M * K : 0) + (transB ? 0 : N * K);
}

/**
 * C[cOff…] = beta·C + alpha·op(A)·op(B) on the runtime's threads, op(A) [M, K] (A stored [K, M] when transA), op(B) [K, N] (B stored
 * [N, K] when transB): the operands that run the other way are transposed into S from sOff first.
 */
export function product(
  rt: CpuRuntime, M: number, N: number, K: number, transA: boolean, transB: boolean, alpha: number,
  A: Float32Array, aOff: number, B: Float32Array, bOff: number, C: Float32Array, cOff: number, beta: 0 | 1,
  S: Float32Array, sOff: number,
): void {
  let Am = A, Bm = B;
  if (transA) {
    transpose(A, aOff, K, M, S, sOff);
    Am = S;
    aOff = sOff;
    sOff += M * K;
  }
  if (!transB) {
    transpose(B, bOff, K, N, S, sOff);
    Bm = S;
    bOff = sOff;
  }
  rt.gemm(M, N, K, alpha, Am, aOff, K, Bm, bOff, K, C, cOff, N, beta);
}

/** C += m ⊙ (G·LA): G [M, r], LA [r, N], m the dropout multiplier of x[row, col] (1 without dropout). */
function addDxTerm(
  M: number, N: number,
  t: { G: Float32Array; LA: Float32Array; r: number; drop: { state: Uint32Array; salt: number; threshold: number; keep: number } | null },
  C: Float32Array, row: Float32Array, rowOff: number,
): void {
  const key = t.drop ? dropoutKey(t.drop.state[0], t.drop.state[1], t.drop.salt) : 0;
  for (let i = 0; i < M; i++) {
    row.fill(0, rowOff, rowOff + N);
    for (let q = 0; q < t.r; q++) {
      const g = t.G[i * t.r + q];
      const la = q * N;
      for (let j = 0; j < N; j++) row[rowOff + j] += g * t.LA[la + j];
    }
    const c = i * N;
    if (t.drop) for (let j = 0; j < N; j++) C[c + j] += dropoutKeep(key, c + j, t.drop.threshold, t.drop.keep) * row[rowOff + j];
    else for (let j = 0; j < N; j++) C[c + j] += row[rowOff + j];
  }
}

/** Several projections of one A, the op before them (RMSNorm or SwiGLU) applied to A first (decode). */
export function gemvFusedCpu(rt: CpuRuntime, args: GemvFusedArgs): () => void {
  const { M, K, parts, accumulate = false, alpha = 1, prologue } = args;
  f32Only(args.b, 'b');
  const swiglu = prologue?.kind === 'swiglu';
  const A = f32v(args.a, swiglu ? prologue.upOffset + M * K : M * K);
  const B = f32v(args.b, args.b.shape.reduce((x, y) => x * y, 1));
  const outs = args.outs.map((o) => f32v(o));
  const bias = args.bias ? f32v(args.bias) : null;
  const g = prologue?.kind === 'rmsnorm' ? { w: f32v(prologue.weight, K), eps: prologue.eps } : null;
  rt.scratch(M * K);
  return () => {
    const X = rt.scratch(M * K);
    for (let i = 0; i < M; i++) {
      const a = i * K;
      if (g) {
        let ss = 0;
        for (let k = 0; k < K; k++) ss += A[a + k] * A[a + k];
        const rstd = 1 / Math.sqrt(ss / K + g.eps);
        for (let k = 0; k < K; k++) X[a + k] = g.w[k] * (A[a + k] * rstd);
      } else if (swiglu) {
        for (let k = 0; k < K; k++) {
          const v = A[a + k];
          X[a + k] = (v / (1 + Math.exp(-v))) * A[prologue.upOffset + a + k];
        }
      } else for (let k = 0; k < K; k++) X[a + k] = A[a + k];
    }
    for (let n = 0; n < parts.length; n++) {
      const p = parts[n];
      const out = outs.length > 1 ? outs[n] : outs[0];
      const o = p.outStart ?? 0;
      // A part's dense [M, cols] output: row stride cols (as the kernel writes it).
      rt.gemm(M, p.cols, K, alpha, X, 0, K, B, p.wStart, K, out, o, p.cols, accumulate ? 1 : 0);
      if (bias) {
        const b0 = p.biasStart ?? 0;
        for (let i = 0; i < M; i++) for (let j = 0; j < p.cols; j++) out[o + i * p.cols + j] += bias[b0 + j];
      }
    }
  };
}
