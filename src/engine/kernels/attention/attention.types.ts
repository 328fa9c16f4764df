/** The arguments of the attention kernels, shared by the WebGPU version (attention.ts) and the CPU version (attention.cpu.ts). */
import type { Tensor } from '../../tensor';

/** Sizes shared by the forward and backward (see docs/design.md for the layouts). */
export interface AttentionDims {
  /** Sequences. */
  B: number;
  /** Query rows per sequence in this call (1 for decode). */
  S: number;
  /** Query heads; a multiple of KVH (grouped-query attention: head h reads KV head ⌊h / (H/KVH)⌋). */
  H: number;
  KVH: number;
  /** Head dimension, ≤ 128. */
  Dh: number;
  /** Rows of the K/V tensors (the cache capacity; S for training with past = 0). */
  L: number;
  /** Cache rows already filled before this call: query s is at position past + s. */
  past: number;
}

/** The inputs the forward and the backward both read. */
export interface AttentionInputs extends AttentionDims {
  /** f32 [B, S, H, Dh]. */
  q: Tensor;
  /** f32 [B, L, KVH, Dh]; rows 0 … past+S−1 hold keys (the new ones written at past + s beforehand). */
  k: Tensor;
  v: Tensor;
  /** u32 [B]: first valid key of each sequence (left padding); keys before it are masked. */
  kvStart: Tensor;
}

export interface AttentionForwardArgs extends AttentionInputs {
  /** f32 [B, S, H, Dh]. */
  out: Tensor;
  /** f32 [B, H, S]: log Σ_j exp(scale·q·k_j), kept for the backward (0 for a row with no valid key). */
  lse: Tensor;
  /**
   * Key-tile walkers per row, 1 or 4 (workgroups of 64·split threads, merged at the end). Default: 4 when
   * S ≤ 4 (decode: few rows, each a long serial loop otherwise), else 1.
   */
  split?: 1 | 4;
  /**
   * Use the row-tiled kernel (BR query rows per workgroup sharing each K/V tile). Default: when S ≥ 8, no
   * `split` is asked for and Dh is a multiple of 4; the one-row kernel serves decode and odd head sizes.
   */
  tiled?: boolean;
}

export interface AttentionBackwardArgs extends AttentionInputs {
  /** The forward's output and LSE. */
  out: Tensor;
  lse: Tensor;
  /** f32 [B, S, H, Dh]: gradient of the loss with respect to `out`. */
  dOut: Tensor;
  /** f32 [B, S, H, Dh]; written (not accumulated). */
  dq: Tensor;
  /**
   * f32 [B, L, KVH, Dh], written for key rows 0 … past+S−1 (summed over each KV head's query group);
   * rows beyond are left untouched.
   */
  dk: Tensor;
  dv: Tensor;
  /** Optional f32 scratch of ≥ 2·B·H·S elements for (LSE, D); allocated here when absent. */
  stats?: Tensor;
  /** Use the row-tiled dQ and dK/dV kernels. Default: when Dh is a multiple of 4. */
  tiled?: boolean;
}
