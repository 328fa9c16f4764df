/**
 * The model's weights, LoRA buffers and plan shape on a runtime, as types: transformer.ts builds them,
 * layer-plan.ts reads them.
 */
import type { LoraConfig, LoraTarget } from '../lab/model';
import type { LmHeadWeight } from '../engine/kernels/cross_entropy/cross_entropy.types';
import type { Tensor } from '../engine/tensor';
import type { KVCache } from './kv-cache';
import type { ModelSpec } from './spec';

export type Precision = 'f32' | 'f16';

export interface LayerWeights {
  inputNorm: Tensor;
  postNorm: Tensor;
  /** Each projection's weight; q, k, v (and gate, up) are views into one buffer, `qkv` (`gateUp`). */
  proj: Record<LoraTarget, Tensor>;
  bias: Partial<Record<LoraTarget, Tensor>>;
  qkv: WeightGroup;
  gateUp: WeightGroup;
}

/**
 * Weights that read the same input, back to back in one buffer (each part 256-byte aligned, so that its
 * view binds on its own), so that decode runs them as one dispatch (prepareGemvFused).
 */
export interface WeightGroup {
  weight: Tensor;
  /** First element of each part in `weight`. */
  starts: number[];
  /** The parts' biases, back to back the same way (Qwen2's q, k, v). */
  bias?: Tensor;
  biasStarts?: number[];
}

export interface GpuWeights {
  spec: ModelSpec;
  precision: Precision;
  embed: Tensor;
  lmHead: LmHeadWeight;
  finalNorm: Tensor;
  layers: LayerWeights[];
  invFreq: Tensor;
  /** Bytes the weights occupy on the GPU. */
  bytes: number;
  all: Tensor[];
}

/**
 * The LoRA tensors of one configuration as flat f32 buffers (params, and for training grads, m, v), every
 * tensor a 256-byte aligned view, in PEFT canonical order (loraParamNames).
 */
export interface LoraLayout {
  config: LoraConfig;
  names: string[];
  shapes: number[][];
  offsets: number[];
  /** Elements of each flat buffer (views padded to 256 bytes; padding stays 0). */
  n: number;
}

export interface LoraBuffers {
  layout: LoraLayout;
  params: Tensor;
  grads?: Tensor;
  m?: Tensor;
  v?: Tensor;
  /** u32 [2] = [seed, step] read by the dropout masks. */
  dropoutState: Tensor;
}

export interface PlanShape {
  /** Sequences. */
  B: number;
  /** Tokens per sequence in this call (right padded). */
  S: number;
  /** Cache capacity (≥ past + S); training: S. */
  L: number;
  /** Cache rows already filled (fixed unless `settablePast`). */
  past: number;
  settablePast?: boolean;
  /** Keep the activations the backward needs and prepare the backward. */
  train?: boolean;
  lora?: LoraBuffers | null;
  /** Share an existing cache (decode after prefill); otherwise the plan allocates its own [B, L]. */
  kv?: KVCache;
  /** false: no decode fusions (the bench counts the unfused plan beside the fused one). Default true. */
  fuse?: boolean;
}
