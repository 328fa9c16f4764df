/**
 * The attention kernels a CPU thread runs (cpu-threads.ts), for units u0 … u1−1 of (batch row, KV head),
 * u = b·KVH + kvh. Each unit owns its query heads' outputs and its own dK/dV rows, so the units can run on
 * different threads, and every element is summed in the same order whatever the split.
 *
 * Per query head the work is products on the thread's product kernel (`this.gemm`, WebAssembly SIMD where it
 * runs): scores = Q·Kᵀ over the N = min(L, past + S) keys any query of the batch sees, the causal, masked
 * softmax row by row, then O = P·V; the backward recomputes P and dP = dO·Vᵀ, forms dS = P·(dP − D)/√Dh and
 * takes dQ = dS·K, dK += dSᵀ·Q, dV += Pᵀ·dO. Operands that run the other way (Vᵀ, Kᵀ, Qᵀ, dOᵀ, Pᵀ, dSᵀ) are
 * transposed into the part's scratch first. These functions use only their arguments and `this`: their
 * source text is the worker's program. attention.cpu.ts prepares them.
 */
import type { ThreadContext } from '../../thread-context';

/** Forward of units u0 … u1−1: O and LSE; P [S, L] and T [L·Dh] (Vᵀ) are this part's scratch. */
export function attentionForwardPart(
  this: ThreadContext,
  Q: Float32Array, K: Float32Array, V: Float32Array, kvStart: Uint32Array, O: Float32Array, LSE: Float32Array,
  P: Float32Array, T: Float32Array,
  S: number, H: number, KVH: number, Dh: number, L: number, past: number, u0: number, u1: number,
): void {
  const g = H / KVH, scale = 1 / Math.sqrt(Dh), N = Math.min(L, past + S), ldq = H * Dh, ldk = KVH * Dh;
  for (let u = u0; u < u1; u++) {
    const b = Math.floor(u / KVH), kvh = u % KVH, kOff = (b * L * KVH + kvh) * Dh;
    this.transposeInto(V, kOff, ldk, N, Dh, T);
    for (let h = kvh * g; h < (kvh + 1) * g; h++) {
      const qOff = (b * S * H + h) * Dh;
      this.gemm(S, N, Dh, scale, Q, qOff, ldq, K, kOff, ldk, P, 0, N, 0);
      this.softmaxRows(P, S, N, kvStart[b], past, LSE, (b * H + h) * S, false);
      this.gemm(S, Dh, N, 1, P, 0, N, T, 0, N, O, qOff, ldq, 0);
    }
  }
}

/** dQ of units u0 … u1−1; P, dP [S, L], T [L·Dh] (Kᵀ) and lse [S] are this part's scratch. */
export function attentionDqPart(
  this: ThreadContext,
  Q: Float32Array, K: Float32Array, V: Float32Array, kvStart: Uint32Array, dO: Float32Array, st: Float32Array, dQ: Float32Array,
  P: Float32Array, dP: Float32Array, T: Float32Array, lse: Float32Array,
  S: number, H: number, KVH: number, Dh: number, L: number, past: number, u0: number, u1: number,
): void {
  const g = H / KVH, N = Math.min(L, past + S), ldq = H * Dh, ldk = KVH * Dh;
  for (let u = u0; u < u1; u++) {
    const b = Math.floor(u / KVH), kvh = u % KVH, kOff = (b * L * KVH + kvh) * Dh;
    this.transposeInto(K, kOff, ldk, N, Dh, T);
    for (let h = kvh * g; h < (kvh + 1) * g; h++) {
      this.attentionScores(Q, K, V, kvStart, dO, st, P, dP, lse, S, H, KVH, Dh, L, past, b, h);
      this.gemm(S, Dh, N, 1, dP, 0, N, T, 0, N, dQ, (b * S * H + h) * Dh, ldq, 0);
    }
  }
}

/**
 * dK and dV rows 0 … N−1 of units u0 … u1−1 (zeroed, then each query head's dSᵀ·Q and Pᵀ·dO added in head
 * order; rows past N untouched); P, dP [S, L], X [L·S], Y [Dh·S] and lse [S] are this part's scratch.
 */
export function attentionDkvPart(
  this: ThreadContext,
  Q: Float32Array, K: Float32Array, V: Float32Array, kvStart: Uint32Array, dO: Float32Array, st: Float32Array, dK: Float32Array, dV: Float32Array,
  P: Float32Array, dP: Float32Array, X: Float32Array, Y: Float32Array, lse: Float32Array,
  S: number, H: number, KVH: number, Dh: number, L: number, past: number, u0: number, u1: number,
): void {
  const g = H / KVH, N = Math.min(L, past + S), ldq = H * Dh, ldk = KVH * Dh;
  for (let u = u0; u < u1; u++) {
    const b = Math.floor(u / KVH), kvh = u % KVH, kOff = (b * L * KVH + kvh) * Dh;
    for (let j = 0; j < N; j++) {
      dK.fill(0, kOff + j * ldk, kOff + j * ldk + Dh);
      dV.fill(0, kOff + j * ldk, kOff + j * ldk + Dh);
    }
    for (let h = kvh * g; h < (kvh + 1) * g; h++) {
      const qOff = (b * S * H + h) * Dh;
      this.attentionScores(Q, K, V, kvStart, dO, st, P, dP, lse, S, H, KVH, Dh, L, past, b, h);
      this.transposeInto(P, 0, N, S, N, X);
      this.transposeInto(dO, qOff, ldq, S, Dh, Y);
      this.gemm(N, Dh, S, 1, X, 0, S, Y, 0, S, dV, kOff, ldk, 1);
      this.transposeInto(dP, 0, N, S, N, X);
      this.transposeInto(Q, qOff, ldq, S, Dh, Y);
      this.gemm(N, Dh, S, 1, X, 0, S, Y, 0, S, dK, kOff, ldk, 1);
    }
  }
}
