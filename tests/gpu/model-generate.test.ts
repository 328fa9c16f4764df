// Generation and verification against transformers.js (AutoModelForCausalLM on the ONNX export of the same
// fixture weights, onnxruntime-node CPU): greedy tokens identical, logits within tolerance.
import { beforeAll, describe, expect, it } from 'vitest';
import { AutoModelForCausalLM, env, Tensor, type PreTrainedModel } from '@huggingface/transformers';
import { sampleToken } from '../../src/model/generate';
import { verifyAgainstReference } from '../../src/model/verify';
import { GENERATED_DIR, writeFixture } from '../helpers/fixtures';
import { fixtureModel } from '../helpers/model';

const NAMES = ['tiny-llama', 'tiny-qwen2'];

beforeAll(() => {
  for (const n of NAMES) writeFixture(n);
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = GENERATED_DIR + '/';
});

const i64 = (a: number[][]) => new Tensor('int64', BigInt64Array.from(a.flat().map(BigInt)), [a.length, a[0].length]);

describe.each(NAMES)('%s against transformers.js', (name) => {
  let hf: PreTrainedModel;
  beforeAll(async () => {
    hf = await AutoModelForCausalLM.from_pretrained(name, { dtype: 'fp32' });
  });

  it('greedy generation is identical token for token; logits agree (verifyAgainstReference)', async () => {
    const m = await fixtureModel(name, 'f32');
    const prompt = m.tokenizer.encode('<|im_start|>user\nthe cat and the dog<|im_end|>\n<|im_start|>assistant\n');
    const N = 12;
    const ours = await m.generate(prompt, { maxNewTokens: N });
    const out = (await hf.generate({ input_ids: i64([prompt]), attention_mask: i64([prompt.map(() => 1)]), max_new_tokens: N, do_sample: false })) as Tensor;
    const theirs = Array.from(out.data as BigInt64Array, Number).slice(prompt.length);
    const eos = m.tokenizer.eosTokenIds;
    const cut = theirs.findIndex((t) => eos.includes(t));
    expect(ours).toEqual(cut < 0 ? theirs : theirs.slice(0, cut));
    expect(ours.length).toBeGreaterThan(3);

    const reference = async (ids: number[][]) => {
      const res: Float32Array[] = [];
      for (const seq of ids) {
        const r = await hf({ input_ids: i64([seq]), attention_mask: i64([seq.map(() => 1)]) });
        res.push(Float32Array.from(r.logits.data as Float32Array));
      }
      return res;
    };
    const prompts = [prompt, m.tokenizer.encode('the answer is (B) because'), [...prompt, ...ours]];
    const rep = await verifyAgainstReference(m, reference, prompts);
    console.log(`${name}: max |Δlogit| vs transformers.js ${rep.maxAbsLogitDiff.toExponential(2)}, top-1 ${rep.top1Agreement}`);
    expect(rep.maxAbsLogitDiff).toBeLessThan(1e-4);
    expect(rep.top1Agreement).toBe(1);
    m.dispose();
  });
});

describe('sampling', () => {
  it('seeded sampling repeats, stops at a stop string, and top-p keeps only the nucleus', async () => {
    const m = await fixtureModel('tiny-llama', 'f32');
    const prompt = m.tokenizer.encode('the cat');
    const greedy = await m.generate(prompt, { maxNewTokens: 5 });
    // Decoding allocates nothing once the plans exist.
    const before = m.counters.allocations;
    const a = await m.generate(prompt, { maxNewTokens: 5, temperature: 1.5, topP: 0.9, seed: 3 });
    const b = await m.generate(prompt, { maxNewTokens: 5, temperature: 1.5, topP: 0.9, seed: 3 });
    expect(m.counters.allocations).toBe(before);
    expect(a).toEqual(b);
    expect(a.length).toBe(5);
    // Stop at the text of the second greedy token: generation ends right after it.
    const stop = m.tokenizer.decode(greedy.slice(0, 2));
    const stopped = await m.generate(prompt, { maxNewTokens: 5, stop: [stop] });
    expect(stopped).toEqual(greedy.slice(0, 2));
    m.dispose();
    const logits = Float32Array.from([0, 10, 9.9, -5]);
    let r = 0;
    const rand = () => ((r = (r * 9301 + 49297) % 233280), r / 233280);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(sampleToken(logits, 1, 0.9, rand));
    expect([...seen].sort()).toEqual([1, 2]);
    expect(sampleToken(logits, 0, 1, rand)).toBe(1);
  });
});
