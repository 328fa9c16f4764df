/** The arguments of the matmul kernels, shared by the WebGPU version (matmul.ts) and the CPU version (matmul.cpu.ts). */
import type { Tensor } from '../../tensor';

/**
 * C = alpha·op(A)·op(B) (+bias) (+C), per batch slice.
 *
 * - `a`: f32, [M, K] (or [K, M] with `transA`), `batch` slices back to back.
 * - `b`: f32 [K, N] (or [N, K] with `transB`, the default: HF's [out, in] weights), or a packed-f16 tensor
 *   (dtype 'f16', two halves per u32, e.g. `rt.upload(name, f32ToF16Array(w), shape)`): then the f16w
 *   version runs whatever `version` says.
 * - `bias`: f32 [N], added after alpha. `out`: f32 [M, N] per slice.
 */
export interface MatmulArgs {
  a: Tensor;
  b: Tensor;
  out: Tensor;
  M: number;
  N: number;
  K: number;
  /** A stored [K, M] instead of [M, K]. */
  transA?: boolean;
  /** B stored [N, K] (Hugging Face's [out, in]) instead of [K, N]. Default true. */
  transB?: boolean;
  alpha?: number;
  bias?: Tensor;
  /** out += alpha·op(A)·op(B) instead of out = … */
  accumulate?: boolean;
  /** out = … + residual, an f32 [M, N] tensor per slice (read through the bias binding: not with `bias`). */
  residual?: Tensor;
  /** Independent products, each a contiguous [M,K]·[K,N] → [M,N] slice (z of the grid). */
  batch?: number;
  /** A LoRA term fused into the epilogue (batch 1; not in the naive version: tiled runs instead). */
  lora?: LoraEpilogue;
}

/**
 * - `up`: out += scale·u·loraBᵀ (after alpha and bias, before accumulate); u [M, rank], loraB [N, rank].
 *   The forward y = x·Wᵀ + b + s·u·Bᵀ.
 * - `dx`: out += m ⊙ (g·loraA); g [M, rank] (already scaled by s), loraA [rank, N], m the dropout multiplier
 *   of x[row, col] (x is [M, N] here), regenerated from `dropout` (absent: m = 1). The backward dX.
 */
export type LoraEpilogue =
  | { kind: 'up'; u: Tensor; loraB: Tensor; rank: number; scale: number }
  | { kind: 'dx'; g: Tensor; loraA: Tensor; rank: number; dropout?: { state: Tensor; salt: number; threshold: number; keepScale: number } };

/** One output part of a fused gemv: `cols` columns whose weight rows start at element `wStart` of `b`. */
export interface GemvPart {
  cols: number;
  /** First element (f32, or half for packed f16) of the part's [cols, K] rows in `b`; 16-byte aligned. */
  wStart: number;
  /** First element of the part's dense [M, cols] output (in `out`, or in its own output tensor). */
  outStart?: number;
  /** First element of the part's bias in `bias`. */
  biasStart?: number;
}

export type GemvPrologue =
  /** a = rmsnorm(x)·g: `a` is the residual x [M, K], `weight` the norm weight g [K]. */
  | { kind: 'rmsnorm'; weight: Tensor; eps: number }
  /** a = silu(gate) ⊙ up: `a` holds gate [M, K] at element 0 and up [M, K] at `upOffset`. */
  | { kind: 'swiglu'; upOffset: number };

/**
 * Several projections of one A in one dispatch, the op before them folded into the A loads (decode).
 * `b` holds the parts' weights [cols_i, K] (each part at its `wStart`); part i goes to `outs[i]` when
 * `outs` has one tensor per part (q, k, v: RoPE reads them separately), else every part to `outs[0]`
 * at its `outStart`. Few rows (M ≤ GEMV_MAX_ROWS pays); K a multiple of 8 (f16) or 4 (f32).
 */
export interface GemvFusedArgs {
  a: Tensor;
  b: Tensor;
  outs: Tensor[];
  M: number;
  K: number;
  parts: GemvPart[];
  bias?: Tensor;
  accumulate?: boolean;
  alpha?: number;
  prologue?: GemvPrologue;
}
