/** The arguments of the AdamW step, shared by the WebGPU version (adamw.ts) and the CPU version (adamw.cpu.ts). */
import type { Tensor } from '../tensor';

/** torch.optim.AdamW's hyper-parameters plus global-norm clipping (torch.nn.utils.clip_grad_norm_). */
export interface AdamWConfig {
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled weight decay λ (θ ← θ·(1 − lr·λ)); torch's default is 0.01. */
  weightDecay: number;
  /** Clip the global gradient norm to this; 0 disables clipping (the norm is still computed). */
  maxGradNorm: number;
}

export interface AdamWArgs {
  /** Flat f32 buffers of n elements each (all LoRA tensors packed; padding between views stays 0). */
  params: Tensor;
  grads: Tensor;
  m: Tensor;
  v: Tensor;
  n: number;
  /** f32 [4]: see ADAMW_HYPER_WORDS; update it each step with `writeAdamWHyper` (a writeBuffer). */
  hyper: Tensor;
  /** f32 [≥4]: written on the GPU each step; may be a view into a status buffer the caller reads once. */
  status: Tensor;
  config?: Partial<AdamWConfig>;
  /** Optional f32 [NORM_GROUPS] scratch; allocated when absent. */
  partials?: Tensor;
}
