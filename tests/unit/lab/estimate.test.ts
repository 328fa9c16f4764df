// The estimate's work model against counts computed by hand, and its combination with a device speed.
import { describe, expect, it } from 'vitest';
import { countWork, estimateRecord, estimateRun, gridRuns, measurePromptTokens, scoringWork, type DeviceSpeed, type WorkInputs } from '../../../src/lab/estimate';
import { stageClock } from '../../../src/lab/stage-clock';
import type { ExperimentEvent } from '../../../src/lab/experiment';
import { makeFixture } from '../../../src/model/fixtures';
import { createTokenizer } from '../../../src/model/tokenizer';
import { syntheticSubjects } from '../../../bench/prefix';
import { makeSplits } from '../../../src/lab/splits';

const tokens = { kshotPrefix: 300, kshotQuestion: 50, chatPrefix: 20, chatQuestion: 60, option: 5, trainExample: 80 };

function inputs(over: Partial<WorkInputs['config']> = {}): WorkInputs {
  return {
    config: {
      conditions: ['harmonious', 'incompatible', 'mixture'],
      ratios: [0.5, 1],
      seeds: [1, 2],
      protocols: ['paper'],
      size: 20,
      probe: { method: 'letter', batchSize: 8 },
      training: { epochs: 3, batchSize: 8, maxSeqLen: 512 },
      evaluation: { batchSize: 8 },
      ...over,
    },
    split: { train: { a: 10, b: 6 }, homo: { a: 4, b: 4 }, id: { c: 9 }, ood: {} },
    tokens,
  };
}

describe('countWork', () => {
  it('letter probe, paper protocol: calls, prefix and prompt tokens, training steps, by hand', () => {
    const w = countWork(inputs());
    // Probe: subject a 10 questions → 2 calls, b 6 → 1 call; 2 prefixes of 300; 16 questions × 50.
    expect(w.probe).toEqual({ calls: 3, prefixTokens: 600, promptTokens: 800 });
    // Baseline (paper: k-shot): a 4, b 4, c 9 → 1 + 1 + 2 calls; 3 prefixes × 300; 17 × 50.
    expect(w.baseline).toEqual({ calls: 4, prefixTokens: 900, promptTokens: 850 });
    // Runs: (harmonious + incompatible + 2 mixture ratios) × 2 seeds = 8.
    expect(gridRuns(inputs().config)).toBe(8);
    // 20 examples → 3 steps per epoch × 3 epochs × 8 runs = 72; tokens 8 × 3 × 20 × 80 = 38 400; a step 8 × 80.
    expect(w.training).toEqual({ runs: 8, examplesPerRun: 20, steps: 72, tokens: 38400, stepTokens: 640 });
    // Evaluation: every run scores the 17 test questions in chat: 4 calls, 3 prefixes × 20, 17 × 60, × 8 runs.
    expect(w.evaluation).toEqual({ calls: 32, prefixTokens: 480, promptTokens: 8160 });
    expect(w.assumptions).toEqual([]);
  });

  it('debiased ×4 prompts (probe and evaluation), both protocols, general data, size from the training pool', () => {
    const w = countWork(inputs({ probe: { method: 'debiased', batchSize: 8 }, protocols: ['paper', 'like-for-like'], size: undefined, general: { path: 'g', ratio: 1 } }));
    // Probe: a 40 variants → 5 calls, b 24 → 3; prefixes once per subject; 64 × 50 prompt tokens.
    expect(w.probe).toEqual({ calls: 8, prefixTokens: 600, promptTokens: 3200 });
    // Baseline: paper (k-shot) a 16 → 2, b 16 → 2, c 36 → 5 calls; like-for-like (chat) the same calls.
    expect(w.baseline).toEqual({ calls: 18, prefixTokens: 900 + 60, promptTokens: 68 * 50 + 68 * 60 });
    // Size: half of 16 training questions = 8 items + 8 general examples = 16 → 2 steps × 3 epochs × 8 runs.
    expect(w.training).toMatchObject({ examplesPerRun: 16, steps: 48, tokens: 8 * 3 * 16 * 80 });
    expect(w.assumptions[0]).toContain('8 items');
    // Evaluation: 9 calls, 60 prefix tokens, 68 × 60 per model; 8 runs × 2 protocols = 16 models.
    expect(w.evaluation).toEqual({ calls: 144, prefixTokens: 960, promptTokens: 16 * 68 * 60 });
  });

  it('continuation: 4 full prompts per question, no prefix reuse; strict ×4', () => {
    expect(scoringWork({ a: 10 }, { prefix: 300, prompt: 50, option: 5 }, 'continuation', 8)).toEqual({ calls: 2, prefixTokens: 0, promptTokens: 4 * 10 * 355 });
    expect(scoringWork({ a: 10 }, { prefix: 300, prompt: 50, option: 5 }, 'strict', 8, 2)).toEqual({ calls: 10, prefixTokens: 600, promptTokens: 4000 });
  });
});

describe('estimateRun', () => {
  it('seconds per stage = calls × call cost + tokens ÷ rate; training = steps × step time scaled to the step tokens', () => {
    const speed: DeviceSpeed = { forwardTokensPerSecond: 1000, callSeconds: 0.01, stepSeconds: 0.5, stepTokens: 320, measuredSeconds: 2, shapes: 'test' };
    const e = estimateRun(countWork(inputs()), speed);
    expect(e.seconds.probe).toBeCloseTo(3 * 0.01 + 1400 / 1000, 10);
    expect(e.seconds.baseline).toBeCloseTo(4 * 0.01 + 1750 / 1000, 10);
    expect(e.seconds.training).toBeCloseTo(72 * 0.5 * (640 / 320), 10);
    expect(e.seconds.evaluation).toBeCloseTo(32 * 0.01 + 8640 / 1000, 10);
    expect(e.totalSeconds).toBeCloseTo(e.seconds.probe + e.seconds.baseline + e.seconds.training + e.seconds.evaluation, 10);
    const r = estimateRecord(e, '2026-01-01T00:00:00.000Z', '2026-01-01T00:02:00.000Z');
    expect(r.actualSeconds).toBe(120);
    expect(r.ratio).toBeCloseTo(120 / e.totalSeconds, 10);
    expect(estimateRecord(null, '2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z').ratio).toBeNull();
  });
});

describe('measurePromptTokens', () => {
  it('counts the k-shot prefix, question and chat parts with the real tokenizer', () => {
    const fx = makeFixture('tiny-llama');
    const tok = createTokenizer(fx.tokenizerJson, fx.tokenizerConfig, { spec: fx.spec });
    const { dev, test } = syntheticSubjects(['geography', 'astronomy'], 12);
    const splits = makeSplits(test, { trainSubjects: ['geography'], related: [], homoFraction: 0.3, seed: 1, allowEmpty: ['id'] });
    const t = measurePromptTokens(tok, splits, dev, 5);
    // The byte-level fixture tokenizer: a 5-shot prefix is hundreds of tokens, far more than one question.
    expect(t.kshotPrefix).toBeGreaterThan(4 * t.kshotQuestion);
    expect(t.chatPrefix).toBeGreaterThan(10);
    expect(t.trainExample).toBeGreaterThan(t.chatPrefix + t.chatQuestion);
    expect(t.option).toBeGreaterThan(1);
  });
});

describe('stageClock', () => {
  it('probe and baseline by their stage boundaries; training from the runs; evaluation the rest of the runs stage', () => {
    let t = 0;
    const c = stageClock(() => t);
    const stage = (s: string, at: number) => {
      t = at;
      c.onEvent({ type: 'stage', stage: s, message: '' } as ExperimentEvent);
    };
    stage('split', 0);
    stage('probe', 1);
    stage('datasets', 11);
    stage('baseline', 12);
    stage('runs', 20);
    c.onEvent({ type: 'run-done', run: { train: { seconds: 30 } }, index: 0, total: 2 } as unknown as ExperimentEvent);
    c.onEvent({ type: 'run-done', run: { train: { seconds: 25 } }, index: 1, total: 2 } as unknown as ExperimentEvent);
    stage('report', 100);
    expect(c.seconds).toEqual({ probe: 10, baseline: 8, training: 55, evaluation: 25 });
  });
});

describe('the report stage: the bootstrap intervals, counted and timed', () => {
  it('counts the intervals of a committed one-click result within 10 %, and bounds the resampling it did', async () => {
    const { readFileSync } = await import('node:fs');
    const { parseExperimentConfig } = await import('../../../src/lab/experiment-config');
    const dir = 'docs/results/toy-world-oneclick-debiased-e15-cpu-simd';
    const config = parseExperimentConfig(JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')));
    const result = JSON.parse(readFileSync(`${dir}/result.json`, 'utf8'));
    const c = result.splits.counts;
    const work = countWork({ config, split: { train: { t: c.train }, homo: { h: c.homo }, id: { i: c.id }, ood: { o: c.ood } }, tokens });
    // What the run drew: every interval's resamples × questions × (seeds + 1).
    let intervals = 0;
    let units = 0;
    const walk = (x: unknown): void => {
      if (Array.isArray(x)) return x.forEach(walk);
      if (!x || typeof x !== 'object') return;
      const o = x as Record<string, unknown>;
      if (typeof o.samples === 'number' && 'mcLo' in o) {
        intervals++;
        units += o.samples * (o.n as number) * ((o.seeds as number) + 1);
      }
      Object.values(o).forEach(walk);
    };
    walk(result);
    expect(intervals).toBe(154);
    expect(Math.abs(work.report.intervals - intervals) / intervals).toBeLessThan(0.1);
    // An upper bound (each interval may double to the cap), and not a wild one.
    expect(work.report.units).toBeGreaterThanOrEqual(units);
    expect(work.report.units).toBeLessThan(2.5 * units);
  });

  it('is timed once per process and seed count, and scales the report seconds', async () => {
    const { timeBootstrap } = await import('../../../src/lab/estimate');
    const a = timeBootstrap();
    expect(a).toBeGreaterThan(0);
    expect(timeBootstrap()).toBe(a);
    const speed: DeviceSpeed = { forwardTokensPerSecond: 1000, callSeconds: 0, stepSeconds: 0.1, stepTokens: 64, measuredSeconds: 1, shapes: '' };
    const work = countWork(inputs());
    const e = estimateRun(work, speed, a);
    expect(e.seconds.report).toBeCloseTo(work.report.units * a, 12);
    expect(e.totalSeconds).toBeCloseTo(e.seconds.probe + e.seconds.baseline + e.seconds.training + e.seconds.evaluation + e.seconds.report, 9);
  });
});
