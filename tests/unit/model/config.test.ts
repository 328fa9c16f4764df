import { describe, expect, it } from 'vitest';
import { mergeEosTokenIds, parseConfig, specToConfig } from '../../../src/model/config';
import { InvalidConfigError, UnsupportedModelError } from '../../../src/model/errors';
import { expectedTensors } from '../../../src/model/spec';

// Copied by hand from the published config.json files on the Hub.
const SMOLLM2_135M = {
  architectures: ['LlamaForCausalLM'], attention_bias: false, attention_dropout: 0.0, bos_token_id: 0, eos_token_id: 0,
  hidden_act: 'silu', hidden_size: 576, initializer_range: 0.041666666666666664, intermediate_size: 1536,
  is_llama_config: true, max_position_embeddings: 8192, model_type: 'llama', num_attention_heads: 9,
  num_hidden_layers: 30, num_key_value_heads: 3, pretraining_tp: 1, rms_norm_eps: 1e-5, rope_interleaved: false,
  rope_scaling: null, rope_theta: 100000, tie_word_embeddings: true, torch_dtype: 'bfloat16',
  transformers_version: '4.40.1', use_cache: true, vocab_size: 49152,
};
const QWEN25_05B = {
  architectures: ['Qwen2ForCausalLM'], attention_dropout: 0.0, bos_token_id: 151643, eos_token_id: 151643,
  hidden_act: 'silu', hidden_size: 896, initializer_range: 0.02, intermediate_size: 4864,
  max_position_embeddings: 32768, max_window_layers: 24, model_type: 'qwen2', num_attention_heads: 14,
  num_hidden_layers: 24, num_key_value_heads: 2, rms_norm_eps: 1e-6, rope_theta: 1000000.0, sliding_window: 32768,
  tie_word_embeddings: true, torch_dtype: 'bfloat16', transformers_version: '4.40.1', use_cache: true,
  use_mrope: false, use_sliding_window: false, vocab_size: 151936,
};
const LLAMA32_1B_INSTRUCT = {
  architectures: ['LlamaForCausalLM'], attention_bias: false, attention_dropout: 0.0, bos_token_id: 128000,
  eos_token_id: [128001, 128008, 128009], head_dim: 64, hidden_act: 'silu', hidden_size: 2048,
  initializer_range: 0.02, intermediate_size: 8192, max_position_embeddings: 131072, mlp_bias: false,
  model_type: 'llama', num_attention_heads: 32, num_hidden_layers: 16, num_key_value_heads: 8, pretraining_tp: 1,
  rms_norm_eps: 1e-5,
  rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  rope_theta: 500000.0, tie_word_embeddings: true, torch_dtype: 'bfloat16', transformers_version: '4.45.0.dev0',
  use_cache: true, vocab_size: 128256,
};
const TINYLLAMA_CHAT = {
  architectures: ['LlamaForCausalLM'], bos_token_id: 1, eos_token_id: 2, hidden_act: 'silu', hidden_size: 2048,
  initializer_range: 0.02, intermediate_size: 5632, max_position_embeddings: 2048, model_type: 'llama',
  num_attention_heads: 32, num_hidden_layers: 22, num_key_value_heads: 4, pretraining_tp: 1, rms_norm_eps: 1e-5,
  rope_scaling: null, rope_theta: 10000.0, tie_word_embeddings: false, torch_dtype: 'bfloat16',
  transformers_version: '4.35.0', use_cache: true, vocab_size: 32000,
};

describe('parseConfig on real configs', () => {
  it('SmolLM2-135M', () => {
    const s = parseConfig(SMOLLM2_135M);
    expect(s).toEqual({
      arch: 'llama', vocabSize: 49152, hiddenSize: 576, intermediateSize: 1536, numLayers: 30, numHeads: 9,
      numKvHeads: 3, headDim: 64, rmsNormEps: 1e-5, ropeTheta: 100000, ropeScaling: null,
      maxPositionEmbeddings: 8192, tieWordEmbeddings: true, attentionBias: false, bosTokenId: 0, eosTokenIds: [0],
    });
    const t = expectedTensors(s);
    expect(t.size).toBe(1 + 30 * 9 + 1);
    expect(t.has('lm_head.weight')).toBe(false);
  });
  it('Qwen2.5-0.5B', () => {
    const s = parseConfig(QWEN25_05B);
    expect(s.arch).toBe('qwen2');
    expect([s.numLayers, s.hiddenSize, s.numHeads, s.numKvHeads, s.headDim, s.intermediateSize, s.vocabSize]).toEqual([24, 896, 14, 2, 64, 4864, 151936]);
    expect(s.ropeTheta).toBe(1e6);
    expect(s.tieWordEmbeddings).toBe(true);
    expect(s.attentionBias).toBe(true);
    expect(expectedTensors(s).get('model.layers.0.self_attn.k_proj.bias')).toEqual([128]);
  });
  it('Llama-3.2-1B-Instruct with llama3 RoPE scaling and a list of EOS ids', () => {
    const s = parseConfig(LLAMA32_1B_INSTRUCT);
    expect([s.numLayers, s.hiddenSize, s.numHeads, s.numKvHeads, s.headDim, s.intermediateSize, s.vocabSize]).toEqual([16, 2048, 32, 8, 64, 8192, 128256]);
    expect(s.ropeTheta).toBe(500000);
    expect(s.ropeScaling).toEqual({ factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
    expect(s.eosTokenIds).toEqual([128001, 128008, 128009]);
    expect(s.tieWordEmbeddings).toBe(true);
    expect(s.attentionBias).toBe(false);
  });
  it('TinyLlama (untied, head_dim derived)', () => {
    const s = parseConfig(TINYLLAMA_CHAT);
    expect(s.headDim).toBe(64);
    expect(s.tieWordEmbeddings).toBe(false);
    expect(expectedTensors(s).get('lm_head.weight')).toEqual([32000, 2048]);
  });
  it('tie_word_embeddings defaults to false (LlamaConfig / Qwen2Config)', () => {
    const { tie_word_embeddings: _, ...noTie } = SMOLLM2_135M;
    expect(parseConfig(noTie).tieWordEmbeddings).toBe(false);
    const { tie_word_embeddings: __, ...noTieQ } = QWEN25_05B;
    expect(parseConfig(noTieQ).tieWordEmbeddings).toBe(false);
  });
  it('round-trips through specToConfig', () => {
    for (const c of [SMOLLM2_135M, QWEN25_05B, LLAMA32_1B_INSTRUCT, TINYLLAMA_CHAT]) {
      const s = parseConfig(c);
      expect(parseConfig(JSON.parse(JSON.stringify(specToConfig(s))))).toEqual(s);
    }
  });
  it('merges generation_config EOS ids', () => {
    const s = parseConfig(SMOLLM2_135M);
    expect(mergeEosTokenIds(s, { eos_token_id: [0, 2] })).toEqual([0, 2]);
    expect(mergeEosTokenIds(s, undefined)).toEqual([0]);
  });
});

describe('parseConfig refuses what the engine cannot run', () => {
  const bad: [string, object, typeof UnsupportedModelError | typeof InvalidConfigError, RegExp][] = [
    ['gpt2', { model_type: 'gpt2', n_embd: 768 }, UnsupportedModelError, /gpt2/],
    ['mistral', { ...SMOLLM2_135M, model_type: 'mistral' }, UnsupportedModelError, /mistral/],
    ['no model_type', { hidden_size: 4 }, UnsupportedModelError, /model_type/],
    ['gelu', { ...SMOLLM2_135M, hidden_act: 'gelu' }, UnsupportedModelError, /gelu/],
    ['yarn', { ...SMOLLM2_135M, rope_scaling: { rope_type: 'yarn', factor: 4 } }, UnsupportedModelError, /yarn/],
    ['linear (old "type" key)', { ...SMOLLM2_135M, rope_scaling: { type: 'linear', factor: 2 } }, UnsupportedModelError, /linear/],
    ['sliding window', { ...QWEN25_05B, use_sliding_window: true }, UnsupportedModelError, /sliding/],
    ['llama attention bias', { ...SMOLLM2_135M, attention_bias: true }, UnsupportedModelError, /attention_bias/],
    ['missing hidden_size', { ...SMOLLM2_135M, hidden_size: undefined }, InvalidConfigError, /hidden_size/],
    ['heads not dividing', { ...SMOLLM2_135M, num_key_value_heads: 4 }, InvalidConfigError, /multiple/],
    ['eos beyond vocab', { ...SMOLLM2_135M, eos_token_id: 49152 }, InvalidConfigError, /outside vocab/],
    ['non-integer layers', { ...SMOLLM2_135M, num_hidden_layers: 2.5 }, InvalidConfigError, /num_hidden_layers/],
  ];
  for (const [name, cfg, cls, re] of bad)
    it(name, () => {
      let err: unknown;
      try { parseConfig(cfg); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(cls);
      expect((err as Error).message).toMatch(re);
      expect((err as InstanceType<typeof cls>).advice.length).toBeGreaterThan(20);
      if (err instanceof UnsupportedModelError) expect(err.advice).toMatch(/llama.*qwen2/);
    });
});
