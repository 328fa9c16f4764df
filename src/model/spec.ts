import type { RopeSpec } from '../engine/rope-spec';

/** A decoder-only Llama-family model, as the engine needs it (parsed from config.json by config.ts). */
export interface ModelSpec extends RopeSpec {
  arch: 'llama' | 'qwen2';
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  // headDim, ropeTheta and ropeScaling come from RopeSpec
  rmsNormEps: number;
  maxPositionEmbeddings: number;
  /** lm_head shares the embedding matrix (no lm_head.weight in the checkpoint). */
  tieWordEmbeddings: boolean;
  /** q/k/v projections carry a bias (Qwen2). */
  attentionBias: boolean;
  bosTokenId: number | null;
  eosTokenIds: number[];
}

// RoPE's part of the spec is the engine's (the rope kernel reads it); re-exported so models name it here.
export type { Llama3RopeScaling } from '../engine/rope-spec';

/** Hugging Face tensor names and shapes ([out, in] for linears) a checkpoint of `spec` must hold. */
export function expectedTensors(spec: ModelSpec): Map<string, number[]> {
  const { hiddenSize: d, intermediateSize: f, numHeads: h, numKvHeads: kv, headDim: dh, vocabSize: v } = spec;
  const m = new Map<string, number[]>();
  m.set('model.embed_tokens.weight', [v, d]);
  for (let i = 0; i < spec.numLayers; i++) {
    const p = `model.layers.${i}.`;
    m.set(p + 'input_layernorm.weight', [d]);
    m.set(p + 'self_attn.q_proj.weight', [h * dh, d]);
    m.set(p + 'self_attn.k_proj.weight', [kv * dh, d]);
    m.set(p + 'self_attn.v_proj.weight', [kv * dh, d]);
    m.set(p + 'self_attn.o_proj.weight', [d, h * dh]);
    if (spec.attentionBias) {
      m.set(p + 'self_attn.q_proj.bias', [h * dh]);
      m.set(p + 'self_attn.k_proj.bias', [kv * dh]);
      m.set(p + 'self_attn.v_proj.bias', [kv * dh]);
    }
    m.set(p + 'post_attention_layernorm.weight', [d]);
    m.set(p + 'mlp.gate_proj.weight', [f, d]);
    m.set(p + 'mlp.up_proj.weight', [f, d]);
    m.set(p + 'mlp.down_proj.weight', [d, f]);
  }
  m.set('model.norm.weight', [d]);
  if (!spec.tieWordEmbeddings) m.set('lm_head.weight', [v, d]);
  return m;
}
