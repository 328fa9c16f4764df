// LoRA training on the assembled decoder: one step against PyTorch float64 (loss, every LoRA gradient, the
// global norm, clipping and AdamW), then LabModel.train end to end.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AdapterState, LoraTarget, TrainConfig } from '../../src/lab/model';
import { NonFiniteError } from '../../src/engine/errors';
import { IGNORE_INDEX } from '../../src/engine/kernels/cross_entropy/cross_entropy';
import { SafetensorsFile, sourceFromBytes } from '../../src/model/safetensors';
import { packLora, unpackLora } from '../../src/model/transformer';
import { trainer, trainStep } from '../../src/model/train-step';
import { importPeft } from '../../src/model/lora';
import { fixtureModel } from '../helpers/model';

const GOLDEN = join(__dirname, '../fixtures/golden');

interface LoraCase { name: string; targets: LoraTarget[]; rank: number; alpha: number; loss: number; grad_norm: number; clip_max_norm: number; clip_coef: number; tensors: string[]; optimizer: { lr: number; betas: [number, number]; eps: number; weight_decay: number } }

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

describe('one LoRA step vs PyTorch float64 (golden)', () => {
  for (const name of ['tiny-llama', 'tiny-qwen2']) {
    // Twice: the final norm and LM head over all 16 positions, and over the 7 that carry a target, gathered.
    it(`${name}: loss, gradients, grad norm, clipped AdamW step for the qv and all cases, loss rows gathered or not`, async () => {
      const g = JSON.parse(readFileSync(join(GOLDEN, `${name}.json`), 'utf8'));
      const gt = await SafetensorsFile.open(sourceFromBytes(readFileSync(join(GOLDEN, `${name}.safetensors`))));
      const m = await fixtureModel(name, 'f32');
      const core = m.core;
      const ids: number[][] = g.input_ids;
      const [B, S] = [ids.length, ids[0].length];
      const batch = {
        ids: Uint32Array.from(ids.flat()),
        positions: Uint32Array.from({ length: B * S }, (_, i) => i % S),
        targets: Uint32Array.from((g.targets as number[][]).flat().map((y) => (y === g.ignore_index ? IGNORE_INDEX : y))),
      };
      for (const rows of [undefined, 7]) for (const c of g.lora_cases as LoraCase[]) {
        const config = { rank: c.rank, alpha: c.alpha, dropout: 0, targets: c.targets };
        const lora = core.slot(config, true);
        const init: Record<string, Float32Array> = {};
        for (const n of c.tensors) init[n] = await gt.readF32(`${c.name}/init/${n}`);
        core.rt.write(lora.params, packLora(lora.layout, init));
        core.rt.write(lora.m!, new Float32Array(lora.layout.n));
        core.rt.write(lora.v!, new Float32Array(lora.layout.n));
        const { lr, betas, eps, weight_decay } = c.optimizer;
        const t = trainer(core, B, S, lora, { beta1: betas[0], beta2: betas[1], eps, weightDecay: weight_decay, maxGradNorm: c.clip_max_norm }, rows);
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
          for (let i = 0; i < wantG.length; i++) worstG = Math.max(worstG, Math.abs(grads[n][i] - wantG[i]) / scale);
          for (let i = 0; i < wantP.length; i++) worstP = Math.max(worstP, Math.abs(after[n][i] - wantP[i]));
        }
        console.log(`${name} ${c.name}${rows ? ` (${rows} loss rows)` : ''}: loss ${r.loss} (want ${c.loss}), |g| ${r.gradNorm} (want ${c.grad_norm}), coef ${r.clipCoef}, grad max rel err ${worstG.toExponential(2)}, param max abs err ${worstP.toExponential(2)}`);
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

const baseConfig = (over: Partial<TrainConfig> = {}): TrainConfig => ({
  lora: { rank: 4, alpha: 8, dropout: 0, targets: ['q', 'v', 'o', 'down'] },
  learningRate: 2e-2, weightDecay: 0, betas: [0.9, 0.999], eps: 1e-8,
  schedule: { kind: 'constant', warmupFraction: 0 }, epochs: 1, batchSize: 2, maxSeqLen: 32, clipNorm: 1, seed: 1, ...over,
});

describe('LabModel.train', () => {
  // SwiftShader costs ~40 ms a dispatch here, so this test keeps to 10 steps of ~100 dispatches.
  it('reduces the loss on a repeated example with no steady-state allocation; hooks, resume, export; a huge lr → NonFiniteError', async () => {
    const m = await fixtureModel('tiny-llama', 'f32');
    const tok = m.tokenizer;
    const prompt = tok.encode('the cat?\n');
    const answer = tok.encode('the dog<|im_end|>');
    const ex = { ids: [...prompt, ...answer], lossMask: [...prompt.map(() => 0), ...answer.map(() => 1)] };
    expect(ex.ids.length).toBeLessThanOrEqual(16);
    const examples = Array.from({ length: 4 }, () => ex);
    const cfg = baseConfig({ epochs: 2, learningRate: 2e-2, lora: { rank: 4, alpha: 8, dropout: 0.1, targets: ['q', 'v', 'o', 'down'] } });
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
    console.log(`losses ${losses.map((l) => l.toFixed(3)).join(' ')}; dispatches/step ${dispatches[1] - dispatches[0]}`);
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
    const back = await importPeft(m.spec, JSON.parse(new TextDecoder().decode(files['adapter_config.json'])), files['adapter_model.safetensors']);
    const name = Object.keys(full.tensors)[1];
    expect(Array.from(back.tensors[name])).toEqual(Array.from(full.tensors[name]));

    // Stop after the first epoch (signal), then resume from its checkpoint: same result as the full run.
    const ac = new AbortController();
    let mid: AdapterState | undefined;
    const half = await m.train(examples, cfg, { onEpoch: (_e, s) => { mid = s; ac.abort(); }, signal: ac.signal });
    expect(half.step).toBe(2);
    const resumed = await m.train(examples, cfg, { resumeFrom: mid });
    expect(resumed.step).toBe(4);
    let d = 0;
    for (let i = 0; i < full.tensors[name].length; i++) d = Math.max(d, Math.abs(resumed.tensors[name][i] - full.tensors[name][i]));
    expect(d).toBeLessThan(1e-6);

    // A planted huge learning rate ends in NonFiniteError (the second step's loss).
    await expect(m.train(examples, baseConfig({ learningRate: 1e30, clipNorm: 0 }))).rejects.toBeInstanceOf(NonFiniteError);
    m.dispose();
  });
});
