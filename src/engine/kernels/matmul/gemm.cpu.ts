/**
 * The CPU backend's one product kernel: C = beta·C + alpha·A·Bᵀ with A [M, K] and B [N, K] both contiguous
 * along K (rows of length K at strides lda, ldb), so every inner loop is a dot product of two contiguous
 * runs. Register-blocked 4 × 4 (sixteen running sums, eight loads per step of k), the B panel outer so its
 * four rows stay in cache while A streams past. Other layouts are transposed into this one first
 * (matmul.cpu.ts): O(M·K + N·K) moves against O(M·N·K) multiply-adds.
 */
export function gemmNT(
  M: number, N: number, K: number, alpha: number,
  A: Float32Array, aOff: number, lda: number,
  B: Float32Array, bOff: number, ldb: number,
  C: Float32Array, cOff: number, ldc: number,
  beta: 0 | 1,
): void {
  const N4 = N - (N % 4);
  const M4 = M - (M % 4);
  for (let j = 0; j < N4; j += 4) {
    const b0 = bOff + j * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
    let i = 0;
    for (; i < M4; i += 4) {
      const a0 = aOff + i * lda, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let k = 0; k < K; k++) {
        const x0 = A[a0 + k], x1 = A[a1 + k], x2 = A[a2 + k], x3 = A[a3 + k];
        const y0 = B[b0 + k], y1 = B[b1 + k], y2 = B[b2 + k], y3 = B[b3 + k];
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
        s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
        s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
      }
      let c = cOff + i * ldc + j;
      if (beta) {
        C[c] += alpha * s00; C[c + 1] += alpha * s01; C[c + 2] += alpha * s02; C[c + 3] += alpha * s03; c += ldc;
        C[c] += alpha * s10; C[c + 1] += alpha * s11; C[c + 2] += alpha * s12; C[c + 3] += alpha * s13; c += ldc;
        C[c] += alpha * s20; C[c + 1] += alpha * s21; C[c + 2] += alpha * s22; C[c + 3] += alpha * s23; c += ldc;
        C[c] += alpha * s30; C[c + 1] += alpha * s31; C[c + 2] += alpha * s32; C[c + 3] += alpha * s33;
      } else {
        C[c] = alpha * s00; C[c + 1] = alpha * s01; C[c + 2] = alpha * s02; C[c + 3] = alpha * s03; c += ldc;
        C[c] = alpha * s10; C[c + 1] = alpha * s11; C[c + 2] = alpha * s12; C[c + 3] = alpha * s13; c += ldc;
        C[c] = alpha * s20; C[c + 1] = alpha * s21; C[c + 2] = alpha * s22; C[c + 3] = alpha * s23; c += ldc;
        C[c] = alpha * s30; C[c + 1] = alpha * s31; C[c + 2] = alpha * s32; C[c + 3] = alpha * s33;
      }
    }
    for (; i < M; i++) {
      const a0 = aOff + i * lda;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let k = 0; k < K; k++) {
        const x = A[a0 + k];
        s0 += x * B[b0 + k]; s1 += x * B[b1 + k]; s2 += x * B[b2 + k]; s3 += x * B[b3 + k];
      }
      const c = cOff + i * ldc + j;
      if (beta) {
        C[c] += alpha * s0; C[c + 1] += alpha * s1; C[c + 2] += alpha * s2; C[c + 3] += alpha * s3;
      } else {
        C[c] = alpha * s0; C[c + 1] = alpha * s1; C[c + 2] = alpha * s2; C[c + 3] = alpha * s3;
      }
    }
  }
  for (let j = N4; j < N; j++) {
    const b0 = bOff + j * ldb;
    let i = 0;
    for (; i < M4; i += 4) {
      const a0 = aOff + i * lda, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let k = 0; k < K; k++) {
        const y = B[b0 + k];
        s0 += A[a0 + k] * y; s1 += A[a1 + k] * y; s2 += A[a2 + k] * y; s3 += A[a3 + k] * y;
      }
      const c = cOff + i * ldc + j;
      if (beta) {
        C[c] += alpha * s0; C[c + ldc] += alpha * s1; C[c + 2 * ldc] += alpha * s2; C[c + 3 * ldc] += alpha * s3;
      } else {
        C[c] = alpha * s0; C[c + ldc] = alpha * s1; C[c + 2 * ldc] = alpha * s2; C[c + 3 * ldc] = alpha * s3;
      }
    }
    for (; i < M; i++) {
      const a0 = aOff + i * lda;
      let s = 0;
      for (let k = 0; k < K; k++) s += A[a0 + k] * B[b0 + k];
      const c = cOff + i * ldc + j;
      C[c] = beta ? C[c] + alpha * s : alpha * s;
    }
  }
}

/** dst[dOff + c·rows + r] = src[sOff + r·cols + c]: a [rows, cols] block transposed, 8 × 8 tiles at a time. */
export function transpose(src: Float32Array, sOff: number, rows: number, cols: number, dst: Float32Array, dOff: number): void {
  for (let r0 = 0; r0 < rows; r0 += 8) {
    const r1 = Math.min(rows, r0 + 8);
    for (let c0 = 0; c0 < cols; c0 += 8) {
      const c1 = Math.min(cols, c0 + 8);
      for (let r = r0; r < r1; r++) {
        const s = sOff + r * cols;
        for (let c = c0; c < c1; c++) dst[dOff + c * rows + r] = src[s + c];
      }
    }
  }
}
