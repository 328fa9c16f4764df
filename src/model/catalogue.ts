/**
 * The lab's curated models: the base models the paper's method is about (probe and tune a *base* model),
 * then their -Instruct variants. Everything a student needs before pressing Load — parameters, download
 * size, licence, expected GPU memory — is computed here from the published config.json shapes, without
 * downloading anything: parameters by counting the tensors the config implies, the download as bf16
 * safetensors (2 bytes a parameter, the Hub's files), GPU memory by running the engine's own allocation
 * code against a counting device (memory.ts planMemory).
 */
import { parseConfig } from './config';
import { planMemory, REAL_CONFIGS } from './memory';
import { expectedTensors, type ModelSpec } from './spec';

/** config.json of the two curated models memory.ts does not list (as published on the Hub). */
const MORE_CONFIGS = {
  'SmolLM2-360M': {
    architectures: ['LlamaForCausalLM'], attention_bias: false, bos_token_id: 0, eos_token_id: 0, hidden_act: 'silu',
    hidden_size: 960, intermediate_size: 2560, max_position_embeddings: 8192, model_type: 'llama', num_attention_heads: 15,
    num_hidden_layers: 32, num_key_value_heads: 5, rms_norm_eps: 1e-5, rope_scaling: null, rope_theta: 100000,
    tie_word_embeddings: true, torch_dtype: 'bfloat16', vocab_size: 49152,
  },
  'Llama-3.2-1B': {
    architectures: ['LlamaForCausalLM'], attention_bias: false, bos_token_id: 128000, eos_token_id: 128001, head_dim: 64,
    hidden_act: 'silu', hidden_size: 2048, intermediate_size: 8192, max_position_embeddings: 131072, model_type: 'llama',
    num_attention_heads: 32, num_hidden_layers: 16, num_key_value_heads: 8, rms_norm_eps: 1e-5,
    rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
    rope_theta: 500000.0, tie_word_embeddings: true, torch_dtype: 'bfloat16', vocab_size: 128256,
  },
} as const;

const APACHE = { licence: 'Apache-2.0', licenceUrl: 'https://www.apache.org/licenses/LICENSE-2.0' };
const LLAMA = { licence: 'Llama 3.2 Community License', licenceUrl: 'https://huggingface.co/meta-llama/Llama-3.2-1B/blob/main/LICENSE.txt' };

interface Curated {
  id: string;
  family: string;
  config: unknown;
  licence: string;
  licenceUrl: string;
  gated: boolean;
}

const FAMILIES: Curated[] = [
  { id: 'HuggingFaceTB/SmolLM2-135M', family: 'SmolLM2-135M', config: REAL_CONFIGS['SmolLM2-135M'], ...APACHE, gated: false },
  { id: 'HuggingFaceTB/SmolLM2-360M', family: 'SmolLM2-360M', config: MORE_CONFIGS['SmolLM2-360M'], ...APACHE, gated: false },
  { id: 'Qwen/Qwen2.5-0.5B', family: 'Qwen2.5-0.5B', config: REAL_CONFIGS['Qwen2.5-0.5B'], ...APACHE, gated: false },
  { id: 'meta-llama/Llama-3.2-1B', family: 'Llama-3.2-1B', config: MORE_CONFIGS['Llama-3.2-1B'], ...LLAMA, gated: true },
];

/** The shapes the memory figures are for: the lab's probe batch and the Train page's defaults. */
export const MEMORY_BASIS = {
  probe: { B: 8, S: 512 },
  train: { B: 16, S: 512, rank: 8, targets: ['q', 'k', 'v', 'o'] as const },
};

export const MEMORY_BASIS_TEXT =
  `Estimates from the config's shapes: the engine's own buffer plan, counted without a GPU — f16 base weights, ` +
  `plus for probing a batch of ${MEMORY_BASIS.probe.B} prompts × ${MEMORY_BASIS.probe.S} tokens scored on 4 options, ` +
  `for LoRA training one step at batch ${MEMORY_BASIS.train.B} × ${MEMORY_BASIS.train.S} tokens, r = ${MEMORY_BASIS.train.rank} on q, k, v, o ` +
  `(the Train page's defaults). Shorter prompts and smaller batches need less; the browser and driver add their own overhead.`;

/** Parameters the config implies (a tied LM head shares the embedding, so it is counted once). */
export function paramCountOf(spec: ModelSpec): number {
  let n = 0;
  for (const shape of expectedTensors(spec).values()) n += shape.reduce((a, b) => a * b, 1);
  return n;
}

/** One of the lab's curated models, with estimates made before anything is downloaded (the Worker's modelCatalogue). */
export interface CatalogueModel {
  id: string;
  group: 'base' | 'instruct';
  family: string;
  /** Parameters counted from the config's tensor shapes (embedding counted once when tied). */
  params: number;
  /** The Hub's bf16 safetensors. */
  downloadBytes: number;
  licence: string;
  licenceUrl: string;
  /** GPU bytes the engine would allocate, from the config shapes (src/model/memory.ts planMemory). */
  probeBytes: number;
  trainBytes: number;
  /** How the two memory figures were computed, in words. */
  memoryBasis: string;
  gated: boolean;
}

/** Base models first, then their -Instruct variants (the same shapes, so the same figures). */
export async function curatedModels(): Promise<CatalogueModel[]> {
  const base: CatalogueModel[] = [];
  for (const f of FAMILIES) {
    const spec = parseConfig(f.config);
    const params = paramCountOf(spec);
    const probe = await planMemory(spec, { ...MEMORY_BASIS.probe, precision: 'f16', lora: null });
    const t = MEMORY_BASIS.train;
    const train = await planMemory(spec, { B: t.B, S: t.S, precision: 'f16', lora: { rank: t.rank, alpha: 2 * t.rank, dropout: 0, targets: [...t.targets] } });
    base.push({
      id: f.id, group: 'base', family: f.family, params, downloadBytes: 2 * params, licence: f.licence, licenceUrl: f.licenceUrl,
      probeBytes: probe.peakBytes, trainBytes: train.peakBytes, memoryBasis: MEMORY_BASIS_TEXT, gated: f.gated,
    });
  }
  return [...base, ...base.map((m) => ({ ...m, id: `${m.id}-Instruct`, group: 'instruct' as const }))];
}
