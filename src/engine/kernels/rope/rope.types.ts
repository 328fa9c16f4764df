/** The arguments of the RoPE kernel, shared by the WebGPU and CPU versions (rope.ts) and the reference (rope.ref.ts). */
import type { Tensor } from '../../tensor';


/**
 * RoPE (HF rotate_half) forward or backward over [B, S, H, Dh].
 * - `x`: f32 [B, S, H, Dh], or omit it to rotate `out` in place (then L = S, past = 0).
 * - `out`: f32 [B, L, H, Dh]; token (b, s) lands at row past + s. L defaults to S, past to 0, so a plain
 *   output is [B, S, H, Dh]; with L = cache capacity this writes roped keys straight into the KV cache.
 * - `positions`: u32 [B·S] (the position of each token: handles left padding and cache offsets).
 * - `invFreq`: f32 [Dh/2] from `ropeInvFreq(spec)` (upload once per model).
 * - `backward`: rotate by −θ (dx from dy).
 */
export interface RopeArgs {
  x?: Tensor;
  out: Tensor;
  positions: Tensor;
  invFreq: Tensor;
  B: number;
  S: number;
  H: number;
  Dh: number;
  L?: number;
  past?: number;
  backward?: boolean;
}
