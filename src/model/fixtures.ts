/**
 * Tiny Llama / Qwen2 models made from a seed (~0.1 s): the files a Hub repository holds (config.json,
 * generation_config.json, tokenizer.json, tokenizer_config.json with a chat template, model.safetensors),
 * for tests, golden values and the lab's built-in toy model. Weights are f32, HF names, [out, in] layout.
 * The ONNX export of the same weights (for transformers.js) lives in fixtures-onnx.ts (dev dependency).
 *
 * Determinism matters: tools/golden/ reads these weights and the golden files record their SHA-256, so
 * changing anything here (order of draws, scales, vocabulary) invalidates tests/fixtures/golden/.
 */
import { specToConfig } from './config';
import { uniformPm1 } from './random';
import { writeSafetensors, type TensorToWrite } from './safetensors';
import { expectedTensors, type ModelSpec } from './spec';

export type FixtureArch = 'llama' | 'qwen2';

export interface FixtureOptions {
  arch?: FixtureArch;
  /** Tied embeddings (default true); false adds lm_head.weight. */
  tied?: boolean;
  seed?: number;
  /** Llama 3.x RoPE scaling (Llama-3.2's values in tiny-llama3); default none. */
  ropeScaling?: ModelSpec['ropeScaling'];
  ropeTheta?: number;
}

export interface Fixture {
  name: string;
  spec: ModelSpec;
  /** HF tensor name → f32 values, in expectedTensors order. */
  weights: Map<string, Float32Array>;
  /** Repository files by path (JSON as UTF-8 text). */
  files: Record<string, Uint8Array>;
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
}

export const FIXTURE_SEED = 1234;

/** Fixture names used across the project: tiny-llama, tiny-llama-untied, tiny-qwen2, tiny-llama3. */
export const FIXTURES: Record<string, FixtureOptions> = {
  'tiny-llama': { arch: 'llama', tied: true, seed: FIXTURE_SEED },
  'tiny-llama-untied': { arch: 'llama', tied: false, seed: FIXTURE_SEED },
  'tiny-qwen2': { arch: 'qwen2', tied: true, seed: FIXTURE_SEED + 1 },
  // Llama 3.2's RoPE (theta 5e5, "llama3" scaling factor 32, low 1, high 4) with original_max_position 64
  // instead of 8192, so that at the golden batch's positions 0..7 the three branches (kept, smoothed,
  // divided by the factor) all change the logits visibly.
  'tiny-llama3': {
    arch: 'llama', tied: true, seed: FIXTURE_SEED + 2, ropeTheta: 500000,
    ropeScaling: { factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 },
  },
};

// ---- tokenizer: GPT-2 style byte-level BPE, 256 bytes + a few merges + 3 special tokens ----

/** GPT-2's bytes_to_unicode: each byte as a printable character. */
export function byteToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const out: string[] = new Array(256);
  for (const b of bs) out[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (out[b] === undefined) out[b] = String.fromCharCode(256 + n++);
  return out;
}

const MERGES: [string, string][] = [
  ['Ġ', 't'], ['h', 'e'], ['Ġt', 'he'], ['i', 'n'], ['e', 'r'], ['a', 'n'], ['o', 'n'], ['Ġ', 'a'], ['r', 'e'],
  ['Ġ', 's'], ['Ġ', 'w'], ['o', 'u'], ['i', 's'], ['Ġ', 'i'], ['Ġ', 'o'], ['e', 'n'], ['a', 't'], ['Ġ', 'c'],
  ['Ġ', 'b'], ['o', 'r'], ['e', 's'], ['Ġ', 'f'], ['Ġ', 'm'], ['Ġ', 'p'], ['in', 'g'], ['Ġ', 'd'], ['e', 'd'],
  ['Ġt', 'o'], ['Ġa', 'n'], ['Ġan', 'd'], ['Ġ', 'A'], ['Ġ', 'B'], ['Ġ', 'C'], ['Ġ', 'D'], ['Ġ', '('], ['Ġ', 'Ġ'],
];
export const FIXTURE_SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] as const;
export const FIXTURE_CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export function fixtureTokenizer(): { tokenizerJson: Record<string, unknown>; tokenizerConfig: Record<string, unknown>; size: number } {
  const vocab: Record<string, number> = {};
  byteToUnicode().forEach((c, i) => (vocab[c] = i));
  let next = 256;
  for (const [a, b] of MERGES) {
    if (!(a in vocab) || !(b in vocab)) throw new Error(`fixture merge ${a} ${b} uses an unknown token`);
    vocab[a + b] = next++;
  }
  const added = FIXTURE_SPECIAL_TOKENS.map((content) => ({
    id: next++, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  }));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const tokenizerJson = {
    version: '1.0', truncation: null, padding: null, added_tokens: added, normalizer: null,
    pre_tokenizer: byteLevel, post_processor: { ...byteLevel, trim_offsets: false }, decoder: byteLevel,
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: MERGES.map(([a, b]) => `${a} ${b}`),
    },
  };
  const tokenizerConfig = {
    tokenizer_class: 'PreTrainedTokenizerFast', add_bos_token: false, add_eos_token: false, bos_token: null,
    eos_token: '<|im_end|>', pad_token: '<|endoftext|>', unk_token: null, model_max_length: 256,
    clean_up_tokenization_spaces: false, chat_template: FIXTURE_CHAT_TEMPLATE,
    added_tokens_decoder: Object.fromEntries(added.map(({ id, ...t }) => [String(id), t])),
  };
  return { tokenizerJson, tokenizerConfig, size: next };
}

// ---- model ----

export function fixtureSpec(opts: FixtureOptions = {}): ModelSpec {
  const { size } = fixtureTokenizer();
  const arch = opts.arch ?? 'llama';
  return {
    arch, vocabSize: 320, hiddenSize: 64, intermediateSize: 128, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 16,
    rmsNormEps: 1e-6, ropeTheta: opts.ropeTheta ?? 10000, ropeScaling: opts.ropeScaling ?? null, maxPositionEmbeddings: 256,
    tieWordEmbeddings: opts.tied ?? true, attentionBias: arch === 'qwen2',
    bosTokenId: size - 3, // <|endoftext|>
    eosTokenIds: [size - 1], // <|im_end|>
  };
}

/** Deterministic weights: linears U(±1/√in), embeddings U(±0.1), norms 1 + U(±0.1), biases U(±0.3). */
export function fixtureWeights(spec: ModelSpec, seed: number): Map<string, Float32Array> {
  const r = uniformPm1(seed);
  const out = new Map<string, Float32Array>();
  for (const [name, shape] of expectedTensors(spec)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const w = new Float32Array(n);
    if (name.endsWith('layernorm.weight') || name === 'model.norm.weight') for (let i = 0; i < n; i++) w[i] = 1 + 0.1 * r();
    else if (name.endsWith('.bias')) for (let i = 0; i < n; i++) w[i] = 0.3 * r();
    else if (name === 'model.embed_tokens.weight' || name === 'lm_head.weight') for (let i = 0; i < n; i++) w[i] = 0.1 * r();
    else {
      const s = 1 / Math.sqrt(shape[1]);
      for (let i = 0; i < n; i++) w[i] = s * r();
    }
    out.set(name, w);
  }
  return out;
}

export function weightsToSafetensors(spec: ModelSpec, weights: Map<string, Float32Array>): Uint8Array<ArrayBuffer> {
  const shapes = expectedTensors(spec);
  const t = new Map<string, TensorToWrite>();
  for (const [name, w] of weights) t.set(name, { dtype: 'F32', shape: shapes.get(name)!, data: w });
  return writeSafetensors(t, { format: 'pt' });
}

const text = (o: unknown) => new TextEncoder().encode(JSON.stringify(o, null, 2) + '\n');

export function makeFixture(name: keyof typeof FIXTURES | string, opts?: FixtureOptions): Fixture {
  const o = { ...(FIXTURES[name] ?? {}), ...(opts ?? {}) };
  const spec = fixtureSpec(o);
  const weights = fixtureWeights(spec, o.seed ?? FIXTURE_SEED);
  const { tokenizerJson, tokenizerConfig } = fixtureTokenizer();
  const files: Record<string, Uint8Array> = {
    'config.json': text(specToConfig(spec)),
    'generation_config.json': text({ bos_token_id: spec.bosTokenId, eos_token_id: spec.eosTokenIds[0], do_sample: false }),
    'tokenizer.json': text(tokenizerJson),
    'tokenizer_config.json': text(tokenizerConfig),
    'model.safetensors': weightsToSafetensors(spec, weights),
  };
  return { name, spec, weights, files, tokenizerJson, tokenizerConfig };
}
