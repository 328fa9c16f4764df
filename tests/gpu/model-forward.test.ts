// The assembled decoder against PyTorch (float64) golden logits, and the LabModel scoring paths against
// each other (shared-prefix KV cache vs full recomputation, an untrained adapter vs the base).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SafetensorsFile, sourceFromBytes } from '../../src/model/safetensors';
import type { EngineModel } from '../../src/model/engine-model';
import { initLora } from '../../src/model/lora';
import { fixtureModel } from '../helpers/model';

const GOLDEN = join(__dirname, '../fixtures/golden');

async function goldenLogits(name: string) {
  const g = JSON.parse(readFileSync(join(GOLDEN, `${name}.json`), 'utf8'));
  const t = await SafetensorsFile.open(sourceFromBytes(readFileSync(join(GOLDEN, `${name}.safetensors`))));
  return { g, logits: await t.readF32('logits') };
}

/** Max |Δ| over the masked-in positions of the golden batch. */
async function worstGoldenDiff(model: EngineModel, name: string): Promise<number> {
  const { g, logits } = await goldenLogits(name);
  const ids: number[][] = g.input_ids;
  const mask: number[][] = g.attention_mask;
  const S = ids[0].length;
  const V = model.spec.vocabSize;
  const seqs = ids.map((row, b) => row.filter((_, s) => mask[b][s] === 1));
  const got = await model.logits(seqs);
  let worst = 0;
  seqs.forEach((seq, b) => {
    for (let s = 0; s < seq.length; s++)
      for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(got[b][s * V + v] - logits[(b * S + s) * V + v]));
  });
  return worst;
}

describe('decoder forward vs PyTorch float64 golden logits', () => {
  // f32 weights and f32 accumulation over D = 64 and two layers: rounding is ~1e-6 relative on logits of
  // magnitude ~1, so 1e-4 absolute leaves room for accumulation-order differences but catches any real bug
  // (a wrong RoPE branch or mask changes logits by > 1e-2, see tests/unit/model/fixtures.test.ts).
  for (const name of ['tiny-llama', 'tiny-llama-untied', 'tiny-qwen2', 'tiny-llama3']) {
    it(`${name}, f32 weights: |Δlogit| < 1e-4`, async () => {
      const m = await fixtureModel(name, 'f32');
      const worst = await worstGoldenDiff(m, name);
      console.log(`${name} f32 max |Δlogit| = ${worst.toExponential(2)}`);
      expect(worst).toBeLessThan(1e-4);
      m.dispose();
    });
  }
  // Packed f16 weights round every weight to 11 significant bits (relative 2^-12 ≈ 2.4e-4); through two
  // layers and the LM head that moves logits by ~1e-3: 1e-2 bounds it with margin.
  it('tiny-qwen2, packed f16 weights: |Δlogit| < 1e-2', async () => {
    const m = await fixtureModel('tiny-qwen2', 'f16');
    expect(m.precision).toBe('f16');
    const worst = await worstGoldenDiff(m, 'tiny-qwen2');
    console.log(`tiny-qwen2 f16 max |Δlogit| = ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-2);
    m.dispose();
  });
});

function logSoftmaxAt(row: Float32Array, ids: readonly number[]): number[] {
  let m = -Infinity;
  for (const x of row) m = Math.max(m, x);
  let z = 0;
  for (const x of row) z += Math.exp(x - m);
  return ids.map((i) => row[i] - m - Math.log(z));
}

describe('LabModel scoring', () => {
  it('nextTokenLogProbs with a shared prefix = full recomputation; continuations; B=0 adapter = base', async () => {
    const m = await fixtureModel('tiny-llama', 'f32', { maxBatch: 2 });
    const V = m.spec.vocabSize;
    const prefix = m.tokenizer.encode('Q: the cat and the dog\nA: (B)\n');
    const prompts = ['Q: is it', 'Q: the answer is (', 'Q: a', ''].map((s) => m.tokenizer.encode(s));
    const cands = m.tokenizer.encode(' A B C D').filter((_, i) => i % 1 === 0).slice(0, 4);
    const got = await m.nextTokenLogProbs({ prefix, prompts, candidates: cands });
    expect(got.length).toBe(4);
    const full = await m.logits(prompts.map((p) => [...prefix, ...p]));
    let worst = 0;
    prompts.forEach((p, i) => {
      const n = prefix.length + p.length;
      const want = logSoftmaxAt(full[i].subarray((n - 1) * V, n * V), cands);
      for (let c = 0; c < cands.length; c++) worst = Math.max(worst, Math.abs(got[i][c] - want[c]));
    });
    console.log(`prefix-cache vs full: max |Δ log p| = ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-5);

    // No prefix gives the same as the prefix in every prompt.
    const flat = await m.nextTokenLogProbs({ prompts: prompts.map((p) => [...prefix, ...p]), candidates: cands });
    for (let i = 0; i < 4; i++) for (let c = 0; c < cands.length; c++) expect(Math.abs(flat[i][c] - got[i][c])).toBeLessThan(1e-5);

    // Continuation log-probs = sums of next-token log-probs from the full logits.
    const conts = [m.tokenizer.encode(' yes'), m.tokenizer.encode(' no it is not')];
    const cl = await m.continuationLogProbs({ prompts: prompts.slice(0, 2), continuations: conts });
    const fullC = await m.logits(prompts.slice(0, 2).map((p, i) => [...p, ...conts[i]]));
    for (let i = 0; i < 2; i++) {
      let want = 0;
      const p = prompts[i].length;
      for (let k = 0; k < conts[i].length; k++) want += logSoftmaxAt(fullC[i].subarray((p + k - 1) * V, (p + k) * V), [conts[i][k]])[0];
      expect(Math.abs(cl[i] - want)).toBeLessThan(1e-4);
    }

    // An untrained adapter (B = 0) reproduces the base exactly; a perturbed one does not.
    const config = { rank: 4, alpha: 8, dropout: 0, targets: ['q', 'v', 'down'] as const };
    const tensors = initLora(m.spec, { rank: 4, targets: [...config.targets] }, 7);
    const ref = await m.loadAdapter({ config: { ...config, targets: [...config.targets] }, tensors, step: 0 });
    const withA = await m.nextTokenLogProbs({ prefix, prompts, candidates: cands, adapter: ref });
    for (let i = 0; i < 4; i++) expect(Array.from(withA[i])).toEqual(Array.from(got[i]));
    const bumped = Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k, k.includes('lora_B') ? v.map(() => 0.05) : v]));
    const ref2 = await m.loadAdapter({ config: { ...config, targets: [...config.targets] }, tensors: bumped, step: 0 });
    const withB = await m.nextTokenLogProbs({ prefix, prompts, candidates: cands, adapter: ref2 });
    expect(Math.abs(withB[0][0] - got[0][0])).toBeGreaterThan(1e-4);
    // Scoring again allocates nothing (plans and heads are reused), also after a prefix of another length.
    const shorter = prefix.slice(3);
    await m.nextTokenLogProbs({ prefix: shorter, prompts, candidates: cands });
    const before = m.counters.allocations;
    await m.nextTokenLogProbs({ prefix, prompts, candidates: cands, adapter: ref2 });
    const again = await m.nextTokenLogProbs({ prefix: shorter, prompts, candidates: cands });
    await m.nextTokenLogProbs({ prefix, prompts, candidates: cands });
    expect(m.counters.allocations).toBe(before);
    const fullShort = await m.logits([[...shorter, ...prompts[1]]]);
    const n1 = shorter.length + prompts[1].length;
    const want1 = logSoftmaxAt(fullShort[0].subarray((n1 - 1) * V, n1 * V), cands);
    for (let c = 0; c < cands.length; c++) expect(Math.abs(again[1][c] - want1[c])).toBeLessThan(1e-5);
    // A model keeps at most maxPlans plans (least recently used released).
    expect(m.core.planCount).toBeLessThanOrEqual(12);
    m.dispose();
  });
});
