/**
 * GPU memory of a model before touching a GPU: the same code that uploads weights and plans a training step
 * or a scoring batch runs against a counting device (buffers are sizes, pipelines and bind groups are
 * stubs), so the figure is exactly what the engine would allocate. Also the real configurations the
 * lab targets, and seeded random weights for runs at real shapes without downloads.
 */
import type { LoraConfig } from './types';
import type { EngineDevice } from '../engine/device';
import { GpuRuntime } from '../engine/runtime';
import { parseConfig } from './config';
import { ModelCore } from './engine-model';
import { uniformPm1 } from './random';
import { candidateHead } from './score';
import type { ModelSpec } from './spec';
import { trainer } from './train-step';
import { uploadWeights, type Precision } from './transformer';

/** config.json of the real models (as published on the Hub), for planning and random-weight runs. */
export const REAL_CONFIGS = {
  'SmolLM2-135M': {
    architectures: ['LlamaForCausalLM'], attention_bias: false, bos_token_id: 0, eos_token_id: 0, hidden_act: 'silu',
    hidden_size: 576, intermediate_size: 1536, max_position_embeddings: 8192, model_type: 'llama', num_attention_heads: 9,
    num_hidden_layers: 30, num_key_value_heads: 3, rms_norm_eps: 1e-5, rope_scaling: null, rope_theta: 100000,
    tie_word_embeddings: true, torch_dtype: 'bfloat16', vocab_size: 49152,
  },
  'Qwen2.5-0.5B': {
    architectures: ['Qwen2ForCausalLM'], bos_token_id: 151643, eos_token_id: 151643, hidden_act: 'silu', hidden_size: 896,
    intermediate_size: 4864, max_position_embeddings: 32768, model_type: 'qwen2', num_attention_heads: 14,
    num_hidden_layers: 24, num_key_value_heads: 2, rms_norm_eps: 1e-6, rope_theta: 1000000.0, tie_word_embeddings: true,
    torch_dtype: 'bfloat16', use_sliding_window: false, vocab_size: 151936,
  },
} as const;

export function realSpec(name: keyof typeof REAL_CONFIGS, over: Partial<ModelSpec> = {}): ModelSpec {
  return { ...parseConfig(REAL_CONFIGS[name]), ...over };
}

/** Seeded random weights at a spec's shapes (norms ≈ 1, linears U(±1/√in), embeddings U(±0.05), biases U(±0.1)). */
export function randomWeights(seed: number): (name: string, shape: readonly number[]) => Float32Array {
  return (name, shape) => {
    const r = uniformPm1(seed ^ hash(name));
    const n = shape.reduce((a, b) => a * b, 1);
    const w = new Float32Array(n);
    const s = name.endsWith('norm.weight') ? 0.05 : name.endsWith('.bias') ? 0.1 : name.includes('embed') || name === 'lm_head.weight' ? 0.05 : 1 / Math.sqrt(shape[1]);
    for (let i = 0; i < n; i++) w[i] = s * r();
    if (name.endsWith('norm.weight')) for (let i = 0; i < n; i++) w[i] += 1;
    return w;
  };
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** A GpuRuntime whose device only records buffer sizes. */
export function countingRuntime(limits: Partial<GPUSupportedLimits> = {}): GpuRuntime {
  const stub = () => ({ getBindGroupLayout: () => ({}) });
  const device = {
    limits: { minStorageBufferOffsetAlignment: 256, maxBufferSize: 2 ** 40, ...limits },
    createBuffer: (d: GPUBufferDescriptor) => ({ size: d.size, label: d.label ?? '', destroy() {} }),
    createBindGroup: () => ({}),
    createShaderModule: () => ({}),
    createComputePipeline: stub,
    queue: { writeBuffer() {}, submit() {} },
  } as unknown as GPUDevice;
  return new GpuRuntime({ device, f16: false, subgroups: false, subgroupMatrix: null } as unknown as EngineDevice);
}

export interface MemoryPlan {
  weightBytes: number;
  /** Activations, KV cache, LoRA parameters/gradients/moments, scratch and uniforms of the plan. */
  planBytes: number;
  peakBytes: number;
}

export interface MemoryShape {
  B: number;
  S: number;
  precision: Precision;
  /** Training plan with this adapter; null: a scoring plan (4 candidates) on the base model. */
  lora: LoraConfig | null;
}

export async function planMemory(spec: ModelSpec, shape: MemoryShape): Promise<MemoryPlan> {
  const rt = countingRuntime();
  void rt.empty;
  const w = await uploadWeights(rt, spec, 'zeros', shape.precision);
  const weightBytes = rt.counters.liveBytes;
  const core = new ModelCore(rt, w, { maxBatch: shape.B });
  if (shape.lora) trainer(core, shape.B, shape.S, core.slot(shape.lora, true), {});
  else candidateHead(core.plan({ B: shape.B, S: shape.S, L: shape.S, past: 0 }, null), w, shape.B, 4);
  return { weightBytes, planBytes: rt.counters.peakBytes - weightBytes, peakBytes: rt.counters.peakBytes };
}
