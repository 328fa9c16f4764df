/** The arguments of the LM head and cross-entropy kernels, shared by the WebGPU version (cross_entropy.ts) and the CPU version (cross_entropy.cpu.ts). */
import type { Tensor } from '../../tensor';

/** The LM head's weight as the kernels read it. */
export interface LmHeadWeight {
  /** [V, D] f32; or, when `packedF16`, u32 [V·D/2] holding f16 pairs (element e in the low half of word e/2 when even). */
  weight: Tensor;
  V: number;
  D: number;
  packedF16?: boolean;
}

export interface CrossEntropyArgs extends LmHeadWeight {
  /** f32 [T, D]: the final norm's output. */
  hidden: Tensor;
  /** u32 [T]: target token of each position; IGNORE_INDEX (or any id ≥ V) is not counted. */
  targets: Tensor;
  T: number;
  /** f32 [T]: −log p(target) per token, 0 where ignored. */
  loss: Tensor;
  /** f32 [≥1]: element 0 = mean loss over counted tokens (0 when none). May be a view into a status buffer. */
  mean: Tensor;
  /** f32 [T, D]: d(mean loss)/d(hidden), overwritten. Omit for the forward only. */
  dHidden?: Tensor;
  /** Vocabulary columns per chunk (default 4096): scratch is [T, chunk] f32. */
  chunk?: number;
  /** Optional scratch: logits ≥ T·chunk f32, stats ≥ 4·T + 4 f32 (shared between plans of one shape). */
  scratch?: CrossEntropyScratch;
}

export interface CrossEntropyScratch {
  logits: Tensor;
  stats: Tensor;
}
