import { describe, expect, it } from 'vitest';
import type { SetScores } from '../../../src/lab/evaluate';
import type { ScoredQuestion } from '../../../src/lab/probe';
import type { Question } from '../../../src/lab/questions/types';
import { teachingBreakdown } from '../../../src/lab/teaching';

const q = (id: string, group?: string): Question => ({ id, subject: 's', question: id, options: ['a', 'b', 'c', 'd'], answer: 0, ...(group ? { group } : {}) }) as Question;
const scored = (ids: string[], right: boolean[]): ScoredQuestion[] =>
  ids.map((id, i) => ({ id, subject: 's', gold: 0, probs: [0.25, 0.25, 0.25, 0.25], pred: right[i] ? 0 : 1, confidence: 0.25, correct: right[i] }));

describe('the teaching-group breakdown', () => {
  // HOMO: two stated facts and one never taught; OOD: one stated fact and one misconception.
  const tests = { homo: [q('h1', 'statement'), q('h2', 'statement'), q('h3', 'none')], ood: [q('o1', 'statement'), q('o2', 'misconception')] };
  const s = (homo: boolean[], ood: boolean[]): SetScores => ({ homo: scored(['h1', 'h2', 'h3'], homo), ood: scored(['o1', 'o2'], ood) });
  const base = { kshot: s([true, true, false], [true, false]), chat: s([false, true, false], [false, true]) };
  const runs = [
    { condition: 'harmonious', seed: 1, scores: s([true, true, false], [true, false]) },
    { condition: 'harmonious', seed: 2, scores: s([true, false, true], [true, false]) },
    { condition: 'incompatible', seed: 1, scores: s([false, false, false], [false, true]) },
    { condition: 'incompatible', seed: 2, scores: s([true, false, false], [false, true]) },
  ];

  it('counts, accuracies and paired contrasts per group, pooled over the sets, matching hand counts', () => {
    const t = teachingBreakdown(tests, base, runs, [['harmonious', 'incompatible']], [1, 2], { samples: 200 })!;
    expect(t.counts).toEqual({ statement: { homo: 2, ood: 1 }, none: { homo: 1 }, misconception: { ood: 1 } });
    // Most taught first, as the report's columns.
    expect(Object.keys(t.accuracy)).toEqual(['statement', 'none', 'misconception']);
    // Stated facts: H right on 3/3 then 2/3, I on 0/3 then 1/3.
    const want = { 'base (k-shot)': 1, 'base (chat)': 1 / 3, harmonious: 5 / 6, incompatible: 1 / 6 };
    expect(Object.keys(t.accuracy.statement)).toEqual(Object.keys(want));
    for (const [k, v] of Object.entries(want)) expect(t.accuracy.statement[k]).toBeCloseTo(v, 12);
    expect(t.accuracy.misconception).toEqual({ 'base (k-shot)': 0, 'base (chat)': 1, harmonious: 0, incompatible: 1 });
    const st = t.contrasts.find((c) => c.teaching === 'statement')!;
    expect(st.perSeed).toEqual([1, 1 / 3]);
    expect(st.mean).toBeCloseTo(2 / 3, 12);
    expect(st.n).toBe(3);
    const mis = t.contrasts.find((c) => c.teaching === 'misconception')!;
    expect(mis.mean).toBe(-1);
    expect(mis.reversed).toBe(true);
  });

  it('is absent when no question carries a group (every source but the toy world)', () => {
    expect(teachingBreakdown({ homo: [q('h1')] }, base, runs, [['harmonious', 'incompatible']], [1, 2])).toBeNull();
  });
});
