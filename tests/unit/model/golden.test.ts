// The committed golden files (tools/golden/make_golden.py, PyTorch float64) parse, match the fixtures
// regenerated here from the same seed, and agree with a few facts recomputable in TS.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeFixture } from '../../../src/model/fixtures';
import { parseConfig } from '../../../src/model/config';
import { SafetensorsFile, sourceFromBytes } from '../../../src/model/safetensors';
import { loraParamNames } from '../../../src/model/lora';

const DIR = join(__dirname, '../../fixtures/golden');

interface LoraCase {
  name: string; targets: string[]; rank: number; alpha: number; loss: number; grad_norm: number; clip_max_norm: number;
  clip_coef: number; clipped: boolean; optimizer: { lr: number; betas: [number, number]; eps: number; weight_decay: number }; tensors: string[];
}
interface Golden {
  format: string; fixture: string; model_safetensors_sha256: string; config: unknown; input_ids: number[][];
  attention_mask: number[][]; targets: number[][]; ignore_index: number; base_loss: number; lora_cases: LoraCase[];
}

for (const name of ['tiny-llama', 'tiny-llama-untied', 'tiny-qwen2', 'tiny-llama3']) {
  describe(`golden ${name}`, async () => {
    const g: Golden = JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8'));
    const t = await SafetensorsFile.open(sourceFromBytes(readFileSync(join(DIR, `${name}.safetensors`))));
    const fx = makeFixture(name);

    it('was made from the fixture regenerated here (same weights hash, same config)', () => {
      expect(g.format).toBe('ift-lab-golden/1');
      const sha = createHash('sha256').update(fx.files['model.safetensors']).digest('hex');
      expect(sha).toBe(g.model_safetensors_sha256);
      expect(parseConfig(g.config)).toEqual(fx.spec);
    });

    it('holds logits of the right shape whose masked CE is the recorded base loss', async () => {
      const info = t.tensors.get('logits')!;
      const [B, S, V] = info.shape;
      expect([B, S, V]).toEqual([2, 8, fx.spec.vocabSize]);
      const logits = await t.readF32('logits');
      let sum = 0;
      let n = 0;
      for (let b = 0; b < B; b++)
        for (let s = 0; s < S; s++) {
          const y = g.targets[b][s];
          if (y === g.ignore_index) continue;
          const row = logits.subarray((b * S + s) * V, (b * S + s + 1) * V);
          let m = -Infinity;
          for (const x of row) m = Math.max(m, x);
          let z = 0;
          for (const x of row) z += Math.exp(x - m);
          sum += m + Math.log(z) - row[y];
          n++;
        }
      expect(n).toBe(5 + 2);
      expect(sum / n).toBeCloseTo(g.base_loss, 4);
    });

    for (const c of g.lora_cases)
      it(`LoRA case ${c.name}: PEFT names, nonzero gradients, one AdamW step as recorded`, async () => {
        expect(c.tensors).toEqual(loraParamNames(fx.spec, c.targets as never));
        let sq = 0;
        const { lr, betas, eps, weight_decay: wd } = c.optimizer;
        for (const n of c.tensors) {
          const init = await t.readF32(`${c.name}/init/${n}`);
          const grad = await t.readF32(`${c.name}/grad/${n}`);
          const after = await t.readF32(`${c.name}/after/${n}`);
          expect(grad.every((x) => x !== 0)).toBe(true);
          for (let i = 0; i < grad.length; i++) {
            sq += grad[i] ** 2;
            // AdamW step 1: decoupled decay, then m̂ = g, v̂ = g² (bias-corrected).
            const gc = grad[i] * c.clip_coef;
            const m = (1 - betas[0]) * gc / (1 - betas[0]);
            const v = ((1 - betas[1]) * gc * gc) / (1 - betas[1]);
            const want = init[i] * (1 - lr * wd) - (lr * m) / (Math.sqrt(v) + eps);
            expect(Math.abs(after[i] - want)).toBeLessThan(2e-6);
          }
        }
        expect(Math.sqrt(sq)).toBeCloseTo(c.grad_norm, 4);
        expect(c.clipped).toBe(c.grad_norm > c.clip_max_norm);
      });

    it('has one case that clips and one that does not', () => {
      expect(g.lora_cases.map((c) => c.clipped).sort()).toEqual([false, true]);
    });
  });
}
