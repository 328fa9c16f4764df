/** The arguments of the RMSNorm kernels, shared by the WebGPU version (rmsnorm.ts) and the CPU version (rmsnorm.cpu.ts). */
import type { Tensor } from '../../tensor';

/**
 * RMSNorm forward (HF Llama, f32): y = w ⊙ x·rsqrt(mean(x²)+eps).
 * - `x`, `y`: f32 [T, D] (distinct buffers); `weight`: f32 [D]; `rstd`: f32 [T], written (kept for the backward).
 */
export interface RmsNormArgs {
  x: Tensor;
  weight: Tensor;
  y: Tensor;
  rstd: Tensor;
  T: number;
  D: number;
  eps: number;
}

/**
 * RMSNorm backward, weight frozen: dx = rstd·(dy⊙w) − rstd³·x·Σ(dy⊙w⊙x)/D.
 * - `x`: the forward input [T, D]; `rstd`: the forward's [T]; `dy`: [T, D]; `dx`: [T, D] (distinct from dy).
 * - `accumulate`: dx += … (add into the residual stream's gradient instead of a separate add).
 */
export interface RmsNormBackwardArgs {
  x: Tensor;
  weight: Tensor;
  rstd: Tensor;
  dy: Tensor;
  dx: Tensor;
  T: number;
  D: number;
  accumulate?: boolean;
}
