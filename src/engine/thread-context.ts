/**
 * What a CPU-backend kernel may use beside its arguments: `this`, its thread's context. Kernels run on every
 * thread from their source text (cpu-threads.ts), so they cannot call other functions by name; they call
 * these instead. Each thread builds its own: its WebAssembly SIMD instance, the product kernel it uses, and
 * the small self-contained helpers in THREAD_HELPERS (cpu-threads.ts).
 */
/** A thread's instance of gemm_simd.wat: its memory and the panel kernel. */
export interface SimdGemm {
  memory: WebAssembly.Memory;
  panel: (m4: number, k: number, a: number, p: number, c: number, ldc: number, alpha: number, beta: number) => void;
}

/** C = beta·C + alpha·A·Bᵀ, A [M, K] and B [N, K] contiguous along K (gemm.cpu.ts's contract). */
export type GemmFn = (
  M: number, N: number, K: number, alpha: number,
  A: Float32Array, aOff: number, lda: number,
  B: Float32Array, bOff: number, ldb: number,
  C: Float32Array, cOff: number, ldc: number,
  beta: 0 | 1,
) => void;

export interface ThreadContext {
  /** This thread's SIMD instance, or null where WebAssembly SIMD is missing. */
  simd: SimdGemm | null;
  /** The thread's product: gemmSimd with an instance, else gemmNT. */
  gemm: GemmFn;
  /** The plain-JS product (gemm.cpu.ts), for what is too small for SIMD. */
  gemmNT: GemmFn;
  /** attention_rows.cpu.ts: a query head's causal softmax rows, in place (or from stored LSE). */
  softmaxRows: (P: Float32Array, S: number, N: number, lo: number, past: number, lse: Float32Array, lseAt: number, fromLse: boolean) => void;
  /** dst[c·rows + r] = src[off + r·ld + c]. */
  transposeInto: (src: Float32Array, off: number, ld: number, rows: number, cols: number, dst: Float32Array) => void;
  /** attention_rows.cpu.ts: P and dS of one query head, recomputed for the backward. */
  attentionScores: (
    Q: Float32Array, K: Float32Array, V: Float32Array, kvStart: Uint32Array, dO: Float32Array, st: Float32Array,
    P: Float32Array, dP: Float32Array, lse: Float32Array,
    S: number, H: number, KVH: number, Dh: number, L: number, past: number, b: number, h: number,
  ) => void;
}
