import { beforeAll, describe, expect, it } from 'vitest';
import {
  parseExperimentConfig,
  probeSettingsOf,
  runExperiment,
  type ExperimentOutput,
} from '../../../src/lab/experiment';
import type { Question } from '../../../src/lab/questions/types';
import { GEKHMAN_SLICK, type SlickCategory } from '../../../src/lab/slick';
import {
  buildShareSets,
  earlyStopEpoch,
  largestShareSize,
  shareContrasts,
  splitDev,
  type ShareRun,
} from '../../../src/lab/unknown-share';
import type { BowModel } from '../../helpers/bow-model';
import { pretrainedModel, tinyWorld } from '../../helpers/tiny-world';

const q = (i: number): Question => ({
  id: `q${i}`,
  subject: 's',
  question: `Q${i}?`,
  options: ['a', 'b', 'c', 'd'],
  answer: (i % 4) as Question['answer'],
});

describe('the Unknown-share data', () => {
  const pool = Array.from({ length: 40 }, (_, i) => q(i));
  // 12 unknown, 10 highlyKnown, 10 maybeKnown, 8 weaklyKnown.
  const cat = (i: number): SlickCategory =>
    i < 12 ? 'unknown' : i < 22 ? 'highlyKnown' : i < 32 ? 'maybeKnown' : 'weaklyKnown';
  const categoryOf = new Map(pool.map((x, i) => [x.id, cat(i)]));

  it('holds out a seeded development set, disjoint from the candidates', () => {
    const { dev, candidates } = splitDev(pool, 0.1, 42);
    expect(dev).toHaveLength(4);
    expect(candidates).toHaveLength(36);
    expect(dev.some((d) => candidates.includes(d))).toBe(false);
    expect(splitDev(pool, 0.1, 42).dev).toEqual(dev);
    expect(splitDev(pool, 0.1, 43).dev).not.toEqual(dev);
    expect(splitDev(pool.slice(0, 3), 0.1, 1).dev).toHaveLength(1);
  });

  it('draws one size for every share, nested, the rest from the configured categories, gold answers', () => {
    const shares = [0, 0.25, 0.5, 0.75, 1];
    expect(largestShareSize(shares, 12, 20)).toBe(12);
    expect(largestShareSize([0, 0.5], 3, 100)).toBe(6);
    expect(largestShareSize([0.5], 0, 10)).toBe(0);
    const sets = buildShareSets(pool, categoryOf, { shares, rest: ['highlyKnown', 'maybeKnown'] }, 7);
    expect(sets.map((s) => s.items.length)).toEqual([12, 12, 12, 12, 12]);
    expect(sets.map((s) => s.unknown)).toEqual([0, 3, 6, 9, 12]);
    for (const s of sets) {
      expect(s.items.filter((i) => i.category === 'unknown')).toHaveLength(s.unknown);
      for (const it of s.items) {
        expect(it.category).toBe(categoryOf.get(it.question.id));
        expect(it.category).not.toBe('weaklyKnown');
      }
    }
    const ids = (k: number, c: 'unknown' | 'rest') =>
      sets[k].items.filter((i) => (c === 'unknown') === (i.category === 'unknown')).map((i) => i.question.id);
    // Nested: a larger share keeps the smaller share's unknown items; a smaller share keeps the larger's known items.
    for (let k = 1; k < 5; k++) {
      expect(ids(k, 'unknown').slice(0, ids(k - 1, 'unknown').length)).toEqual(ids(k - 1, 'unknown'));
      expect(ids(k - 1, 'rest').slice(0, ids(k, 'rest').length)).toEqual(ids(k, 'rest'));
    }
    expect(() => buildShareSets(pool, categoryOf, { shares, size: 13, rest: ['highlyKnown'] }, 7)).toThrow(
      /largest possible is 10/,
    );
    const onlyMaybe = buildShareSets(pool, categoryOf, { shares: [0], size: 10, rest: ['maybeKnown'] }, 7);
    expect(new Set(onlyMaybe[0].items.map((i) => i.category))).toEqual(new Set(['maybeKnown']));
  });

  it('stops early at the best development accuracy, the earliest on a tie', () => {
    expect(earlyStopEpoch([0.2, 0.5, 0.5, 0.4])).toBe(2);
    expect(earlyStopEpoch([0.9, 0.5])).toBe(1);
    expect(earlyStopEpoch([0.1])).toBe(1);
  });

  it('contrasts shares paired by seed and question, early and last, overall and per category', () => {
    const cats: SlickCategory[] = ['highlyKnown', 'highlyKnown', 'unknown', 'unknown'];
    const run = (share: number, seed: number, early: number[], last: number[]): ShareRun =>
      ({
        runId: `unknown-${share}-s${seed}`,
        share,
        seed,
        correct: { early: { homo: early }, last: { homo: last } },
      }) as unknown as ShareRun;
    const runs = [1, 2, 3, 4].flatMap((seed) => [
      run(0, seed, [1, 1, 0, 0], [1, 1, 0, 0]),
      run(1, seed, [1, 1, 0, 0], [0, 1, 0, 0]),
    ]);
    const cs = shareContrasts([0, 1], runs, { homo: cats }, [1, 2, 3, 4], { samples: 200 });
    const find = (stop: string, group: string, a = 'unknown-1', b = 'unknown-0') =>
      cs.find((c) => c.stop === stop && c.group === group && c.a === a && c.b === b)!;
    expect(find('early', 'overall').mean).toBe(0);
    expect(find('last', 'overall').mean).toBeCloseTo(-0.25, 12);
    expect(find('last', 'highlyKnown').mean).toBeCloseTo(-0.5, 12);
    expect(find('last', 'highlyKnown').seeds).toBe(4);
    expect(find('last', 'unknown').mean).toBe(0);
    // Early stop − last within the 100 % share: early stopping kept what the last epoch lost.
    expect(find('early-last', 'overall', 'unknown-1', 'unknown-1').mean).toBeCloseTo(0.25, 12);
    expect(find('early-last', 'overall', 'unknown-1', 'unknown-1').p).toBeCloseTo(0.125, 12);
  });
});

describe('the Unknown-share design in the runner (bag-of-words model, tiny world)', () => {
  const { questions, dev } = tinyWorld(5, 24);
  // A third taught right, a third taught wrongly (confidently wrong: SliCK unknown), a third never taught.
  const right = questions.filter((_, i) => i % 3 === 0);
  const wrong = questions
    .filter((_, i) => i % 3 === 1)
    .map((x) => ({ ...x, answer: ((x.answer + 1) % 4) as Question['answer'] }));
  const config = {
    name: 'share',
    model: { id: 'test:bow-tiny' },
    questions: { kind: 'toyworld' },
    subjects: { train: ['toy_geography'], related: ['toy_biology'] },
    splits: { homoFraction: 0.25 },
    probe: { shots: 2, threshold: 0.3, minPerCondition: 1 },
    unknownShare: { shares: [0, 0.5, 1], devFraction: 0.15 },
    seeds: [1, 2],
    training: {
      lora: { rank: 2, alpha: 4, targets: ['q'] },
      learningRate: 0.05,
      epochs: 3,
      batchSize: 4,
      schedule: { kind: 'constant', warmupFraction: 0 },
    },
    evaluation: { bootstrapSamples: 50 },
  };
  let model: BowModel;
  let out: ExperimentOutput;
  beforeAll(async () => {
    model = await pretrainedModel(questions, dev, [...right, ...wrong]);
    out = await runExperiment(config, {
      model,
      bank: { pool: questions, fewShot: dev },
      env: { engineVersion: 'test' },
    });
  }, 120_000);

  it('turns on SliCK and records every run and epoch: dev, test by category, fit by category', () => {
    expect(probeSettingsOf(parseExperimentConfig(config)).slick).toEqual(GEKHMAN_SLICK);
    const u = out.result.unknownShare!;
    expect(out.result.runs).toEqual([]);
    expect(u.runs.map((r) => r.runId)).toEqual([
      'unknown-0-s1',
      'unknown-0-s2',
      'unknown-0.5-s1',
      'unknown-0.5-s2',
      'unknown-1-s1',
      'unknown-1-s2',
    ]);
    expect(u.size).toBeGreaterThan(0);
    expect(u.dev.length).toBe(Math.round(0.15 * out.result.splits.counts.train));
    for (const r of u.runs) {
      expect(r.size).toBe(u.size);
      expect(r.unknown).toBe(Math.round(r.share * u.size));
      expect(r.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
      expect(r.earlyStopEpoch).toBe(earlyStopEpoch(r.epochs.map((e) => e.dev)));
      for (const e of r.epochs) {
        expect(e.fit.n).toBe(u.size);
        if (r.share === 1) expect(Object.keys(e.fit.byCategory)).toEqual(['unknown']);
        if (r.share === 0) expect(e.fit.byCategory.unknown).toBeUndefined();
        expect(e.test.homo!.n).toBe(out.result.splits.counts.homo);
        expect(Number.isFinite(e.loss)).toBe(true);
      }
      // The contrasts' correctness is the recorded epochs' accuracy.
      const last = r.correct.last.homo!;
      expect(last.reduce((a, b) => a + b, 0) / last.length).toBeCloseTo(r.epochs.at(-1)!.test.homo!.overall, 12);
      const early = r.correct.early.homo!;
      expect(early.reduce((a, b) => a + b, 0) / early.length).toBeCloseTo(
        r.epochs[r.earlyStopEpoch - 1].test.homo!.overall,
        12,
      );
    }
    expect(u.testCategories.homo).toHaveLength(out.result.splits.counts.homo);
    expect(u.summary.map((s) => s.share)).toEqual([0, 0.5, 1]);
    expect(
      u.contrasts.some(
        (c) =>
          c.a === 'unknown-1' && c.b === 'unknown-0' && c.stop === 'last' && c.group === 'overall' && c.seeds === 2,
      ),
    ).toBe(true);
    expect(out.markdown).toContain('## Does new knowledge make it hallucinate? (Unknown share, Gekhman et al. 2024)');
    expect(out.markdown).toMatch(/\| 50 % \| 2 \| /);
  });

  it('resumes from stored runs without training them again', async () => {
    const { MemoryProgressStore } = await import('../../../src/lab/experiment');
    const progress = new MemoryProgressStore();
    const small = {
      ...config,
      seeds: [1],
      unknownShare: { shares: [0, 1], devFraction: 0.15 },
      training: { ...config.training, epochs: 1 },
    };
    const first = await runExperiment(small, {
      model,
      bank: { pool: questions, fewShot: dev },
      progress,
      env: { engineVersion: 'test' },
    });
    const trains = model.calls.train;
    const again = await runExperiment(small, {
      model,
      bank: { pool: questions, fewShot: dev },
      progress,
      env: { engineVersion: 'test' },
    });
    expect(model.calls.train).toBe(trains);
    expect(again.result.unknownShare!.runs).toEqual(first.result.unknownShare!.runs);
  });
});
