/** The arguments of the SwiGLU kernels, shared by the WebGPU version (swiglu.ts) and the CPU version (swiglu.cpu.ts). */
import type { Tensor } from '../../tensor';

/**
 * SwiGLU over a fused gate|up buffer.
 * - `gu`: f32, gate[t,j] at t·rowStride + j and up[t,j] at t·rowStride + upOffset + j. Defaults
 *   (rowStride 2F, upOffset F) fit the fused projection output [T, 2F] = [gate | up].
 * - forward: `h` f32 [T, F] = silu(gate) ⊙ up.
 */
export interface SwigluArgs {
  gu: Tensor;
  h: Tensor;
  T: number;
  F: number;
  rowStride?: number;
  upOffset?: number;
}

/** Backward: `dh` f32 [T, F] → `dgu` (same layout as `gu`: dgate and dup; a distinct buffer). */
export interface SwigluBackwardArgs {
  gu: Tensor;
  dh: Tensor;
  dgu: Tensor;
  T: number;
  F: number;
  rowStride?: number;
  upOffset?: number;
}
