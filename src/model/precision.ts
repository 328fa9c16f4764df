/**
 * The precision the frozen weights are uploaded in, chosen from the checkpoint (issue 16, item 8). Packing an
 * F32 checkpoint to f16 moved a small model's letter probabilities by up to 2.9e-3 against an f32 reference
 * (f32 weights: 1.1e-5), so `auto` keeps f32 wherever it is cheap; a bf16/f16 checkpoint has no more than f16's
 * information in its weights (bf16 → f16 loses nothing for weights of ordinary magnitude), so it is packed.
 */
import type { Dtype, TensorReader } from './safetensors';
import type { ModelSpec } from './spec';
import { expectedTensors } from './spec';
import type { Precision, WeightSource } from './transformer';

export type PrecisionChoice = 'auto' | Precision;

export interface PrecisionDecision {
  precision: Precision;
  /** One sentence for the UI and the manifest. */
  reason: string;
}

/**
 * GPU memory the weights may take and still leave room for everything else: the plans' activations and KV
 * caches, a LoRA's optimizer state, the prefix cache, the browser. WebGPU does not say how much memory a
 * device has; 4 GiB is what a laptop with an integrated GPU and 8–16 GB of shared RAM gives a tab without
 * swapping. f32 weights are kept when they take at most a quarter of it (1 GiB: SmolLM2-135M's 0.54 GB fits,
 * Qwen2.5-0.5B's 2.0 GB is packed to f16).
 */
export const DEFAULT_MEMORY_BUDGET = 4 * 2 ** 30;
export const F32_SHARE = 0.25;

/** The storage dtype of the checkpoint's weight matrices (`F32` for in-memory fixtures and generators). */
export function checkpointDtype(spec: ModelSpec, weights: WeightSource): Dtype | 'mixed' {
  if (weights === 'zeros' || weights instanceof Map || typeof weights === 'function') return 'F32';
  const reader = weights as TensorReader;
  const seen = new Set<Dtype>();
  for (const [name, shape] of expectedTensors(spec)) {
    if (shape.length !== 2) continue; // norms and biases stay f32 whatever the checkpoint
    const t = reader.tensors.get(name);
    if (t) seen.add(t.dtype);
  }
  if (seen.size === 1) return [...seen][0];
  return seen.size === 0 ? 'F32' : 'mixed';
}

/** Bytes of the weight matrices (embedding, projections, untied head) in f32, and the largest one. */
export function f32WeightBytes(spec: ModelSpec): { total: number; largest: number } {
  let total = 0;
  let largest = 0;
  for (const [, shape] of expectedTensors(spec)) {
    const b = shape.reduce((a, x) => a * x, 4);
    total += b;
    if (shape.length === 2) largest = Math.max(largest, b);
  }
  return { total, largest };
}

const gb = (b: number) => (b < 1e8 ? `${(b / 1e6).toFixed(1)} MB` : `${(b / 1e9).toFixed(2)} GB`);

export function choosePrecision(
  choice: PrecisionChoice,
  spec: ModelSpec,
  weights: WeightSource,
  device: { maxBufferSize: number; memoryBudget?: number; packedF16?: boolean },
): PrecisionDecision {
  const dtype = checkpointDtype(spec, weights);
  const { total, largest } = f32WeightBytes(spec);
  if (device.packedF16 === false) {
    return { precision: 'f32', reason: `f32 weights: this device computes in f32 and keeps no packed f16 (${gb(total)}; checkpoint ${dtype}).` };
  }
  if (choice === 'f32') return { precision: 'f32', reason: `f32 weights, as the configuration asks (${gb(total)}; checkpoint ${dtype}).` };
  if (choice === 'f16') return { precision: 'f16', reason: `Weights packed to f16, as the configuration asks (checkpoint ${dtype}; every kernel accumulates in f32).` };
  if (dtype !== 'F32') {
    return { precision: 'f16', reason: `The checkpoint stores ${dtype} weights: packed to f16 loses nothing of them (every kernel accumulates in f32).` };
  }
  const budget = device.memoryBudget ?? DEFAULT_MEMORY_BUDGET;
  if (total > F32_SHARE * budget) {
    return { precision: 'f16', reason: `The F32 checkpoint's weights (${gb(total)}) exceed a quarter of the ${gb(budget)} memory budget: packed to f16 (half the memory).` };
  }
  if (largest > device.maxBufferSize) {
    return { precision: 'f16', reason: `Its largest weight (${gb(largest)} in f32) exceeds the device's largest buffer (${gb(device.maxBufferSize)}): packed to f16.` };
  }
  return { precision: 'f32', reason: `The F32 checkpoint fits comfortably (${gb(total)}): its weights stay exact (f32).` };
}
