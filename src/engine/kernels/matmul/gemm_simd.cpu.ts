/**
 * gemmNT's contract (C = beta·C + alpha·A·Bᵀ, A [M, K] and B [N, K] contiguous along K) on WebAssembly SIMD
 * (gemm_simd.wat): A's rows are copied into the module's memory (padded to a multiple of 4 with zeros),
 * each 8 rows of B packed into a [K, 8] panel the kernel reads one row per step, and C's rows copied back.
 * Copies and packing are O(M·K + N·K + M·N) against O(M·N·K) multiply-adds: a product of fewer than 4 rows
 * (decode) or too little work (under 4,096 multiply-adds) goes to the plain-JS kernel (the context's gemmNT).
 *
 * `gemmSimd` runs on every CPU thread (cpu-threads.ts sends its source text): it uses only its arguments
 * and `this`, the thread's context, which holds the thread's own instance of the module.
 */
import type { GemmFn, SimdGemm, ThreadContext } from '../../thread-context';
import bytes from './gemm_simd.wat';

/** The module's bytes (also sent to the worker threads, which instantiate their own). */
export const GEMM_SIMD_WASM: Uint8Array = bytes;

let compiled: WebAssembly.Module | null | undefined;

/** The compiled module, or null where WebAssembly SIMD is missing (then the backend keeps gemmNT). */
export function simdModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = typeof WebAssembly === 'object' && WebAssembly.validate(bytes as BufferSource) ? new WebAssembly.Module(bytes as BufferSource) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** A fresh instance of the module for one thread (each thread has its own memory). */
export function simdInstance(module: WebAssembly.Module): SimdGemm {
  return new WebAssembly.Instance(module, {}).exports as unknown as SimdGemm;
}

export function gemmSimd(this: ThreadContext, ...[M, N, K, alpha, A, aOff, lda, B, bOff, ldb, C, cOff, ldc, beta]: Parameters<GemmFn>): void {
  const w = this.simd;
  if (!w || M < 4 || M * N * K < 4096) return this.gemmNT(M, N, K, alpha, A, aOff, lda, B, bOff, ldb, C, cOff, ldc, beta);
  const M4 = (M + 3) & ~3;
  const N8 = (N + 7) & ~7;
  // Memory: A [M4, K] | C [M4, N8] | one panel [K, 8].
  const aAt = 0, cAt = aAt + M4 * K, pAt = cAt + M4 * N8;
  const need = 4 * (pAt + 8 * K);
  if (w.memory.buffer.byteLength < need) w.memory.grow(Math.ceil((need - w.memory.buffer.byteLength) / 65536));
  const f = new Float32Array(w.memory.buffer);
  for (let i = 0; i < M; i++) f.set(A.subarray(aOff + i * lda, aOff + i * lda + K), aAt + i * K);
  f.fill(0, aAt + M * K, aAt + M4 * K);
  if (beta) for (let i = 0; i < M; i++) f.set(C.subarray(cOff + i * ldc, cOff + i * ldc + N), cAt + i * N8);
  for (let j = 0; j < N8; j += 8) {
    for (let c = 0; c < 8; c++) {
      if (j + c < N) {
        const b = bOff + (j + c) * ldb;
        for (let k = 0; k < K; k++) f[pAt + 8 * k + c] = B[b + k];
      } else for (let k = 0; k < K; k++) f[pAt + 8 * k + c] = 0;
    }
    w.panel(M4, K, 4 * aAt, 4 * pAt, 4 * (cAt + j), 4 * N8, alpha, beta);
  }
  for (let i = 0; i < M; i++) C.set(f.subarray(cAt + i * N8, cAt + i * N8 + N), cOff + i * ldc);
}
