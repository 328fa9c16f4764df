/** CPU reference for matmul.wgsl: C = alpha·op(A)·op(B) (+bias) (+C). Accumulates in f64. */
export interface MatmulRefArgs {
  M: number;
  N: number;
  K: number;
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  bias?: Float32Array;
  /** Added to the product when given (the ACCUMULATE mode). */
  c?: Float32Array;
  batch?: number;
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
