// The Worker's lab glue without a GPU: question sources (toy world, user file) and the share-ready result.
import { describe, expect, it } from 'vitest';
import type { ScoredQuestion } from '../../../src/lab/probe';
import type { Question } from '../../../src/lab/questions/types';
import { validateSharedResult } from '../../../src/share/schema';
import { fileBank, toyWorldBank, TOY_SPLIT } from '../../../src/worker/bank';
import { questionChanges, sharedResultOf } from '../../../src/worker/result';
import { runExperiment } from '../../../src/lab/experiment';
import { pretrainedModel, tinyWorld } from '../../helpers/tiny-world';

const q = (id: string, subject: string, answer: 0 | 1 | 2 | 3 = 0): Question => ({ id, subject, question: `Q ${id}?`, options: ['a', 'b', 'c', 'd'], answer });

describe('question sources', () => {
  it('the toy world: dev questions are the few-shot bank, the rest the pool; the teaching group stays, other fields are dropped', () => {
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
    expect(b.bank.pool[0]).toEqual({ ...q('t1', 'toy_continents'), group: 'mc' });
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

  it('is the lab result of one protocol: it validates, carries the contrasts, fit, seeds and the chat-format base', async () => {
    const { questions, dev } = tinyWorld(5, 24);
    const model = await pretrainedModel(questions, dev, questions.filter((_, i) => i % 2 === 0));
    const out = await runExperiment(
      {
        name: 'share',
        model: { id: 'test:bow' },
        questions: { kind: 'toyworld', seed: 5 },
        subjects: { train: ['toy_geography'], related: ['toy_biology'] },
        probe: { shots: 2, threshold: 0.4, minPerCondition: 5 },
        conditions: ['harmonious', 'incompatible', 'mixture'],
        ratios: [0.5],
        seeds: [1, 2],
        training: { lora: { rank: 4, alpha: 8, targets: ['q', 'v'] }, learningRate: 0.05, epochs: 2, batchSize: 8, schedule: { kind: 'constant', warmupFraction: 0 } },
        evaluation: { bootstrapSamples: 50 },
      },
      { model, bank: { pool: questions, fewShot: dev }, env: { engineVersion: 'test' } },
    );
    const r = sharedResultOf(out.result, { protocol: 'paper', title: 'share', manifest });
    expect(validateSharedResult(r)).toMatchObject({ ok: true });
    // No plan: exploratory, and the link says so.
    expect([r.status, r.plan]).toEqual(['exploratory', undefined]);
    expect(r.conditions.map((c) => c.name)).toEqual(['Harmonious', 'Incompatible', 'Mixture r = 0.5']);
    expect(r.conditions[0].seeds).toBe(2);
    expect(r.conditions[0].perSeed!.map((p) => p.seed)).toEqual([1, 2]);
    expect(r.conditions[0].fit!.after).toBe((out.result.runs[0].fit.after + out.result.runs[1].fit.after) / 2);
    expect(r.base.ood.acc).toBe(out.result.base.kshot.accuracy.ood);
    expect(r.chatBase!.ood.acc).toBe(out.result.base.chat.accuracy.ood);
    const hi = r.contrasts!.find((c) => c.a === 'Harmonious' && c.b === 'Incompatible' && c.set === 'ood' && c.group === 'overall')!;
    const lab = out.result.contrasts.find((c) => c.a === 'harmonious' && c.b === 'incompatible' && c.set === 'ood' && c.group === 'overall' && c.protocol === 'paper')!;
    expect(hi.mean).toBe(lab.mean);
    expect(hi.holds).toBe(lab.holds);
    // One mixture ratio (plus Incompatible as r = 0): not enough ratios for a partial correlation.
    expect(r.partial).toBeNull();
    expect(r.partialNote).toMatch(/not enough ratios: 2 distinct/);
  }, 60_000);

  it('lists the questions whose answer changed, with the base and tuned letters', () => {
    const ch = questionChanges({ homo: qs }, { homo: base }, { homo: tuned });
    expect(ch.map((c) => [c.question, c.gold, c.base, c.tuned, c.known])).toEqual([
      ['Q h2?', 'B', 'A', 'B', false],
      ['Q h3?', 'C', 'D', 'B', false],
    ]);
  });
});
