// The fixture models run in real transformers.js (onnxruntime-node's CPU binary, offline), agree with the
// PyTorch golden logits, and their KV cache gives the same tokens as full recomputation.
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AutoModelForCausalLM, AutoTokenizer, env, Tensor, type PreTrainedModel, type PreTrainedTokenizer } from '@huggingface/transformers';
import { fixtureTokenizer, makeFixture } from '../../../src/model/fixtures';
import { parseConfig } from '../../../src/model/config';
import { checkTensors, SafetensorsFile, sourceFromBytes } from '../../../src/model/safetensors';
import { createTokenizer } from '../../../src/model/tokenizer';
import { buildOnnxModel, ropeInvFreq } from '../../../src/model/fixtures-onnx';
import { GENERATED_DIR, writeFixture } from '../../helpers/fixtures';

const NAMES = ['tiny-llama', 'tiny-llama-untied', 'tiny-qwen2', 'tiny-llama3'];

beforeAll(() => {
  for (const n of NAMES) writeFixture(n);
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = GENERATED_DIR + '/';
});

describe('fixture files', () => {
  it('are deterministic, valid HF files, and quick to make', async () => {
    const t0 = performance.now();
    const a = makeFixture('tiny-qwen2');
    const ms = performance.now() - t0;
    const b = makeFixture('tiny-qwen2');
    expect(ms).toBeLessThan(500);
    expect(Buffer.compare(a.files['model.safetensors'], b.files['model.safetensors'])).toBe(0);
    const spec = parseConfig(JSON.parse(new TextDecoder().decode(a.files['config.json'])));
    expect(spec).toEqual(a.spec);
    expect(spec).toMatchObject({ arch: 'qwen2', hiddenSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, attentionBias: true });
    const st = await SafetensorsFile.open(sourceFromBytes(a.files['model.safetensors']));
    expect(() => checkTensors(st.tensors, spec)).not.toThrow();
    expect(makeFixture('tiny-llama-untied').weights.has('lm_head.weight')).toBe(true);
  });

  it('tokenizer: byte-level BPE with merges, special tokens and a chat template', () => {
    const fx = makeFixture('tiny-llama');
    const tok = createTokenizer(fx.tokenizerJson, fx.tokenizerConfig, { spec: fx.spec });
    const ids = tok.encode('the answer is (B)\n');
    expect(ids).toContain(257); // "Ġt" merge … "the" = 258
    expect(tok.decode(ids)).toBe('the answer is (B)\n');
    expect(tok.encode('héllo 🙂').every((i) => i < 256)).toBe(true);
    const chat = tok.applyChatTemplate([{ role: 'user', content: 'Hi' }], { addGenerationPrompt: true });
    expect(chat).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
    const { size } = fixtureTokenizer();
    expect(tok.encode(chat).slice(0, 1)).toEqual([size - 2]);
    expect(tok.eosTokenIds).toEqual([size - 1]);
    expect(tok.vocabSize).toBe(size);
  });
});

describe.each(NAMES)('%s in transformers.js', (name) => {
  let model: PreTrainedModel;
  let tok: PreTrainedTokenizer;
  beforeAll(async () => {
    tok = await AutoTokenizer.from_pretrained(name);
    model = await AutoModelForCausalLM.from_pretrained(name, { dtype: 'fp32' });
  });

  it('matches the PyTorch golden logits (where attention_mask is 1)', async () => {
    const g = JSON.parse(readFileSync(join(__dirname, '../../fixtures/golden', `${name}.json`), 'utf8'));
    const gt = await SafetensorsFile.open(sourceFromBytes(readFileSync(join(__dirname, '../../fixtures/golden', `${name}.safetensors`))));
    const want = await gt.readF32('logits');
    const ids: number[][] = g.input_ids;
    const mask: number[][] = g.attention_mask;
    const [B, S] = [ids.length, ids[0].length];
    const i64 = (a: number[][]) => new Tensor('int64', BigInt64Array.from(a.flat().map(BigInt)), [B, S]);
    const out = await model({ input_ids: i64(ids), attention_mask: i64(mask) });
    expect(out.logits.dims).toEqual([B, S, 320]);
    const got = out.logits.data as Float32Array;
    let worst = 0;
    for (let b = 0; b < B; b++)
      for (let s = 0; s < S; s++) {
        if (!mask[b][s]) continue;
        for (let v = 0; v < 320; v++) {
          const k = (b * S + s) * 320 + v;
          worst = Math.max(worst, Math.abs(got[k] - want[k]));
        }
      }
    expect(worst).toBeLessThan(1e-4);
  });

  it('greedy generate() runs with the KV cache and agrees with full recomputation', async () => {
    const inputs = tok('the cat and the dog');
    const n = inputs.input_ids.dims[1];
    const out = (await model.generate({ ...inputs, max_new_tokens: 6, do_sample: false, min_new_tokens: 6 })) as Tensor;
    expect(out.dims).toEqual([1, n + 6]);
    const seq = Array.from(out.data as BigInt64Array, Number);
    // Full forward over the generated sequence (no cache): each new token is the argmax at its position.
    const full = await model({ input_ids: out, attention_mask: new Tensor('int64', new BigInt64Array(n + 6).fill(1n), [1, n + 6]) });
    const logits = full.logits.data as Float32Array;
    for (let t = n; t < n + 6; t++) {
      const row = logits.subarray((t - 1) * 320, t * 320);
      expect(seq[t]).toBe(row.indexOf(Math.max(...row)));
    }
  });
});

describe('tiny-llama3 exercises the llama3 RoPE scaling', () => {
  it('the same weights without the scaling give clearly different logits', async () => {
    const ort = await import('onnxruntime-node');
    const fx = makeFixture('tiny-llama3');
    const g = JSON.parse(readFileSync(join(__dirname, '../../fixtures/golden/tiny-llama3.json'), 'utf8'));
    const ids: number[] = g.input_ids[0];
    const S = ids.length;
    const run = async (spec: typeof fx.spec) => {
      const session = await ort.InferenceSession.create(buildOnnxModel(spec, fx.weights));
      const i64 = (a: number[]) => new ort.Tensor('int64', BigInt64Array.from(a.map(BigInt)), [1, a.length]);
      const feeds: Record<string, InstanceType<typeof ort.Tensor>> = { input_ids: i64(ids), attention_mask: i64(ids.map(() => 1)), position_ids: i64(ids.map((_, i) => i)) };
      for (let l = 0; l < spec.numLayers; l++)
        for (const kv of ['key', 'value']) feeds[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [1, spec.numKvHeads, 0, spec.headDim]);
      return (await session.run(feeds)).logits.data as Float32Array;
    };
    const scaled = await run(fx.spec);
    const plain = await run({ ...fx.spec, ropeScaling: null });
    let diff = 0;
    for (let k = 0; k < S * 320; k++) diff = Math.max(diff, Math.abs(scaled[k] - plain[k]));
    expect(diff).toBeGreaterThan(1e-2);
    const inv = ropeInvFreq(fx.spec);
    const base = ropeInvFreq({ ...fx.spec, ropeScaling: null });
    // kept, smoothed, divided by the factor
    expect(inv[0]).toBe(base[0]);
    expect(inv[1]).toBeLessThan(base[1]);
    expect(inv[1]).toBeGreaterThan(base[1] / 32);
    expect(inv[7]).toBeCloseTo(base[7] / 32, 15);
  });
});
