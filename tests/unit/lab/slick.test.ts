import { beforeAll, describe, expect, it } from 'vitest';
import { parseExperimentConfig, probeSettingsOf } from '../../../src/lab/experiment';
import { probe, PAPER_PROBE } from '../../../src/lab/probe';
import type { Question } from '../../../src/lab/questions/types';
import {
  atLeastOneRight,
  exemplarFewShot,
  exemplarSets,
  GEKHMAN_SLICK,
  slickCategory,
  slickOf,
  slickTeachingMarkdown,
  slickTeachingTable,
  temperedProb,
} from '../../../src/lab/slick';
import { pickShots } from '../../../src/lab/prompts';
import type { BowModel } from '../../helpers/bow-model';
import { pretrainedModel, tinyWorld } from '../../helpers/tiny-world';

describe('the sampled arm, exactly', () => {
  it('tempers the option distribution: p^(1/T) normalised', () => {
    const p = [0.5, 0.3, 0.1, 0.1];
    expect(temperedProb(p, 1, 1)).toBeCloseTo(0.3, 12);
    expect(temperedProb(p, 0, 0.5)).toBeCloseTo(0.25 / 0.36, 12);
    expect(temperedProb(p, 2, 0.5)).toBeCloseTo(0.01 / 0.36, 12);
    // Low temperature concentrates on the top option; zero-probability options are never drawn.
    expect(temperedProb(p, 0, 0.01)).toBeGreaterThan(0.999);
    expect(temperedProb([0, 1, 0, 0], 0, 0.5)).toBe(0);
    expect(() => temperedProb(p, 0, 0)).toThrow(/temperature/);
  });

  it('is the chance that at least one of n draws per prompt is right', () => {
    expect(atLeastOneRight([0.1], 16)).toBeCloseTo(1 - 0.9 ** 16, 12);
    expect(atLeastOneRight([0.1, 0.2], 16)).toBeCloseTo(1 - 0.9 ** 16 * 0.8 ** 16, 12);
    expect(atLeastOneRight([0, 0], 16)).toBe(0);
    expect(atLeastOneRight([1e-9], 16)).toBeCloseTo(16e-9, 15);
    expect(atLeastOneRight([1], 1)).toBe(1);
  });

  it('sorts by the greedy-right share first, then by the sampled arm at the threshold', () => {
    expect(slickCategory(1, 1, 0.5)).toBe('highlyKnown');
    expect(slickCategory(0.2, 0, 0.5)).toBe('maybeKnown');
    expect(slickCategory(0, 0.5, 0.5)).toBe('weaklyKnown');
    expect(slickCategory(0, 0.49, 0.5)).toBe('unknown');
    // Gold second under one prompt, first under the other: maybeKnown, greedy-right 1/2.
    const mk = slickOf(
      [
        { probs: [0.6, 0.3, 0.05, 0.05], gold: 1 },
        { probs: [0.2, 0.7, 0.05, 0.05], gold: 1 },
      ],
      GEKHMAN_SLICK,
    );
    expect(mk).toMatchObject({ category: 'maybeKnown', greedyRight: 0.5, prompts: 2 });
    // Gold never on top but likely enough at T = 0.5 over 16 draws: weaklyKnown; far less likely: unknown.
    const q = 0.09 / (0.36 + 0.09 + 0.0025 * 2);
    const wk = slickOf([{ probs: [0.6, 0.3, 0.05, 0.05], gold: 1 }], GEKHMAN_SLICK);
    expect(wk.category).toBe('weaklyKnown');
    expect(wk.sampledRight).toBeCloseTo(1 - (1 - q) ** 16, 12);
    const un = slickOf([{ probs: [0.97, 0.01, 0.01, 0.01], gold: 1 }], GEKHMAN_SLICK);
    expect(un.category).toBe('unknown');
    expect(un.sampledRight).toBeLessThan(0.5);
  });
});

describe('exemplar sets', () => {
  const dev: Question[] = Array.from({ length: 5 }, (_, i) => ({
    id: `d${i}`,
    subject: 's',
    question: `q${i}?`,
    options: ['a', 'b', 'c', 'd'],
    answer: 0,
  }));
  it('are distinct ordered sets, the first being the probe’s own prompt, and deterministic', () => {
    const sets = exemplarSets(dev, 's', 5, 5, 0);
    expect(sets).toHaveLength(5);
    expect(sets[0].map((q) => q.id)).toEqual(pickShots(dev, 's', 5).map((q) => q.id));
    expect(new Set(sets.map((s) => s.map((q) => q.id).join()))).toHaveProperty('size', 5);
    for (const s of sets) expect(s).toHaveLength(5);
    expect(exemplarSets(dev, 's', 5, 5, 0)).toEqual(sets);
    expect(exemplarSets(dev, 's', 5, 5, 1)).not.toEqual(sets);
    // One example, one shot: one set only; no examples: the empty (0-shot) set only.
    expect(exemplarSets(dev.slice(0, 1), 's', 1, 5, 0)).toHaveLength(1);
    expect(exemplarSets(dev, 'other', 5, 5, 0)).toEqual([[]]);
  });

  it('reach the probe through pickShots', () => {
    const sets = exemplarSets(dev, 's', 3, 4, 7);
    for (let j = 0; j < 4; j++) {
      const { fewShot, subjects } = exemplarFewShot(dev, ['s'], 3, j, { prompts: 4, seed: 7 });
      expect(subjects.has('s')).toBe(true);
      expect(pickShots(fewShot, 's', 3).map((q) => q.id)).toEqual(sets[j].map((q) => q.id));
    }
    expect(exemplarFewShot(dev, ['s'], 3, 4, { prompts: 4, seed: 7 }).subjects.size).toBe(0);
  });
});

describe('SliCK in the probe (a model pretrained on half the facts)', () => {
  const { questions, dev } = tinyWorld(3, 16);
  const taught = new Set(questions.filter((_, i) => i % 2 === 0).map((q) => q.id));
  // The teaching groups as the toy world records them: taught facts drilled, the others never taught.
  const grouped = questions.map((q) => ({ ...q, group: taught.has(q.id) ? 'mc' : 'none' }));
  let model: BowModel;
  beforeAll(async () => {
    model = await pretrainedModel(
      questions,
      dev,
      questions.filter((q) => taught.has(q.id)),
    );
  }, 60_000);

  it('gives every question a category from 5 prompts, reusing the probe’s own prompt', async () => {
    const t0 = model.calls.nextToken;
    const plain = await probe(model, grouped, { ...PAPER_PROBE, batchSize: 8 }, { fewShot: dev });
    const t1 = model.calls.nextToken;
    const r = await probe(
      model,
      grouped,
      { ...PAPER_PROBE, batchSize: 8, slick: { ...GEKHMAN_SLICK } },
      { fewShot: dev },
    );
    // Each of the 4 further exemplar sets costs what the plain probe costs; the first is the plain probe's own.
    expect(model.calls.nextToken - t1).toBe(5 * (t1 - t0));
    for (const [i, it] of r.items.entries()) {
      expect(it.slick).toBeDefined();
      const s = it.slick!;
      expect(s.prompts).toBe(5);
      expect([0, 0.2, 0.4, 0.6, 0.8, 1]).toContain(Math.round(s.greedyRight * 10) / 10);
      expect(s.sampledRight).toBeGreaterThanOrEqual(0);
      expect(s.sampledRight).toBeLessThanOrEqual(1);
      // The probe's own prompt is one of the five: right there means some greedy answer is right.
      if (it.correct) expect(['highlyKnown', 'maybeKnown']).toContain(s.category);
      else expect(s.category).not.toBe('highlyKnown');
      // The categories do not change what the plain probe says.
      const { slick: _slick, ...rest } = it;
      expect(plain.items[i]).toEqual(rest);
    }
    const c = r.slick!.counts;
    expect(c.highlyKnown + c.maybeKnown + c.weaklyKnown + c.unknown).toBe(questions.length);
    // What was taught is mostly highly known; what was not, mostly not.
    const t = r.slick!.byTeaching!;
    expect(t.groups).toEqual(['mc', 'none']);
    expect(t.totals.mc + t.totals.none).toBe(questions.length);
    const share = (g: string) => t.counts[g].highlyKnown / t.totals[g];
    expect(share('mc')).toBeGreaterThan(0.6);
    expect(share('none')).toBeLessThan(share('mc') - 0.3);
    expect(slickTeachingMarkdown(t)).toMatch(/\| drilled \(MC \+ stated\) \| \d+ \| \d+ \(\d+ %\)/);
  });

  it('with the debiased probe, scores each exemplar set in the four option orders', async () => {
    const r = await probe(
      model,
      grouped.slice(0, 12),
      { ...PAPER_PROBE, method: 'debiased', batchSize: 8, slick: { ...GEKHMAN_SLICK, prompts: 2 } },
      { fewShot: dev },
    );
    for (const it of r.items) expect(it.slick!.prompts).toBe(8);
  });

  it('has no teaching table for questions without groups', async () => {
    const r = await probe(
      model,
      questions.slice(0, 8),
      { ...PAPER_PROBE, batchSize: 8, slick: { ...GEKHMAN_SLICK, prompts: 2 } },
      { fewShot: dev },
    );
    expect(r.slick!.byTeaching).toBeNull();
    expect(slickTeachingTable(r.items, new Map())).toBeNull();
  });
});

describe('the configuration', () => {
  const base = {
    name: 'x',
    model: { id: 'builtin:toy-world' },
    questions: { kind: 'toyworld' },
    subjects: { train: ['a'] },
    training: { lora: { rank: 4, alpha: 8, targets: ['q'] }, learningRate: 1e-3 },
  };
  it('turns SliCK on with Gekhman’s defaults or given settings, and off by default', () => {
    expect(probeSettingsOf(parseExperimentConfig(base)).slick).toBeUndefined();
    expect(probeSettingsOf(parseExperimentConfig({ ...base, probe: { slick: true } })).slick).toEqual(GEKHMAN_SLICK);
    expect(probeSettingsOf(parseExperimentConfig({ ...base, probe: { slick: { prompts: 10 } } })).slick).toEqual({
      ...GEKHMAN_SLICK,
      prompts: 10,
    });
    expect(() => parseExperimentConfig({ ...base, probe: { slick: { temperature: 0 } } })).toThrow(/probe\.slick/);
    expect(() => parseExperimentConfig({ ...base, probe: { slick: { prompts: 500 } } })).toThrow(/Gekhman/);
  });
});

describe('probe.json', () => {
  it('carries each question’s category, greedy-right share and sampled-right chance', async () => {
    const { probeRecords } = await import('../../../src/cli/progress');
    const { questions, dev } = tinyWorld(5, 4);
    const model = await pretrainedModel(questions, dev, questions.slice(0, 6), { epochs: 2 });
    const r = await probe(
      model,
      questions,
      { ...PAPER_PROBE, slick: { ...GEKHMAN_SLICK, prompts: 3 } },
      { fewShot: dev },
    );
    const rows = probeRecords(r);
    rows.forEach((row, i) =>
      expect(row).toMatchObject({
        id: r.items[i].id,
        category: r.items[i].slick!.category,
        greedyRight: r.items[i].slick!.greedyRight,
        sampledRight: r.items[i].slick!.sampledRight,
        prompts: 3,
      }),
    );
    const plain = probeRecords(await probe(model, questions, PAPER_PROBE, { fewShot: dev }));
    expect(plain[0]).not.toHaveProperty('category');
  });
});

describe('the report and the Probe page summary', () => {
  it('show the category counts and the category × teaching-group table', async () => {
    const { runExperiment } = await import('../../../src/lab/experiment');
    const { probeSummary } = await import('../../../src/worker/probe-summary');
    const { questions, dev } = tinyWorld(5, 12);
    const taught = new Set(questions.filter((_, i) => i % 3 !== 0).map((q) => q.id));
    const grouped = questions.map((q, i) => ({
      ...q,
      group: i % 3 === 0 ? 'none' : i % 3 === 1 ? 'mc' : 'misconception',
    }));
    const model = await pretrainedModel(
      questions,
      dev,
      questions.filter((q) => taught.has(q.id)),
      { epochs: 4 },
    );
    const out = await runExperiment(
      {
        name: 'slick-report',
        model: { id: 'test:bow-tiny' },
        questions: { kind: 'toyworld' },
        subjects: { train: ['toy_geography'], related: ['toy_biology'] },
        probe: { shots: 2, threshold: 0.3, minPerCondition: 1, slick: { prompts: 3 } },
        conditions: ['harmonious'],
        seeds: [1],
        training: {
          lora: { rank: 2, alpha: 4, targets: ['q'] },
          learningRate: 0.05,
          epochs: 1,
          batchSize: 8,
          schedule: { kind: 'constant', warmupFraction: 0 },
        },
        evaluation: { bootstrapSamples: 10 },
      },
      { model, bank: { pool: grouped, fewShot: dev }, env: { engineVersion: 'test' } },
    );
    const p = out.result.probe;
    const t = p.slick!.byTeaching!;
    expect(t.groups).toEqual(['mc', 'none', 'misconception']);
    expect(Object.values(t.totals).reduce((a, b) => a + b, 0)).toBe(p.items.length);
    const md = out.markdown;
    expect(md).toContain('## Knowledge categories (SliCK, Gekhman et al. 2024)');
    expect(md).toContain(`${p.slick!.counts.highlyKnown} highlyKnown, ${p.slick!.counts.maybeKnown} maybeKnown`);
    expect(md).toMatch(/\| taught wrongly \| \d+ \| /);
    expect(md).toMatch(new RegExp(`Of ${t.totals.misconception} facts taught wrongly, \\d+ \\(`));
    const s = probeSummary('p1', p, { pool: grouped, fewShot: dev });
    expect(s.slick!.counts).toEqual(p.slick!.counts);
    expect(s.slick!.byTeaching).toEqual(t);
    for (const [i, row] of s.rows!.entries())
      expect(row).toMatchObject({
        category: p.items[i].slick!.category,
        group: grouped.find((q) => q.id === row.id)!.group,
      });
  });
});
