/** CPU reference for matmul.wgsl: C = alpha·op(A)·op(B) (+bias) (+C). Accumulates in f64. */
import type { MatmulArgs } from './matmul.types';

/** The kernel's dimensions and options (matmul.types.ts), with bias and C as plain arrays. */
export interface MatmulRefArgs extends Pick<MatmulArgs, 'M' | 'N' | 'K' | 'transA' | 'transB' | 'alpha' | 'batch'> {
  bias?: Float32Array;
  /** Added to the product when given (the ACCUMULATE mode). */
  c?: Float32Array;
}

export function matmulRef(a: Float32Array, b: Float32Array, args: MatmulRefArgs): Float32Array {
  const { M, N, K, transA = false, transB = true, alpha = 1, bias, c, batch = 1 } = args;
  const out = new Float32Array(batch * M * N);
  for (let z = 0; z < batch; z++) {
    const ao = z * M * K;
    const bo = z * K * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let acc = 0;
        for (let k = 0; k < K; k++) {
          const av = transA ? a[ao + k * M + i] : a[ao + i * K + k];
          const bv = transB ? b[bo + j * K + k] : b[bo + k * N + j];
          acc += av * bv;
        }
        acc *= alpha;
        if (bias) acc += bias[j];
        const ci = z * M * N + i * N + j;
        if (c) acc += c[ci];
        out[ci] = acc;
      }
    }
  }
  return out;
}

/**
 * CPU reference for gemv's fused entry points: the prologue applied to A (RMSNorm with weight g, or
 * silu(gate) ⊙ up with up at `upOffset`), then each part's [M, cols] = a·W_partᵀ·alpha + bias_part,
 * returned per part (the caller places them). `b` holds the parts' [cols, K] rows from `wStart`.
 */
export interface GemvFusedRefArgs {
  M: number;
  K: number;
  parts: { cols: number; wStart: number; biasStart?: number }[];
  alpha?: number;
  bias?: Float32Array;
  prologue?: { kind: 'rmsnorm'; weight: Float32Array; eps: number } | { kind: 'swiglu'; upOffset: number };
}

export function gemvFusedRef(a: Float32Array, b: ArrayLike<number>, args: GemvFusedRefArgs): Float32Array[] {
  const { M, K, parts, alpha = 1, bias, prologue } = args;
  const x = new Float64Array(M * K);
  for (let i = 0; i < M; i++) {
    let ss = 0;
    for (let k = 0; k < K; k++) ss += a[i * K + k] ** 2;
    const rstd = 1 / Math.sqrt(ss / K + (prologue?.kind === 'rmsnorm' ? prologue.eps : 0));
    for (let k = 0; k < K; k++) {
      const v = a[i * K + k];
      if (prologue?.kind === 'rmsnorm') x[i * K + k] = prologue.weight[k] * v * rstd;
      else if (prologue?.kind === 'swiglu') x[i * K + k] = (v / (1 + Math.exp(-v))) * a[prologue.upOffset + i * K + k];
      else x[i * K + k] = v;
    }
  }
  return parts.map(({ cols, wStart, biasStart = 0 }) => {
    const y = new Float32Array(M * cols);
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < cols; j++) {
        let acc = 0;
        for (let k = 0; k < K; k++) acc += x[i * K + k] * b[wStart + j * K + k];
        y[i * cols + j] = acc * alpha + (bias ? bias[biasStart + j] : 0);
      }
    }
    return y;
  });
}
