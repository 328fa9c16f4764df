import { beforeAll, describe, expect, it } from 'vitest';
import { TokenizerLetterError } from '../../../src/lab/errors';
import { formatLetterIds, letterTokenIds, probe, scoreQuestions, probeWarnings, PAPER_PROBE } from '../../../src/lab/probe';
import { fewShotPrefix, formatQuestion, header, rotate } from '../../../src/lab/prompts';
import type { Question } from '../../../src/lab/questions/types';
import { BowModel, WordTokenizer } from '../../helpers/bow-model';
import { pretrainedModel, tinyWorld } from '../../helpers/tiny-world';

const { questions, dev } = tinyWorld(1, 30);
const taught = questions.filter((_, i) => i % 2 === 0);
let model: BowModel;

beforeAll(async () => {
  model = await pretrainedModel(questions, dev, taught);
}, 60_000);

describe('prompt text', () => {
  it("is the paper's k-shot format exactly", () => {
    const q: Question = { id: 'x', subject: 'high_school_us_history', question: 'Who?', options: ['a', 'b', 'c', 'd'], answer: 2 };
    expect(header(q.subject)).toBe('The following are multiple choice questions about high school us history.\n\n');
    expect(formatQuestion(q)).toBe('Who?\nA. a\nB. b\nC. c\nD. d\nAnswer:');
    expect(fewShotPrefix(q.subject, [q])).toBe(
      'The following are multiple choice questions about high school us history.\n\nWho?\nA. a\nB. b\nC. c\nD. d\nAnswer: C\n\n',
    );
    // Cyclic shift: options rotate left, gold follows.
    expect(rotate(q, 1)).toMatchObject({ id: 'x#shift1', options: ['b', 'c', 'd', 'a'], answer: 1 });
    expect(rotate(q, 3)).toMatchObject({ options: ['d', 'a', 'b', 'c'], answer: 3 });
  });
});

describe('letter token ids', () => {
  it('finds " A".." D" after "Answer:" and "A".."D" after the chat generation prompt', () => {
    const tok = model.tokenizer;
    const kshot = formatLetterIds(tok, { kind: 'kshot', shots: 5 });
    expect(kshot.map((i) => tok.decode([i]))).toEqual([' A', ' B', ' C', ' D']);
    const chat = formatLetterIds(tok, { kind: 'chat' });
    expect(chat.map((i) => tok.decode([i]))).toEqual(['A', 'B', 'C', 'D']);
  });

  it('errors clearly when a letter is not one token', () => {
    // This tokenizer spells " AB" as one piece if it knows it, else <unk>; a two-piece spelling fails.
    const tok = new WordTokenizer(['Answer: A']);
    expect(() => letterTokenIds(tok, 'Answer:', [' A.'])).toThrow(TokenizerLetterError);
    expect(() => letterTokenIds(tok, 'Answer:', [' A.'])).toThrow(/as 2 tokens/);
  });
});

describe('scoring', () => {
  it('gives renormalised letter probabilities and passes the k-shot prefix once per subject', async () => {
    const before = { ...model.calls };
    const s = await scoreQuestions(model, questions.slice(0, 12), { format: { kind: 'kshot', shots: 5 }, fewShot: dev, batchSize: 4 });
    expect(s).toHaveLength(12);
    for (const q of s) {
      expect(q.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      expect(q.confidence).toBe(Math.max(...q.probs));
      expect(q.correct).toBe(q.pred === q.gold);
    }
    // 12 questions of one subject in batches of 4 → 3 calls, each with the same (non-empty) prefix.
    expect(model.calls.nextToken - before.nextToken).toBe(3);
    const prefixLen = 1 + model.tokenizer.encode(fewShotPrefix(questions[0].subject, dev.filter((d) => d.subject === questions[0].subject).slice(0, 5))).length;
    expect(model.calls.prefixTokens - before.prefixTokens).toBe(3 * prefixLen);
  });

  it('agrees with the model: the letter softmax equals softmax over the four full-vocabulary log-probs', async () => {
    const q = questions[3];
    const [s] = await scoreQuestions(model, [q], { format: { kind: 'kshot', shots: 2 }, fewShot: dev });
    const ids = formatLetterIds(model.tokenizer, { kind: 'kshot', shots: 2 });
    const prefix = [0, ...model.tokenizer.encode(fewShotPrefix(q.subject, dev.filter((d) => d.subject === q.subject).slice(0, 2)))];
    const [lp] = await model.nextTokenLogProbs({ prefix, prompts: [model.tokenizer.encode(formatQuestion(q))], candidates: ids });
    const e = Array.from(lp, Math.exp);
    // Full-vocabulary probabilities of the four letters sum to less than 1; renormalised they match.
    expect(e.reduce((a, b) => a + b, 0)).toBeLessThan(1);
    e.forEach((p, i) => expect(s.probs[i]).toBeCloseTo(p / e.reduce((a, b) => a + b, 0), 6));
  });

  it('scores by continuation too', async () => {
    const s = await scoreQuestions(model, questions.slice(0, 4), { format: { kind: 'kshot', shots: 1 }, fewShot: dev, method: 'continuation' });
    for (const q of s) expect(q.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });
});

describe('probe', () => {
  it('finds the taught questions known and the others mostly not', async () => {
    const res = await probe(model, questions, { ...PAPER_PROBE, threshold: 0.5 }, { fewShot: dev });
    const taughtIds = new Set(taught.map((q) => q.id));
    const knownTaught = res.items.filter((i) => i.status === 'known' && taughtIds.has(i.id)).length;
    const knownOther = res.items.filter((i) => i.status === 'known' && !taughtIds.has(i.id)).length;
    expect(knownTaught).toBeGreaterThan(0.8 * taught.length);
    expect(knownOther).toBeLessThan(knownTaught / 2);
    expect(res.counts.known + res.counts.unknown + res.counts.discarded).toBe(questions.length);
    expect(res.counts.unknown).toBeGreaterThan(10);
    expect(res.accuracy).toBeCloseTo(res.items.filter((i) => i.correct).length / questions.length, 12);
    // Plain data: survives JSON.
    expect(JSON.parse(JSON.stringify(res))).toEqual(res);
  }, 60_000);

  it('the strict probe keeps only answers right under all four option orders', async () => {
    const loose = await probe(model, questions.slice(0, 40), { ...PAPER_PROBE }, { fewShot: dev });
    const strict = await probe(model, questions.slice(0, 40), { ...PAPER_PROBE, method: 'strict' }, { fewShot: dev });
    expect(strict.counts.known).toBeLessThanOrEqual(loose.counts.known);
    for (const it of strict.items) {
      if (it.status === 'known') expect(it.shiftsCorrect).toBe(4);
      expect(it.shiftsCorrect).toBeGreaterThanOrEqual(0);
    }
    // The bag-of-words model binds answers to positions it saw, so rotations catch its "knowledge".
    expect(strict.counts.known).toBeLessThan(loose.counts.known);
  }, 60_000);

  it('0-shot with the chat template (tuned-model protocol) works the same way', async () => {
    const res = await probe(model, questions.slice(0, 20), { format: { kind: 'chat' }, method: 'letter', threshold: 0.3 });
    expect(res.items).toHaveLength(20);
    expect(res.accuracy).toBeGreaterThan(0.25);
  }, 60_000);

  it('warns with numbers when near chance or a condition is too small', () => {
    const qs = questions.slice(0, 3);
    const w = probeWarnings(qs, { total: 100, known: 12, unknown: 50, discarded: 38 }, 0.27, { ...PAPER_PROBE }, dev.slice(0, 1));
    expect(w.join('\n')).toMatch(/Accuracy 27\.0 % on 100 questions is near chance/);
    expect(w.join('\n')).toMatch(/Only 12 known questions .* harmonious condition would have 12 examples/);
    expect(w.join('\n')).toMatch(/toy_geography has 1 few-shot example\(s\) for a 5-shot prompt/);
    expect(probeWarnings(qs, { total: 400, known: 150, unknown: 150, discarded: 100 }, 0.6, { ...PAPER_PROBE }, dev)).toEqual([]);
  });

  it('rejects a threshold outside [0, 1)', async () => {
    await expect(probe(model, questions.slice(0, 2), { ...PAPER_PROBE, threshold: 1.5 })).rejects.toThrow(/threshold is 1.5/);
  });
});

describe('probe on real MMLU text', () => {
  it('builds the 5-shot prefix from the dev set and scores through one shared prefix', async () => {
    const { loadMmlu } = await import('../../helpers/mmlu');
    const devQs = loadMmlu(['high_school_geography'], ['dev']);
    const val = loadMmlu(['high_school_geography'], ['val']).slice(0, 10);
    const prefix = fewShotPrefix('high_school_geography', devQs);
    expect(prefix.startsWith('The following are multiple choice questions about high school geography.\n\nThe rate of natural increase')).toBe(true);
    expect(prefix.split('\nAnswer: ').length).toBe(6);
    expect(prefix.endsWith('\n\n')).toBe(true);
    const tok = new WordTokenizer([prefix, ...val.map(formatQuestion)]);
    const m = new BowModel(tok, { buckets: 32 });
    const s = await scoreQuestions(m, val, { format: { kind: 'kshot', shots: 5 }, fewShot: devQs, batchSize: 10 });
    expect(m.calls.nextToken).toBe(1);
    expect(m.calls.prefixTokens).toBe(1 + tok.encode(prefix).length);
    // An untrained model is uniform over the vocabulary: every option equally likely.
    for (const q of s) for (const p of q.probs) expect(p).toBeCloseTo(0.25, 6);
  });
});
