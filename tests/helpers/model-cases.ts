// Model tests that hold for every backend: the WebGPU suite (tests/gpu) and the CPU backend's unit tests
// (tests/unit/cpu) run the same cases against the same PyTorch float64 golden values, each with its own model.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AdapterState, LoraTarget, TrainConfig } from '../../src/lab/model';
import { NonFiniteError } from '../../src/engine/errors';
import { IGNORE_INDEX } from '../../src/engine/kernels/cross_entropy/cross_entropy';
import { SafetensorsFile, sourceFromBytes } from '../../src/model/safetensors';
import type { EngineModel, EngineModelOptions } from '../../src/model/engine-model';
import { initLora } from '../../src/model/lora';
import { packLora, unpackLora } from '../../src/model/transformer';
import { trainer, trainStep } from '../../src/model/train-step';
import { importPeft } from '../../src/model/lora';
import { bowTrainConfig } from './bow-model';

/** A fixture model (tests/fixtures/golden names it) in f32 on the backend under test. */
export type MakeModel = (name: string) => Promise<EngineModel>;

const GOLDEN = join(__dirname, '../fixtures/golden');

export async function goldenLogits(name: string) {
  const g = JSON.parse(readFileSync(join(GOLDEN, `${name}.json`), 'utf8'));
  const t = await SafetensorsFile.open(sourceFromBytes(readFileSync(join(GOLDEN, `${name}.safetensors`))));
  return { g, logits: await t.readF32('logits') };
}

/** Max |Δ| over the masked-in positions of the golden batch. */
export async function worstGoldenDiff(model: EngineModel, name: string): Promise<number> {
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

export function goldenForwardCases(backend: string, fixtureModel: MakeModel): void {
  describe(`${backend}: decoder forward vs PyTorch float64 golden logits`, () => {
    // f32 weights and f32 accumulation over D = 64 and two layers: rounding is ~1e-6 relative on logits of
    // magnitude ~1, so 1e-4 absolute leaves room for accumulation-order differences but catches any real bug
    // (a wrong RoPE branch or mask changes logits by > 1e-2, see tests/unit/model/fixtures.test.ts).
    for (const name of ['tiny-llama', 'tiny-llama-untied', 'tiny-qwen2', 'tiny-llama3']) {
      it(`${name}, f32 weights: |Δlogit| < 1e-4`, async () => {
        const m = await fixtureModel(name);
        const worst = await worstGoldenDiff(m, name);
        console.log(`${backend} ${name} f32 max |Δlogit| = ${worst.toExponential(2)}`);
        expect(worst).toBeLessThan(1e-4);
        m.dispose();
      });
    }
  });
}

interface LoraCase {
  name: string;
  targets: LoraTarget[];
  rank: number;
  alpha: number;
  loss: number;
  grad_norm: number;
  clip_max_norm: number;
  clip_coef: number;
  tensors: string[];
  optimizer: { lr: number; betas: [number, number]; eps: number; weight_decay: number };
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

export function goldenStepCases(backend: string, fixtureModel: MakeModel): void {
  describe(`${backend}: one LoRA step vs PyTorch float64 (golden)`, () => {
    for (const name of ['tiny-llama', 'tiny-qwen2']) {
      // Twice: the final norm and LM head over all 16 positions, and over the 7 that carry a target, gathered.
      it(`${name}: loss, gradients, grad norm, clipped AdamW step for the qv and all cases, loss rows gathered or not`, async () => {
        const g = JSON.parse(readFileSync(join(GOLDEN, `${name}.json`), 'utf8'));
        const gt = await SafetensorsFile.open(sourceFromBytes(readFileSync(join(GOLDEN, `${name}.safetensors`))));
        const m = await fixtureModel(name);
        const core = m.core;
        const ids: number[][] = g.input_ids;
        const [B, S] = [ids.length, ids[0].length];
        const batch = {
          ids: Uint32Array.from(ids.flat()),
          positions: Uint32Array.from({ length: B * S }, (_, i) => i % S),
          targets: Uint32Array.from(
            (g.targets as number[][]).flat().map((y) => (y === g.ignore_index ? IGNORE_INDEX : y)),
          ),
        };
        for (const rows of [undefined, 7])
          for (const c of g.lora_cases as LoraCase[]) {
            const config = { rank: c.rank, alpha: c.alpha, dropout: 0, targets: c.targets };
            const lora = core.slot(config, true);
            const init: Record<string, Float32Array> = {};
            for (const n of c.tensors) init[n] = await gt.readF32(`${c.name}/init/${n}`);
            core.rt.write(lora.params, packLora(lora.layout, init));
            core.rt.write(lora.m!, new Float32Array(lora.layout.n));
            core.rt.write(lora.v!, new Float32Array(lora.layout.n));
            const { lr, betas, eps, weight_decay } = c.optimizer;
            const t = trainer(
              core,
              B,
              S,
              lora,
              { beta1: betas[0], beta2: betas[1], eps, weightDecay: weight_decay, maxGradNorm: c.clip_max_norm },
              rows,
            );
            expect(t.rows?.R).toBe(rows);
            expect(t.ops.filter((op) => op.label.startsWith('gather_rows')).length).toBe(rows ? 2 : 0);
            const r = await trainStep(core, t, batch, lr, 1);
            const grads = unpackLora(lora.layout, await core.rt.readF32(lora.grads!));
            const after = unpackLora(lora.layout, await core.rt.readF32(lora.params));
            let worstG = 0;
            let worstP = 0;
            for (const n of c.tensors) {
              const wantG = await gt.readF32(`${c.name}/grad/${n}`);
              const wantP = await gt.readF32(`${c.name}/after/${n}`);
              const scale = maxAbs(wantG);
              for (let i = 0; i < wantG.length; i++)
                worstG = Math.max(worstG, Math.abs(grads[n][i] - wantG[i]) / scale);
              for (let i = 0; i < wantP.length; i++) worstP = Math.max(worstP, Math.abs(after[n][i] - wantP[i]));
            }
            console.log(
              `${name} ${c.name}${rows ? ` (${rows} loss rows)` : ''}: loss ${r.loss} (want ${c.loss}), |g| ${r.gradNorm} (want ${c.grad_norm}), coef ${r.clipCoef}, grad max rel err ${worstG.toExponential(2)}, param max abs err ${worstP.toExponential(2)}`,
            );
            expect(Math.abs(r.loss - c.loss)).toBeLessThan(1e-5 * Math.max(1, c.loss));
            expect(Math.abs(r.gradNorm - c.grad_norm) / c.grad_norm).toBeLessThan(1e-4);
            expect(Math.abs(r.clipCoef - c.clip_coef)).toBeLessThan(1e-4);
            expect(worstG).toBeLessThan(1e-4);
            expect(worstP).toBeLessThan(1e-5);
          }
        m.dispose();
      });
    }
  });
}

// The bag-of-words model's settings (AdamW without decay, a constant rate), on more targets, for one short epoch.
const baseConfig = (over: Partial<TrainConfig> = {}): TrainConfig =>
  bowTrainConfig({
    lora: { rank: 4, alpha: 8, dropout: 0, targets: ['q', 'v', 'o', 'down'] },
    learningRate: 2e-2,
    epochs: 1,
    batchSize: 2,
    maxSeqLen: 32,
    clipNorm: 1,
    seed: 1,
    ...over,
  });

export function trainCases(backend: string, fixtureModel: MakeModel): void {
  describe(`${backend}: LabModel.train`, () => {
    // SwiftShader costs ~40 ms a dispatch here, so this test keeps to 10 steps of ~100 dispatches.
    it('reduces the loss on a repeated example with no steady-state allocation; hooks, resume, export; a huge lr → NonFiniteError', async () => {
      const m = await fixtureModel('tiny-llama');
      const tok = m.tokenizer;
      const prompt = tok.encode('the cat?\n');
      const answer = tok.encode('the dog<|im_end|>');
      const ex = { ids: [...prompt, ...answer], lossMask: [...prompt.map(() => 0), ...answer.map(() => 1)] };
      expect(ex.ids.length).toBeLessThanOrEqual(16);
      const examples = Array.from({ length: 4 }, () => ex);
      const cfg = baseConfig({
        epochs: 2,
        learningRate: 2e-2,
        lora: { rank: 4, alpha: 8, dropout: 0.1, targets: ['q', 'v', 'o', 'down'] },
      });
      const losses: number[] = [];
      const allocs: number[] = [];
      const dispatches: number[] = [];
      const states: AdapterState[] = [];
      const full = await m.train(examples, cfg, {
        onStep: (e) => {
          losses.push(e.loss);
          allocs.push(m.counters.allocations);
          dispatches.push(m.counters.dispatches);
          expect(e.tokensPerSecond).toBeGreaterThan(0);
          expect(e.totalSteps).toBe(4);
        },
        onEpoch: (_e, s) => void states.push(s),
      });
      console.log(
        `losses ${losses.map((l) => l.toFixed(3)).join(' ')}; dispatches/step ${dispatches[1] - dispatches[0]}`,
      );
      expect(losses.length).toBe(4);
      expect(states.map((s) => s.step)).toEqual([2, 4]);
      expect(states[0].optimizer?.m).toBeDefined();
      expect(full.step).toBe(4);
      expect(losses[3]).toBeLessThan(losses[0] * 0.85);
      expect(allocs[3]).toBe(allocs[0]);

      // The trained adapter scores the answer higher than the base model does.
      const ref = await m.loadAdapter(full);
      const [base] = await m.continuationLogProbs({ prompts: [prompt], continuations: [answer] });
      const [tuned] = await m.continuationLogProbs({ prompts: [prompt], continuations: [answer], adapter: ref });
      expect(tuned).toBeGreaterThan(base);
      // PEFT export round-trips.
      const files = m.exportAdapter(ref);
      const back = await importPeft(
        m.spec,
        JSON.parse(new TextDecoder().decode(files['adapter_config.json'])),
        files['adapter_model.safetensors'],
      );
      const name = Object.keys(full.tensors)[1];
      expect(Array.from(back.tensors[name])).toEqual(Array.from(full.tensors[name]));

      // Stop after the first epoch (signal), then resume from its checkpoint: same result as the full run.
      const ac = new AbortController();
      let mid: AdapterState | undefined;
      const half = await m.train(examples, cfg, {
        onEpoch: (_e, s) => {
          mid = s;
          ac.abort();
        },
        signal: ac.signal,
      });
      expect(half.step).toBe(2);
      const resumed = await m.train(examples, cfg, { resumeFrom: mid });
      expect(resumed.step).toBe(4);
      let d = 0;
      for (let i = 0; i < full.tensors[name].length; i++)
        d = Math.max(d, Math.abs(resumed.tensors[name][i] - full.tensors[name][i]));
      expect(d).toBeLessThan(1e-6);

      // A planted huge learning rate ends in NonFiniteError (the second step's loss).
      await expect(m.train(examples, baseConfig({ learningRate: 1e30, clipNorm: 0 }))).rejects.toBeInstanceOf(
        NonFiniteError,
      );
      m.dispose();
    });
  });
}

function logSoftmaxAt(row: Float32Array, ids: readonly number[]): number[] {
  let m = -Infinity;
  for (const x of row) m = Math.max(m, x);
  let z = 0;
  for (const x of row) z += Math.exp(x - m);
  return ids.map((i) => row[i] - m - Math.log(z));
}

export function scoringCases(
  backend: string,
  fixtureModel: (name: string, opts: EngineModelOptions) => Promise<EngineModel>,
): void {
  describe(`${backend}: LabModel scoring`, () => {
    it('nextTokenLogProbs with a shared prefix = full recomputation; continuations; B=0 adapter = base', async () => {
      const m = await fixtureModel('tiny-llama', { maxBatch: 2 });
      const V = m.spec.vocabSize;
      const prefix = m.tokenizer.encode('Q: the cat and the dog\nA: (B)\n');
      const prompts = ['Q: is it', 'Q: the answer is (', 'Q: a', ''].map((s) => m.tokenizer.encode(s));
      const cands = m.tokenizer
        .encode(' A B C D')
        .filter((_, i) => i % 1 === 0)
        .slice(0, 4);
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
      for (let i = 0; i < 4; i++)
        for (let c = 0; c < cands.length; c++) expect(Math.abs(flat[i][c] - got[i][c])).toBeLessThan(1e-5);

      // Continuation log-probs = sums of next-token log-probs from the full logits.
      const conts = [m.tokenizer.encode(' yes'), m.tokenizer.encode(' no it is not')];
      const cl = await m.continuationLogProbs({ prompts: prompts.slice(0, 2), continuations: conts });
      const fullC = await m.logits(prompts.slice(0, 2).map((p, i) => [...p, ...conts[i]]));
      for (let i = 0; i < 2; i++) {
        let want = 0;
        const p = prompts[i].length;
        for (let k = 0; k < conts[i].length; k++)
          want += logSoftmaxAt(fullC[i].subarray((p + k - 1) * V, (p + k) * V), [conts[i][k]])[0];
        expect(Math.abs(cl[i] - want)).toBeLessThan(1e-4);
      }

      // An untrained adapter (B = 0) reproduces the base exactly; a perturbed one does not.
      const config = { rank: 4, alpha: 8, dropout: 0, targets: ['q', 'v', 'down'] as const };
      const tensors = initLora(m.spec, { rank: 4, targets: [...config.targets] }, 7);
      const ref = await m.loadAdapter({ config: { ...config, targets: [...config.targets] }, tensors, step: 0 });
      const withA = await m.nextTokenLogProbs({ prefix, prompts, candidates: cands, adapter: ref });
      for (let i = 0; i < 4; i++) expect(Array.from(withA[i])).toEqual(Array.from(got[i]));
      const bumped = Object.fromEntries(
        Object.entries(tensors).map(([k, v]) => [k, k.includes('lora_B') ? v.map(() => 0.05) : v]),
      );
      const ref2 = await m.loadAdapter({
        config: { ...config, targets: [...config.targets] },
        tensors: bumped,
        step: 0,
      });
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
}
