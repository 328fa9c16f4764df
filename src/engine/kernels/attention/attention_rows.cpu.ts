/**
 * Helpers of the CPU attention kernels (attention_parts.cpu.ts), reached through the thread context
 * (thread-context.ts, `this`): self-contained, as every thread runs them from their source text.
 */
import type { ThreadContext } from '../../thread-context';

/**
 * P [S, N] in place from a query head's scores: in each row s the visible keys kvStart ≤ j < min(past + s + 1, N)
 * get their softmax weight (the row's LSE written to lse[lseAt + s]), the rest 0; a row with no visible key is
 * all 0 with LSE 0. With `fromLse` the rows' LSE are read instead and P = exp(score − LSE) (the backward).
 */
export function softmaxRows(P: Float32Array, S: number, N: number, lo: number, past: number, lse: Float32Array, lseAt: number, fromLse: boolean): void {
  for (let s = 0; s < S; s++) {
    const hi = Math.min(past + s + 1, N);
    const r = s * N;
    if (hi <= lo) {
      P.fill(0, r, r + N);
      if (!fromLse) lse[lseAt + s] = 0;
      continue;
    }
    let m = -Infinity;
    if (fromLse) m = lse[lseAt + s];
    else for (let j = lo; j < hi; j++) if (P[r + j] > m) m = P[r + j];
    let l = 0;
    for (let j = lo; j < hi; j++) l += P[r + j] = Math.exp(P[r + j] - m);
    P.fill(0, r, r + lo);
    P.fill(0, r + hi, r + N);
    if (fromLse) continue;
    const inv = 1 / l;
    for (let j = lo; j < hi; j++) P[r + j] *= inv;
    lse[lseAt + s] = m + Math.log(l);
  }
}

/** dst[c·rows + r] = src[off + r·ld + c] for r < rows, c < cols. */
export function transposeInto(src: Float32Array, off: number, ld: number, rows: number, cols: number, dst: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const s = off + r * ld;
    for (let c = 0; c < cols; c++) dst[c * rows + r] = src[s + c];
  }
}

/**
 * P and dS = P·(dO·Vᵀ − D)/√Dh [S, N] of query head h of batch row b (both recomputed, as the WGSL's dQ and
 * dK/dV kernels each do), into P and dP; lse [S] is scratch.
 */
export function attentionScores(
  this: ThreadContext,
  Q: Float32Array, K: Float32Array, V: Float32Array, kvStart: Uint32Array, dO: Float32Array, st: Float32Array,
  P: Float32Array, dP: Float32Array, lse: Float32Array,
  S: number, H: number, KVH: number, Dh: number, L: number, past: number, b: number, h: number,
): void {
  const scale = 1 / Math.sqrt(Dh), N = Math.min(L, past + S), ldq = H * Dh, ldk = KVH * Dh;
  const kvh = Math.floor(h / (H / KVH)), qOff = (b * S * H + h) * Dh, kOff = (b * L * KVH + kvh) * Dh, row = (b * H + h) * S;
  for (let s = 0; s < S; s++) lse[s] = st[2 * (row + s)];
  this.gemm(S, N, Dh, scale, Q, qOff, ldq, K, kOff, ldk, P, 0, N, 0);
  this.softmaxRows(P, S, N, kvStart[b], past, lse, 0, true);
  this.gemm(S, N, Dh, 1, dO, qOff, ldq, V, kOff, ldk, dP, 0, N, 0);
  for (let s = 0; s < S; s++) {
    const D = st[2 * (row + s) + 1];
    for (let e = s * N; e < (s + 1) * N; e++) dP[e] = scale * P[e] * (dP[e] - D);
  }
}
