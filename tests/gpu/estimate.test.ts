// The estimate before a run on the engine: the device's speed measured on the model's shapes, combined with
// the grid's counted work. Asserts structure and consistency (no timing thresholds: speeds vary by machine).
import { describe, expect, it } from 'vitest';
import { countWork, estimateExperiment, measurePromptTokens, STAGES, workInputs } from '../../src/lab/estimate';
import { parseExperimentConfig } from '../../src/lab/experiment-config';
import { makeSplits } from '../../src/lab/splits';
import { measureSpeed } from '../../src/model/speed';
import { syntheticSubjects } from '../../bench/prefix';
import { fixtureModel } from '../helpers/model';

describe('estimateExperiment', () => {
  it('measures scoring and LoRA-step speed and gives finite, positive seconds per stage', async () => {
    const m = await fixtureModel('tiny-llama', 'f32');
    const { dev, test } = syntheticSubjects(['geography', 'astronomy', 'virology'], 12);
    const config = parseExperimentConfig({
      name: 'estimate', model: { id: 'tiny' }, questions: { kind: 'toyworld' },
      subjects: { train: ['geography'], related: ['astronomy'] }, probe: { shots: 2, batchSize: 8 },
      conditions: ['harmonious', 'incompatible'], seeds: [1], size: 4, protocols: ['paper'],
      training: { lora: { rank: 2, alpha: 4, targets: ['q', 'v'] }, learningRate: 1e-3, epochs: 1, batchSize: 2, maxSeqLen: 64 },
    });
    const e = await estimateExperiment(m, config, { pool: test, fewShot: dev }, (shapes) => measureSpeed(m, shapes));
    console.log(JSON.stringify({ speed: e.speed, seconds: e.seconds, total: e.totalSeconds }));
    expect(e.speed.forwardTokensPerSecond).toBeGreaterThan(0);
    expect(e.speed.callSeconds).toBeGreaterThanOrEqual(0);
    expect(e.speed.stepSeconds).toBeGreaterThan(0);
    for (const s of STAGES) expect(Number.isFinite(e.seconds[s]) && e.seconds[s] > 0, s).toBe(true);
    // The work is the lab's count on the same splits and tokens.
    const splits = makeSplits(test, { trainSubjects: ['geography'], related: ['astronomy'], homoFraction: 0.3, seed: config.splits.seed, allowEmpty: ['id', 'ood'] });
    expect(e.work).toEqual(countWork(workInputs(config, splits, measurePromptTokens(m.tokenizer, splits, dev, 2))));
    // 2 runs × 4 items, batch 2, 1 epoch: 4 steps.
    expect(e.work.training.steps).toBe(4);
    m.dispose();
  });
});
