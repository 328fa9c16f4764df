import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/lab/errors';
import { checkAgainstPool, parseExperimentConfig } from '../../../src/lab/experiment-config';
import { validateTrainConfig } from '../../../src/lab/train';
import { bowTrainConfig } from '../../helpers/bow-model';

const config = {
  name: 'tiny',
  model: { id: 'test:bow-tiny' },
  questions: { kind: 'toyworld', seed: 5 },
  subjects: { train: ['toy_geography'] },
  training: { lora: { rank: 4, alpha: 8, targets: ['q', 'v'] }, learningRate: 0.05 },
};
const issues = (over: Record<string, unknown>, training: Record<string, unknown> = {}, lora: Record<string, unknown> = {}): string[] => {
  try {
    parseExperimentConfig({ ...config, ...over, training: { ...config.training, ...training, lora: { ...config.training.lora, ...lora } } });
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [...(e as ConfigError).issues];
  }
};

describe('every number in the experiment config has a maximum, and the message says why', () => {
  const cases: [string, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>, RegExp][] = [
    ['epochs 1e9', {}, { epochs: 1e9 }, {}, /^training\.epochs: must be ≤ 100 \(the paper trains 3 epochs/],
    ['rank 1e6', {}, {}, { rank: 1e6 }, /^training\.lora\.rank: must be ≤ 256 \(LoRA ranks above 256/],
    ['alpha Infinity', {}, {}, { alpha: Infinity }, /^training\.lora\.alpha: /],
    ['size 1e12', { size: 1e12 }, {}, {}, /^size: must be ≤ 1,000,000/],
    ['1,000 seeds', { seeds: Array.from({ length: 1000 }, (_, i) => i) }, {}, {}, /^seeds: may hold at most 20 entries \(each seed trains every condition again/],
    ['learning rate 50', {}, { learningRate: 50 }, {}, /^training\.learningRate: must be ≤ 1 /],
    ['batch 1e7', {}, { batchSize: 1e7 }, {}, /^training\.batchSize: must be ≤ 1,024/],
    ['maxSeqLen 1e9', {}, { maxSeqLen: 1e9 }, {}, /^training\.maxSeqLen: must be ≤ 32,768/],
    ['shots 1000', { probe: { shots: 1000 } }, {}, {}, /^probe\.shots: must be ≤ 25 \(the k-shot prefix/],
    ['bootstrap 1e9', { evaluation: { bootstrapSamples: 1e9 } }, {}, {}, /^evaluation\.bootstrapSamples: must be ≤ 100,000/],
    ['caps 1e12', { splits: { caps: { ood: 1e12 } } }, {}, {}, /^splits\.caps\.ood: must be ≤ 1,000,000/],
    ['seed 2^40', { dataSeed: 2 ** 40 }, {}, {}, /^dataSeed: must be ≤ 2,147,483,647 \(seeds are 32-bit/],
    ['a long name', { name: 'x'.repeat(500) }, {}, {}, /^name: may be at most 120 characters/],
    ['60 ratios', { ratios: Array.from({ length: 60 }, (_, i) => i / 60) }, {}, {}, /^ratios: may hold at most 50 entries/],
    ['a repeated condition', { conditions: ['harmonious', 'harmonious'] }, {}, {}, /^conditions: a condition appears twice/],
  ];
  for (const [name, over, training, lora, want] of cases) {
    it(name, () => expect(issues(over, training, lora).join('\n')).toMatch(new RegExp(want.source, 'm')));
  }

  it('the defaults and the shipped bounds themselves pass', () => {
    expect(issues({ seeds: Array.from({ length: 20 }, (_, i) => i), size: 1_000_000 }, { epochs: 100 }, { rank: 256 })).toEqual([]);
  });

  it('size is checked against the pool once the questions are loaded', () => {
    const c = parseExperimentConfig({ ...config, size: 500 });
    expect(() => checkAgainstPool(c, 1000)).not.toThrow();
    expect(() => checkAgainstPool(c, 300)).toThrow(/size: 500 items per condition, but the question pool holds 300 questions/);
    // Caps are ceilings: one above the pool is fine.
    expect(() => checkAgainstPool(parseExperimentConfig({ ...config, splits: { caps: { homo: 900 } } }), 300)).not.toThrow();
  });

  it('the training settings (as the Worker receives them) are bounded too', () => {
    const got = validateTrainConfig(bowTrainConfig({ epochs: 1e9, batchSize: 1e7, learningRate: 5, lora: { rank: 1e6, alpha: Infinity, dropout: 0, targets: ['q'] } }));
    expect(got).toEqual([
      'lora.rank must be ≤ 256 (LoRA ranks above 256 approach full fine-tuning and do not fit in a browser; the paper uses 16) (it is 1000000)',
      'lora.alpha must be a finite number (it is Infinity)',
      'lora.alpha must be ≤ 4,096 (alpha / rank scales the update; beyond 4096 training diverges) (it is Infinity)',
      'learningRate must be ≤ 1 (a LoRA learning rate above 1 diverges at the first step; the paper uses 2e-4) (it is 5)',
      'epochs must be ≤ 100 (the paper trains 3 epochs; beyond 100 a small dataset is memorised long before the end) (it is 1000000000)',
      'batchSize must be ≤ 1,024 (a batch must fit in GPU memory; use 8–64) (it is 10000000)',
    ]);
  });
});
