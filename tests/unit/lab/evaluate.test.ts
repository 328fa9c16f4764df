import { beforeAll, describe, expect, it } from 'vitest';
import { LIKE_FOR_LIKE_PROTOCOL, PAPER_PROTOCOL, compareScores, evaluate } from '../../../src/lab/evaluate';
import { buildDataset, trainExamples } from '../../../src/lab/intervene';
import type { ScoredQuestion } from '../../../src/lab/probe';
import { runTraining } from '../../../src/lab/train';
import { bowTrainConfig, type BowModel } from '../../helpers/bow-model';
import { pretrainedModel, tinyWorld } from '../../helpers/tiny-world';

function sq(id: string, gold: number, probs: [number, number, number, number]): ScoredQuestion {
  const pred = probs.indexOf(Math.max(...probs));
  return { id, subject: 's', gold, probs, pred, confidence: probs[pred], correct: pred === gold };
}

describe('compareScores', () => {
  it('reports overall, known and unknown separately, with values by hand', () => {
    const base = [sq('a', 0, [0.7, 0.1, 0.1, 0.1]), sq('b', 1, [0.1, 0.2, 0.3, 0.4]), sq('c', 2, [0.4, 0.3, 0.2, 0.1])];
    const tuned = [sq('a', 0, [0.4, 0.3, 0.2, 0.1]), sq('b', 1, [0.1, 0.2, 0.3, 0.4]), sq('c', 2, [0.1, 0.2, 0.3, 0.4])];
    const r = compareScores(base, tuned, { samples: 200, seed: 1 });
    // Known = base right: only "a". Unknown: "b" (pred D) and "c" (pred A).
    expect([r.overall.n, r.known.n, r.unknown.n]).toEqual([3, 1, 2]);
    expect(r.overall.baseAccuracy.value).toBeCloseTo(1 / 3, 12);
    expect(r.overall.tunedAccuracy.value).toBeCloseTo(1 / 3, 12);
    // Spearman per question: a → √0.6 (dense ties, see metrics test), b → 1, c → −1.
    expect(r.known.consistency.value).toBeCloseTo(Math.sqrt(0.6), 12);
    expect(r.unknown.consistency.value).toBeCloseTo(0, 12);
    expect(r.overall.consistency.value).toBeCloseTo(Math.sqrt(0.6) / 3, 12);
    expect(r.unknown.kl.value).toBeCloseTo((0 + (0.4 * Math.log(4) + 0.3 * Math.log(1.5) + 0.2 * Math.log(2 / 3) + 0.1 * Math.log(0.25))) / 2, 12);
    expect(r.overall.cosine.value).toBeGreaterThan(0);
    expect(r.overall.consistency.lo).toBeLessThanOrEqual(r.overall.consistency.value);
    expect(r.overall.consistency.hi).toBeGreaterThanOrEqual(r.overall.consistency.value);
  });

  it('an empty group has n = 0 and no values', () => {
    const r = compareScores([sq('a', 0, [0.7, 0.1, 0.1, 0.1])], [sq('a', 0, [0.7, 0.1, 0.1, 0.1])]);
    expect(r.unknown.n).toBe(0);
    expect(r.unknown.tunedAccuracy.value).toBeNaN();
    expect(r.known.kl.value).toBe(0);
    expect(() => compareScores([sq('a', 0, [1, 0, 0, 0])], [sq('b', 0, [1, 0, 0, 0])])).toThrow(/base model only/);
  });
});

describe('evaluate (bag-of-words model, trained adapter)', () => {
  const { questions, dev } = tinyWorld(4, 16);
  let model: BowModel;
  beforeAll(async () => {
    model = await pretrainedModel(questions, dev, questions.filter((_, i) => i % 2 === 0), { epochs: 6 });
  }, 60_000);

  it('scores HOMO/ID/OOD under both protocols and reuses base scores', async () => {
    const homo = questions.filter((q) => q.subject === 'toy_geography').slice(0, 10);
    const train = questions.filter((q) => q.subject === 'toy_geography').slice(10);
    const tests = { homo, id: questions.filter((q) => q.subject === 'toy_biology'), ood: questions.filter((q) => q.subject === 'toy_culture') };
    const ds = await buildDataset(
      { name: 'incompatible', kind: 'incompatible', items: train.map((q) => ({ question: q, response: q.answer, source: 'gold' })) },
      { style: 'letter', seed: 1 },
    );
    const run = await runTraining({ runId: 'e', model, examples: trainExamples(model.tokenizer, ds), config: bowTrainConfig({ epochs: 2 }) });
    const adapter = await model.loadAdapter(run.state);
    const paper = await evaluate(model, tests, { protocol: PAPER_PROTOCOL, adapter, fewShot: dev, bootstrap: { samples: 100 } });
    expect(paper.report.protocol).toBe('paper');
    for (const name of ['homo', 'id', 'ood'] as const) {
      const s = paper.report.sets[name]!;
      expect(s.overall.n).toBe(tests[name].length);
      expect(s.known.n + s.unknown.n).toBe(s.overall.n);
      expect(s.overall.consistency.value).toBeGreaterThanOrEqual(-1);
      expect(s.overall.consistency.value).toBeLessThanOrEqual(1);
      expect(s.overall.kl.value).toBeGreaterThanOrEqual(0);
    }
    const before = model.calls.nextToken;
    const again = await evaluate(model, tests, { protocol: PAPER_PROTOCOL, adapter, fewShot: dev, baseScores: paper.baseScores, bootstrap: { samples: 100 } });
    expect(again.report).toEqual(paper.report);
    // Only the tuned model was scored the second time: 3 sets, one subject each, batches of 8.
    expect(model.calls.nextToken - before).toBe(Math.ceil(10 / 8) + Math.ceil(tests.id.length / 8) + Math.ceil(tests.ood.length / 8));
    const lfl = await evaluate(model, tests, { protocol: LIKE_FOR_LIKE_PROTOCOL, adapter, bootstrap: { samples: 100 } });
    expect(lfl.report.protocol).toBe('like-for-like');
    // Training changed the model: the tuned distributions differ from the base's.
    expect(lfl.report.sets.homo!.overall.kl.value).toBeGreaterThan(0);
    model.unloadAdapter(adapter);
  }, 60_000);
});
