// The Worker's lab glue without a GPU: question sources (toy world, user file) and the share-ready result.
import { describe, expect, it } from 'vitest';
import { compareScores } from '../../src/lab/evaluate';
import type { ScoredQuestion } from '../../src/lab/probe';
import type { Question } from '../../src/lab/questions/types';
import { validateSharedResult } from '../../src/share/schema';
import { fileBank, toyWorldBank, TOY_SPLIT } from '../../src/worker/bank';
import { questionChanges, sharedResult } from '../../src/worker/result';

const q = (id: string, subject: string, answer: 0 | 1 | 2 | 3 = 0): Question => ({ id, subject, question: `Q ${id}?`, options: ['a', 'b', 'c', 'd'], answer });

describe('question sources', () => {
  it('the toy world: dev questions are the few-shot bank, the rest the pool; extra fields are dropped', () => {
    const w = {
      format: 'ift-lab-toyworld',
      version: 1,
      questions: [
        { ...q('t1', 'toy_continents'), dev: false, group: 'mc', factId: 'f1' },
        { ...q('t2', 'toy_continents'), dev: true, group: 'mc', factId: 'f2' },
      ],
    };
    const b = toyWorldBank(w);
    expect(b.bank.pool.map((x) => x.id)).toEqual(['t1']);
    expect(b.bank.fewShot.map((x) => x.id)).toEqual(['t2']);
    expect(b.bank.pool[0]).toEqual(q('t1', 'toy_continents'));
    expect(b.split).toBe(TOY_SPLIT);
    expect(() => toyWorldBank({ format: 'other', questions: [] })).toThrow(/not a toy world/);
  });

  it('a user file: the first k questions of each subject become its solved examples', async () => {
    const lines = [
      ...[1, 2, 3].map((i) => JSON.stringify({ id: `a${i}`, subject: 'alpha', question: `A${i}?`, options: ['1', '2', '3', '4'], answer: 'A' })),
      ...[1, 2].map((i) => JSON.stringify({ id: `b${i}`, subject: 'beta', question: `B${i}?`, options: ['1', '2', '3', '4'], answer: 'B' })),
    ];
    const b = await fileBank('mine.jsonl', lines.join('\n'), 1);
    expect(b.bank.fewShot.map((x) => x.id)).toEqual(['a1', 'b1']);
    expect(b.bank.pool.map((x) => x.id)).toEqual(['a2', 'a3', 'b2']);
    expect(b.split.trainSubjects).toEqual(['alpha', 'beta']);
    expect(b.split.allowEmpty).toEqual(['id', 'ood']);
  });
});

const scored = (id: string, subject: string, gold: number, pred: number, p: number): ScoredQuestion => {
  const probs = [0, 1, 2, 3].map((i) => (i === pred ? p : (1 - p) / 3)) as [number, number, number, number];
  return { id, subject, gold, probs, pred, confidence: p, correct: pred === gold };
};

describe('the share-ready result', () => {
  const qs = [q('h1', 's'), q('h2', 's', 1), q('h3', 's', 2)];
  const base = [scored('h1', 's', 0, 0, 0.9), scored('h2', 's', 1, 0, 0.6), scored('h3', 's', 2, 3, 0.7)];
  const tuned = [scored('h1', 's', 0, 0, 0.8), scored('h2', 's', 1, 1, 0.5), scored('h3', 's', 2, 1, 0.4)];
  const report = { protocol: 'paper', sets: { homo: compareScores(base, tuned, { samples: 50 }) } };
  const manifest = {
    model: { id: 'm', revision: 'main' },
    engineVersion: 'test',
    device: { description: 'gpu', fallback: false, shaderF16: true },
    seeds: [1],
    hyper: { rank: 4 },
    datasets: [{ name: 'incompatible', hash: 'abc' }],
    protocol: 'paper',
    date: new Date(0).toISOString(),
  };

  it('validates against the share schema, with empty test sets as n = 0 and finite numbers', () => {
    const r = sharedResult({
      title: 'Incompatible on m',
      manifest,
      baseReport: report,
      counts: { known: 3, unknown: 2 },
      runs: [{ datasetId: 'd', condition: 'incompatible', ratio: null, label: 'Incompatible', trainSize: 4, hash: 'abc', report }],
    });
    expect(validateSharedResult(r)).toMatchObject({ ok: true });
    expect(r.base.homo).toMatchObject({ acc: 1 / 3, n: 3 });
    expect(r.conditions[0].homo).toMatchObject({ acc: 2 / 3, n: 3 });
    expect(r.conditions[0].id).toEqual({ acc: 0, lo: 0, hi: 0, n: 0 });
    // Known to the base model: h1 (still right); unknown: h2 (now right), h3 (still wrong).
    expect(r.conditions[0].knownAcc).toBe(1);
    expect(r.conditions[0].unknownAcc).toBe(0.5);
    expect(r.partial).toBeNull();
  });

  it('lists the questions whose answer changed, with the base and tuned letters', () => {
    const ch = questionChanges({ homo: qs }, { homo: base }, { homo: tuned });
    expect(ch.map((c) => [c.question, c.gold, c.base, c.tuned, c.known])).toEqual([
      ['Q h2?', 'B', 'A', 'B', false],
      ['Q h3?', 'C', 'D', 'B', false],
    ]);
  });
});
