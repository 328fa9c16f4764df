import { describe, expect, it } from 'vitest';
import { analyse, decide, DEFAULT_PRIMARY, DEFAULT_SECONDARY, decisionWords, endpointDifferences, orderingWords, runUnitPartialCorrelation, type SweepPoint } from '../../../src/lab/analysis';
import { partialSpearman } from '../../../src/lab/metrics';
import type { SetScores } from '../../../src/lab/evaluate';
import type { ScoredQuestion } from '../../../src/lab/probe';
import { drawOverlap, overlapFloor } from '../../../src/lab/overlap';
import { buildConditions } from '../../../src/lab/intervene';
import type { ProbeResult } from '../../../src/lab/probe';
import type { Question } from '../../../src/lab/questions/types';

const q = (id: string, correct: boolean, probs: [number, number, number, number] = [0.7, 0.1, 0.1, 0.1]): ScoredQuestion => ({ id, subject: 's', gold: 0, probs, pred: correct ? 0 : 1, confidence: 0.7, correct });
const sets = (n: number, right: (i: number) => boolean): SetScores => ({
  homo: Array.from({ length: n }, (_, i) => q(`h${i}`, right(i))),
  id: Array.from({ length: n }, (_, i) => q(`i${i}`, right(i + 1))),
  ood: Array.from({ length: n }, (_, i) => q(`o${i}`, right(i + 2))),
});

describe('the primary endpoint and the secondary family', () => {
  const base = sets(10, (i) => i % 2 === 0);
  // Harmonious answers 8 of 10 per set, Incompatible 4 of 10, in every seed; the other conditions sit between.
  const scores: Record<string, SetScores> = {
    harmonious: sets(10, (i) => i % 5 !== 0),
    incompatible: sets(10, (i) => i % 5 < 2),
    selfAligning: sets(10, (i) => i % 5 < 3),
    randomWrong: sets(10, (i) => i % 5 < 2),
  };
  const scoresOf = (c: string) => scores[c];
  const baseOf = () => base;

  it('pools the test sets: the differences are concatenated per seed', () => {
    const { d, seeds } = endpointDifferences(DEFAULT_PRIMARY, scoresOf, base, [1, 2]);
    expect(seeds).toEqual([1, 2]);
    expect(d[0].length).toBe(30);
    expect(d[0].reduce((a, b) => a + b, 0) / 30).toBeCloseTo(0.4, 12);
  });

  it('with 3 seeds says "cannot reach α" and decides nothing, however clear the effect', () => {
    const a = analyse({ primary: DEFAULT_PRIMARY, secondary: DEFAULT_SECONDARY, alpha: 0.05, status: 'confirmatory' }, scoresOf, baseOf, [1, 2, 3], { samples: 2000 });
    expect(a.primary.mean).toBeCloseTo(0.4, 12);
    expect(a.primary.p).toBe(0.25);
    expect(a.primary.decision).toBe('cannot reach α');
    expect(decisionWords(a.primary, 0.05, 'confirmatory')).toMatch(/cannot reach α = 0.05 with 3 seeds \(the smallest possible p is 0.250\)/);
    expect(a.secondary.every((s) => s.decision === 'cannot reach α' || s.decision === 'not measured')).toBe(true);
    expect(a.seedsNeeded).toBe(6);
  });

  it('with 6 seeds decides the primary at α and Holm-adjusts the secondary family', () => {
    const six = [1, 2, 3, 4, 5, 6];
    const a = analyse({ primary: DEFAULT_PRIMARY, secondary: DEFAULT_SECONDARY, alpha: 0.05, status: 'confirmatory' }, scoresOf, baseOf, six, { samples: 2000 });
    expect(a.primary.p).toBeCloseTo(2 / 64, 12);
    expect(a.primary.decision).toBe('supported');
    const si = a.secondary.find((s) => s.spec.id === 'S − I')!;
    // Raw p 2/64 for each of the five accuracy endpoints that differ; Holm multiplies the smallest by 6.
    expect(si.p).toBeCloseTo(2 / 64, 12);
    expect(si.pDecision).toBeGreaterThan(0.05);
    expect(si.decision).toBe('not supported');
    // S − R and R − I differ by the same amount: randomWrong equals incompatible here.
    const cGap = a.secondary.find((s) => s.spec.measure === 'consistency')!;
    expect(cGap.mean).toBe(0); // the same distributions: no C gap
    const exploratory = analyse({ primary: DEFAULT_PRIMARY, secondary: [], alpha: 0.05, status: 'exploratory' }, scoresOf, baseOf, six, { samples: 500 });
    expect(decisionWords(exploratory.primary, 0.05, 'exploratory')).toMatch(/^exploratory only: would be supported/);
  });

  it('decide: sign and p, nothing below the floor', () => {
    expect(decide(0.03125, 0.1, 6, 0.05)).toBe('supported');
    expect(decide(0.03125, -0.1, 6, 0.05)).toBe('reversed');
    expect(decide(0.2, 0.1, 6, 0.05)).toBe('not supported');
    expect(decide(0.0625, 0.1, 5, 0.05)).toBe('cannot reach α');
    expect(decide(null, undefined, 0, 0.05)).toBe('not measured');
  });

  it('states a C ordering only from a paired interval, with every seed shown', () => {
    const words = orderingWords(
      [
        { a: 'harmonious', b: 'selfAligning', protocol: 'paper', mean: 0.02, lo: -0.01, hi: 0.05, p: 0.5, perSeed: [0.03, -0.01, 0.04], seeds: 3, n: 300, holds: false, reversed: false },
        { a: 'selfAligning', b: 'incompatible', protocol: 'paper', mean: 0.2, lo: 0.1, hi: 0.3, p: 0.25, perSeed: [0.2, 0.1, 0.3], seeds: 3, n: 300, holds: true, reversed: false },
      ],
      (c) => c[0].toUpperCase(),
    );
    expect(words[0]).toBe('H ≈ S (not ordered: the interval holds 0): C difference +0.020 [−0.010, +0.050]; per seed +0.030, −0.010, +0.040');
    expect(words[1]).toMatch(/^S > I: /);
  });
});

describe('the sweep correlation with the run as the unit', () => {
  // 5 runs × 3 sets; C and accuracy rise together across runs; base accuracy differs by set only.
  const points: SweepPoint[] = [];
  const baseAcc = { homo: 0.5, id: 0.6, ood: 0.7 };
  for (let r = 0; r < 5; r++) for (const set of ['homo', 'id', 'ood'] as const) points.push({ runId: `run${r}`, set, consistency: 0.1 * r + (set === 'id' ? 0.01 : 0), tunedAccuracy: 0.3 + 0.05 * r + baseAcc[set] / 10, baseAccuracy: baseAcc[set] });
  const partial = (x: readonly number[], y: readonly number[], z: readonly number[]) => partialSpearman(x, y, z).r;

  it('computes the paper statistic over the points but takes p from permuting whole runs (exact: 5! orders)', () => {
    const res = runUnitPartialCorrelation(points, partial);
    expect(res.r).toBeCloseTo(partialSpearman(points.map((p) => p.consistency), points.map((p) => p.tunedAccuracy), points.map((p) => p.baseAccuracy)).r, 12);
    expect(res.runs).toBe(5);
    expect(res.points).toBe(15);
    expect(res.exact).toBe(true);
    expect(res.permutations).toBe(120);
    // A perfect ordering of 5 runs: only it and its reverse reach |r| → p = 2/120, far above what 15
    // "independent" points would claim under Student's t.
    expect(res.p).toBeCloseTo(2 / 120, 12);
    const t = partialSpearman(points.map((p) => p.consistency), points.map((p) => p.tunedAccuracy), points.map((p) => p.baseAccuracy));
    expect(t.p!).toBeLessThan(res.p!);
  });

  it('falls back to seeded Monte Carlo beyond 8 runs, and needs 3 runs', () => {
    const many: SweepPoint[] = [];
    for (let r = 0; r < 10; r++) for (const set of ['homo', 'ood']) many.push({ runId: `r${r}`, set, consistency: r, tunedAccuracy: r, baseAccuracy: set === 'homo' ? 0.4 : 0.6 });
    const res = runUnitPartialCorrelation(many, partial, { samples: 2000, seed: 1 });
    expect(res.exact).toBe(false);
    expect(res.p).toBeCloseTo(1 / 2001, 6);
    expect(runUnitPartialCorrelation(points.filter((p) => p.runId < 'run2'), partial).p).toBeNull();
  });
});

describe('independent data per seed', () => {
  it('the overlap floor: disjoint when the pool allows, balanced use otherwise', () => {
    expect(overlapFloor(100, 30, 3)).toBe(0);
    // 40 unknown items, 30 per seed, 3 seeds: 90 uses, 10 items thrice and 30 twice → (10·3 + 30·1) / 3 pairs / 30.
    expect(overlapFloor(40, 30, 3)).toBeCloseTo(60 / 3 / 30, 12);
    expect(drawOverlap([['a', 'b'], ['c', 'd']], 4)).toMatchObject({ meanPairwise: 0, maxPairwise: 0, limitation: null });
  });

  it('spread draws reach the floor that random draws miss, and the report names the limitation', () => {
    const questions: Question[] = Array.from({ length: 40 }, (_, i) => ({ id: `u${String(i).padStart(2, '0')}`, subject: 's', question: `q${i}`, options: ['a', 'b', 'c', 'd'], answer: 0 }) as Question);
    const probe = { items: questions.map((x) => ({ id: x.id, status: 'unknown', gold: 0, pred: 1 })) } as unknown as ProbeResult;
    const draw = (seed: number, block?: { index: number; of: number; poolSeed: number }, size = 30) =>
      buildConditions(probe, questions, { conditions: ['incompatible'], size, seed, ...(block ? { block } : {}) })[0].items.map((i) => i.question.id);
    const seeds = [11, 12, 13, 14, 15, 16];
    const spread = drawOverlap(seeds.map((s, index) => draw(s, { index, of: seeds.length, poolSeed: seeds[0] })), 40)!;
    const random = drawOverlap(seeds.map((s) => draw(s)), 40)!;
    expect(spread.meanPairwise).toBeCloseTo(spread.floor, 12);
    expect(random.meanPairwise).toBeGreaterThan(spread.meanPairwise);
    expect(spread.limitation).toMatch(/6 seeds' draws of 30 items from a pool of 40 share \d+ % of their items on average/);
    // With room in the pool, the spread draws are disjoint.
    const roomy = drawOverlap([0, 1, 2].map((index) => draw(20 + index, { index, of: 3, poolSeed: 20 }, 13)), 40)!;
    expect(roomy.maxPairwise).toBe(0);
  });
});
