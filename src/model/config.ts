/**
 * Hugging Face config.json → ModelSpec, for the architectures the engine runs (llama, qwen2). Everything
 * the engine would silently get wrong (another activation, sliding windows, other RoPE scalings) is refused
 * with a typed error, so a student never trains on a model the engine computes incorrectly.
 */
import type { Llama3RopeScaling, ModelSpec } from './spec';
import { InvalidConfigError, UnsupportedModelError } from './errors';

type Json = Record<string, unknown>;

/** What the transformers config classes default to when a key is absent (LlamaConfig, Qwen2Config). */
const DEFAULTS = {
  llama: { tieWordEmbeddings: false, ropeTheta: 10000, rmsNormEps: 1e-6, maxPositionEmbeddings: 2048 },
  qwen2: { tieWordEmbeddings: false, ropeTheta: 10000, rmsNormEps: 1e-6, maxPositionEmbeddings: 32768 },
} as const;

function int(c: Json, key: string, fallback?: number): number {
  const v = c[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
    throw new InvalidConfigError(v === undefined ? `"${key}" is missing` : `"${key}" must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

function num(c: Json, key: string, fallback: number): number {
  const v = c[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
    throw new InvalidConfigError(`"${key}" must be a positive number, got ${JSON.stringify(v)}`);
  return v;
}

function optTokenId(v: unknown, key: string): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  throw new InvalidConfigError(`"${key}" must be a token id, got ${JSON.stringify(v)}`);
}

function tokenIds(v: unknown, key: string): number[] {
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => optTokenId(x, key) as number);
}

function ropeScaling(v: unknown): Llama3RopeScaling | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw new InvalidConfigError('"rope_scaling" must be an object or null');
  const r = v as Json;
  const type = r.rope_type ?? r.type;
  if (type === 'default') return null;
  if (type !== 'llama3')
    throw new UnsupportedModelError(`rope_scaling type ${JSON.stringify(type)} (only "llama3" scaling is implemented)`);
  const s: Llama3RopeScaling = {
    factor: num(r, 'factor', NaN),
    lowFreqFactor: num(r, 'low_freq_factor', NaN),
    highFreqFactor: num(r, 'high_freq_factor', NaN),
    originalMaxPositionEmbeddings: int(r, 'original_max_position_embeddings'),
  };
  if (s.highFreqFactor <= s.lowFreqFactor)
    throw new InvalidConfigError('rope_scaling.high_freq_factor must exceed low_freq_factor');
  return s;
}

/** Parse and validate a config.json object (already JSON.parse'd). Throws UnsupportedModelError / InvalidConfigError. */
export function parseConfig(json: unknown): ModelSpec {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new InvalidConfigError('it is not a JSON object');
  const c = json as Json;
  const type = c.model_type;
  if (type !== 'llama' && type !== 'qwen2')
    throw new UnsupportedModelError(
      type === undefined ? 'config.json has no model_type' : `model_type "${String(type)}"`,
    );
  const arch = type;
  const d = DEFAULTS[arch];

  const act = c.hidden_act ?? 'silu';
  if (act !== 'silu') throw new UnsupportedModelError(`hidden_act "${String(act)}" (only SwiGLU with silu is implemented)`);
  if (c.mlp_bias === true) throw new UnsupportedModelError('mlp_bias = true');
  if (c.rope_interleaved === true) throw new UnsupportedModelError('rope_interleaved = true');
  if (arch === 'llama' && c.attention_bias === true)
    throw new UnsupportedModelError('a llama model with attention_bias = true (o_proj bias)');
  if (arch === 'qwen2' && c.use_sliding_window === true)
    throw new UnsupportedModelError('use_sliding_window = true (sliding-window attention)');
  if (c.use_mrope === true) throw new UnsupportedModelError('use_mrope = true (multimodal RoPE)');

  const hiddenSize = int(c, 'hidden_size');
  const numHeads = int(c, 'num_attention_heads');
  const numKvHeads = int(c, 'num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0)
    throw new InvalidConfigError(`num_attention_heads (${numHeads}) is not a multiple of num_key_value_heads (${numKvHeads})`);
  let headDim: number;
  if (c.head_dim !== undefined && c.head_dim !== null) headDim = int(c, 'head_dim');
  else {
    if (hiddenSize % numHeads !== 0)
      throw new InvalidConfigError(`hidden_size (${hiddenSize}) is not a multiple of num_attention_heads (${numHeads}) and head_dim is absent`);
    headDim = hiddenSize / numHeads;
  }
  if (headDim % 2 !== 0) throw new InvalidConfigError(`head_dim ${headDim} is odd (RoPE rotates pairs)`);

  const tie = c.tie_word_embeddings ?? d.tieWordEmbeddings;
  if (typeof tie !== 'boolean') throw new InvalidConfigError('"tie_word_embeddings" must be true or false');

  const vocabSize = int(c, 'vocab_size');
  const bosTokenId = optTokenId(c.bos_token_id, 'bos_token_id');
  const eosTokenIds = tokenIds(c.eos_token_id, 'eos_token_id');
  for (const id of [bosTokenId ?? 0, ...eosTokenIds])
    if (id >= vocabSize) throw new InvalidConfigError(`special token id ${id} is outside vocab_size ${vocabSize}`);

  return {
    arch,
    vocabSize,
    hiddenSize,
    intermediateSize: int(c, 'intermediate_size'),
    numLayers: int(c, 'num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: num(c, 'rms_norm_eps', d.rmsNormEps),
    ropeTheta: num(c, 'rope_theta', d.ropeTheta),
    ropeScaling: ropeScaling(c.rope_scaling),
    maxPositionEmbeddings: int(c, 'max_position_embeddings', d.maxPositionEmbeddings),
    tieWordEmbeddings: tie,
    attentionBias: arch === 'qwen2',
    bosTokenId,
    eosTokenIds,
  };
}

/**
 * generation_config.json often lists more end-of-turn ids than config.json (Llama 3.2 Instruct's <|eot_id|>).
 * Returns the union, config's ids first.
 */
export function mergeEosTokenIds(spec: ModelSpec, generationConfig: unknown): number[] {
  const out = [...spec.eosTokenIds];
  if (generationConfig && typeof generationConfig === 'object') {
    for (const id of tokenIds((generationConfig as Json).eos_token_id, 'generation_config.eos_token_id'))
      if (!out.includes(id) && id < spec.vocabSize) out.push(id);
  }
  return out;
}

/** config.json for a ModelSpec (used by the fixtures and by exports); inverse of parseConfig. */
export function specToConfig(spec: ModelSpec): Json {
  const c: Json = {
    architectures: [spec.arch === 'llama' ? 'LlamaForCausalLM' : 'Qwen2ForCausalLM'],
    model_type: spec.arch,
    vocab_size: spec.vocabSize,
    hidden_size: spec.hiddenSize,
    intermediate_size: spec.intermediateSize,
    num_hidden_layers: spec.numLayers,
    num_attention_heads: spec.numHeads,
    num_key_value_heads: spec.numKvHeads,
    head_dim: spec.headDim,
    hidden_act: 'silu',
    max_position_embeddings: spec.maxPositionEmbeddings,
    rms_norm_eps: spec.rmsNormEps,
    rope_theta: spec.ropeTheta,
    rope_scaling: spec.ropeScaling && {
      rope_type: 'llama3',
      factor: spec.ropeScaling.factor,
      low_freq_factor: spec.ropeScaling.lowFreqFactor,
      high_freq_factor: spec.ropeScaling.highFreqFactor,
      original_max_position_embeddings: spec.ropeScaling.originalMaxPositionEmbeddings,
    },
    tie_word_embeddings: spec.tieWordEmbeddings,
    bos_token_id: spec.bosTokenId,
    eos_token_id: spec.eosTokenIds.length === 1 ? spec.eosTokenIds[0] : spec.eosTokenIds,
    torch_dtype: 'float32',
    use_cache: true,
  };
  if (spec.arch === 'llama') {
    c.attention_bias = false;
    c.mlp_bias = false;
  } else c.use_sliding_window = false;
  return c;
}
