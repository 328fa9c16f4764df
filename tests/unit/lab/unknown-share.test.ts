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
    // The manifest names the design and every run's data.
    expect(out.manifest.hyperparameters.conditions).toEqual([]);
    expect(out.markdown).toContain(`Unknown-share training sets of ${u.size} items`);
    expect(out.markdown).not.toContain('## Training fit');
    expect(out.manifest.hyperparameters.unknownShare!.shares).toEqual([0, 0.5, 1]);
    expect(out.manifest.runs.map((r) => r.datasetHash)).toEqual(u.runs.map((r) => r.datasetHash));
  });

  it('becomes a share link: validated, round-tripped, the curves the means over seeds', async () => {
    const { sharedResultOf } = await import('../../../src/worker/result');
    const { decodeShare, encodeShare, roundForShare, validateSharedResult } = await import('../../../src/share');
    const { exampleResult } = await import('../../fixtures/share-example');
    const s = sharedResultOf(out.result, { protocol: 'paper', title: 'unknown share', manifest: exampleResult().manifest });
    expect(s.conditions).toEqual([]);
    expect(s.base.homo.acc).toBeCloseTo(out.result.baseAccuracy.paper.homo!, 12);
    const v = validateSharedResult(s);
    expect(v.ok).toBe(true);
    const u = s.unknownShare!;
    const lab = out.result.unknownShare!;
    expect(u.size).toBe(lab.size);
    expect(u.shares.map((x) => x.share)).toEqual([0, 0.5, 1]);
    for (const sh of u.shares) {
      const runs = lab.runs.filter((r) => r.share === sh.share);
      expect(sh.earlyStop).toEqual(runs.map((r) => r.earlyStopEpoch));
      expect(sh.dev).toHaveLength(3);
      expect(sh.test.homo).toHaveLength(3);
      for (let e = 0; e < 3; e++) expect(sh.test.homo![e]).toBeCloseTo((runs[0].epochs[e].test.homo!.overall + runs[1].epochs[e].test.homo!.overall) / 2, 12);
      const unknownFit = sh.fit.find((f) => f.category === 'unknown');
      if (sh.share === 0) expect(unknownFit).toBeUndefined();
      else expect(unknownFit!.acc).toHaveLength(3);
      expect(sh.byCategory.reduce((a, c) => a + (c.set === 'homo' ? c.n : 0), 0)).toBe(out.result.splits.counts.homo);
    }
    expect(u.contrasts.length).toBe(lab.contrasts.filter((c) => Number.isFinite(c.lo)).length);
    // At the early stop: the mean over seeds of each seed's own early epoch.
    const half = lab.runs.filter((r) => r.share === 0.5);
    const sh = u.shares.find((x) => x.share === 0.5)!;
    expect(sh.early.dev).toBeCloseTo((half[0].epochs[half[0].earlyStopEpoch - 1].dev + half[1].epochs[half[1].earlyStopEpoch - 1].dev) / 2, 12);
    // What the Results page's charts plot.
    const { shareCategoryRows, shareFitRows, shareTestRows } = await import('../../../src/share');
    const fit = shareFitRows(u, 0.5);
    expect(new Set(fit.map((r) => r.category)).has('unknown')).toBe(true);
    expect(fit.filter((r) => r.category === 'unknown').map((r) => r.epoch)).toEqual([1, 2, 3]);
    expect(fit.find((r) => r.category === 'unknown' && r.epoch === 2)!.fit).toBeCloseTo(100 * sh.fit.find((f) => f.category === 'unknown')!.acc[1]!, 9);
    const t = shareTestRows(u, 'homo');
    expect(t.rows).toHaveLength(3 * 3);
    expect(t.stops.map((x) => x.share)).toEqual(['0 % unknown', '50 % unknown', '100 % unknown']);
    for (const st of t.stops) expect(st.acc).toBeCloseTo(t.rows.find((r) => r.share === st.share && r.epoch === st.epoch)!.acc, 9);
    const cats = shareCategoryRows(u, 'homo');
    expect(cats.filter((c) => c.share === '50 % unknown').reduce((a, c) => a + c.n, 0)).toBe(out.result.splits.counts.homo);
    const back = decodeShare(encodeShare(s));
    expect(back.ok && back.result).toEqual(roundForShare(s));
    // Without the design's result, a result needs a condition.
    const bare = validateSharedResult({ ...s, unknownShare: undefined });
    expect(bare.ok).toBe(false);
    expect(!bare.ok && bare.issues.join()).toMatch(/conditions: at least one condition/);
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

describe('the time estimate of the Unknown-share design', () => {
  it('counts the SliCK prompts, shares × seeds runs, and every epoch scoring dev, tests and training items', async () => {
    const { countWork, scoringWork } = await import('../../../src/lab/estimate');
    const tokens = { kshotPrefix: 300, kshotQuestion: 50, chatPrefix: 20, chatQuestion: 60, option: 5, trainExample: 80 };
    const base = {
      conditions: ['harmonious', 'incompatible'] as ('harmonious' | 'incompatible')[],
      ratios: [0],
      seeds: [1, 2],
      protocols: ['paper'] as 'paper'[],
      size: 20,
      probe: { method: 'letter', batchSize: 8 },
      training: { epochs: 3, batchSize: 8, maxSeqLen: 512 },
      evaluation: { batchSize: 8 },
    };
    const split = { train: { a: 30, b: 10 }, homo: { a: 4, b: 4 }, id: { c: 9 }, ood: {} };
    const ren = countWork({ config: base, split, tokens });
    const w = countWork({ config: { ...base, unknownShare: { shares: [0, 0.5, 1], size: 8, rest: ['highlyKnown'], devFraction: 0.1 } }, split, tokens });
    const kshot = { prefix: 300, prompt: 50, option: 5 };
    // The pool: its probe and 4 more exemplar sets; the test questions (17): the same again.
    const pool = scoringWork(split.train, kshot, 'letter', 8);
    const tests = scoringWork({ a: 4, b: 4, c: 9 }, kshot, 'letter', 8);
    expect(w.probe.calls).toBe(5 * pool.calls + 5 * tests.calls);
    expect(w.baseline).toEqual(ren.baseline);
    expect(w.training.runs).toBe(6);
    expect(w.training.steps).toBe(6 * 3 * 1);
    // Each of 6 runs × 3 epochs scores 17 test questions and 4 dev + 8 training items in the chat format.
    const per = scoringWork({ a: 4, b: 4, c: 9, dev: 12 }, { prefix: 20, prompt: 60, option: 5 }, 'letter', 8);
    expect(w.evaluation.calls).toBe(18 * per.calls);
    expect(w.evaluation.promptTokens).toBe(18 * per.promptTokens);
    // Without a size, an upper bound is assumed and said.
    const open = countWork({ config: { ...base, unknownShare: { shares: [0, 1], rest: ['highlyKnown'], devFraction: 0.1 } }, split, tokens });
    expect(open.training.examplesPerRun).toBe(18);
    expect(open.assumptions.join()).toMatch(/18 items/);
    // SliCK alone (Ren's grid) adds its exemplar sets to the probe only.
    const slick = countWork({ config: { ...base, probe: { ...base.probe, slick: true } }, split, tokens });
    expect(slick.probe.calls).toBe(5 * pool.calls);
    expect(slick.training).toEqual(ren.training);
  });
});

describe('the front page’s second experiment (TOY_UNKNOWN_SHARE)', () => {
  it('is examples/toy-world-unknown-share.json with 3 seeds instead of 5, and the one-click’s world, model, split and training', async () => {
    const fs = await import('node:fs');
    const path = await import('node:path');
    const { repoRoot } = await import('../../helpers/paths');
    const { TOY_EXPERIMENT, TOY_UNKNOWN_SHARE } = await import('../../../src/worker/toy-defaults');
    const c = parseExperimentConfig(TOY_UNKNOWN_SHARE);
    const ex = parseExperimentConfig(JSON.parse(fs.readFileSync(path.join(repoRoot, 'examples/toy-world-unknown-share.json'), 'utf8')));
    expect(c.seeds).toEqual([1, 2, 3]);
    expect(ex.seeds).toEqual([1, 2, 3, 4, 5]);
    // The Worker sets the shipped world's seed; the CLI names it (42).
    expect({ ...c, seeds: [], questions: null }).toEqual({ ...ex, seeds: [], questions: null });
    const one = parseExperimentConfig(TOY_EXPERIMENT);
    expect([c.model, c.subjects, c.training, c.probe.method, c.probe.shots]).toEqual([one.model, one.subjects, one.training, one.probe.method, one.probe.shots]);
    expect(c.unknownShare!.shares).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(probeSettingsOf(c).slick).toEqual(GEKHMAN_SLICK);
  });
});
