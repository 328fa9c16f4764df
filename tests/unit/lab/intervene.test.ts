import { beforeAll, describe, expect, it } from 'vitest';
import { ConditionTooSmallError, LabError } from '../../../src/lab/errors';
import {
  PAPER_RATIOS,
  buildConditions,
  buildDataset,
  responseText,
  toJsonl,
  toTrainExample,
  trainExamples,
  writeExplanations,
  type ConditionSet,
} from '../../../src/lab/intervene';
import { sha256Hex } from '../../../src/lab/hash';
import { probe, PAPER_PROBE, type ProbeResult } from '../../../src/lab/probe';
import type { BowModel } from '../../helpers/bow-model';
import { pretrainedModel, tinyWorld } from '../../helpers/tiny-world';

const { questions, dev } = tinyWorld(2, 30);
let model: BowModel;
let result: ProbeResult;
const all = ['harmonious', 'incompatible', 'selfAligning', 'randomWrong', 'mixture'] as const;

beforeAll(async () => {
  model = await pretrainedModel(questions, dev, questions.filter((_, i) => i % 2 === 0));
  result = await probe(model, questions, { ...PAPER_PROBE }, { fewShot: dev });
}, 60_000);

describe('buildConditions', () => {
  it('builds every condition at one size from the right questions and answers', () => {
    const sets = buildConditions(result, questions, { conditions: all, seed: 42 });
    const n = Math.min(result.counts.known, result.counts.unknown);
    expect(sets.map((s) => s.name)).toEqual(['harmonious', 'incompatible', 'selfAligning', 'randomWrong', ...PAPER_RATIOS.map((r) => `mixture-${r}`)]);
    for (const s of sets) expect(s.items).toHaveLength(n);
    const item = new Map(result.items.map((i) => [i.id, i]));
    const get = (name: string) => sets.find((s) => s.name === name)!;
    // Harmonious: known questions, gold (= the model's belief).
    for (const it of get('harmonious').items) {
      expect(item.get(it.question.id)!.status).toBe('known');
      expect(it.response).toBe(it.question.answer);
      expect(it.response).toBe(item.get(it.question.id)!.pred);
    }
    // Incompatible, self-aligning, random-wrong: the SAME unknown questions.
    const ids = (name: string) => get(name).items.map((i) => i.question.id);
    expect(ids('selfAligning')).toEqual(ids('incompatible'));
    expect(ids('randomWrong')).toEqual(ids('incompatible'));
    for (const it of get('incompatible').items) {
      expect(item.get(it.question.id)!.status).toBe('unknown');
      expect(it.response).toBe(it.question.answer);
    }
    for (const it of get('selfAligning').items) {
      expect(it.response).toBe(item.get(it.question.id)!.pred);
      expect(it.response).not.toBe(it.question.answer);
    }
    for (const it of get('randomWrong').items) {
      expect(it.response).not.toBe(it.question.answer);
      expect(it.response).not.toBe(item.get(it.question.id)!.pred);
    }
  });

  it('mixes a fraction r of self-aligning items into incompatible, nested across r', () => {
    const sets = buildConditions(result, questions, { conditions: ['mixture'], seed: 42 });
    const n = sets[0].items.length;
    let prev = new Set<string>();
    for (const s of sets) {
      const self = s.items.filter((i) => i.source === 'self');
      expect(self).toHaveLength(Math.round(s.ratio! * n));
      const ids = new Set(self.map((i) => i.question.id));
      for (const id of prev) expect(ids.has(id)).toBe(true);
      prev = ids;
    }
    expect(sets[0].items.every((i) => i.source === 'gold')).toBe(true);
    expect(sets.at(-1)!.items.every((i) => i.source === 'self')).toBe(true);
  });

  it('is deterministic from the seed', () => {
    const a = buildConditions(result, questions, { conditions: all, seed: 1 });
    const b = buildConditions(result, questions, { conditions: all, seed: 1 });
    const c = buildConditions(result, questions, { conditions: all, seed: 2 });
    expect(b).toEqual(a);
    expect(c.find((s) => s.name === 'randomWrong')).not.toEqual(a.find((s) => s.name === 'randomWrong'));
  });

  it('says the counts and what to change when a size cannot be built', () => {
    const n = Math.min(result.counts.known, result.counts.unknown);
    try {
      buildConditions(result, questions, { conditions: all, seed: 1, size: n + 1 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConditionTooSmallError);
      const err = e as ConditionTooSmallError;
      expect(err.message).toContain(`${result.counts.known} known and ${result.counts.unknown} unknown`);
      expect(err.message).toContain(`${n + 1} requested`);
      expect(err.advice).toContain(`largest feasible is ${n}`);
    }
    const noUnknown: ProbeResult = { ...result, items: result.items.map((i) => ({ ...i, status: i.status === 'unknown' ? 'discarded' : i.status })) };
    let caught: unknown;
    try {
      buildConditions(noUnknown, questions, { conditions: ['incompatible'], seed: 1 });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ConditionTooSmallError);
    expect((caught as ConditionTooSmallError).message).toContain('0 unknown');
    expect((caught as ConditionTooSmallError).advice).toMatch(/needs at least one unknown question/);
    // Harmonious alone does not need unknown questions.
    expect(buildConditions(noUnknown, questions, { conditions: ['harmonious'], seed: 1 })[0].items.length).toBe(result.counts.known);
    expect(() => buildConditions(result, questions, { conditions: ['mixture'], ratios: [1.5], seed: 1 })).toThrow(LabError);
  });
});

describe('datasets', () => {
  let sets: ConditionSet[];
  beforeAll(() => {
    sets = buildConditions(result, questions, { conditions: ['harmonious', 'selfAligning'], seed: 3, size: 6 });
  });

  it('letter-only responses, chat JSONL export and a content hash', async () => {
    const ds = await buildDataset(sets[0], { style: 'letter', seed: 3 });
    const lines = toJsonl(ds).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(6);
    for (const l of lines) {
      expect(l.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant']);
      expect(l.messages[0].content).toMatch(/^The following are multiple choice questions about toy \w+\.\n\n.*\nA\. .*\nD\. .*\nAnswer:$/s);
      expect(l.messages[1].content).toMatch(/^[ABCD]$/);
    }
    expect(ds.hash).toBe(await sha256Hex(toJsonl(ds)));
    expect(ds.hash).toMatch(/^[0-9a-f]{64}$/);
    const other = await buildDataset(sets[1], { style: 'letter', seed: 3 });
    expect(other.hash).not.toBe(ds.hash);
  });

  it('SHA-256 is the standard one', async () => {
    expect(await sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('explanations: gold from the data, self-aligning written by the base model', async () => {
    const before = model.calls.generate;
    const withExpl = await writeExplanations(model, sets, { examples: dev, maxNewTokens: 8 });
    // Harmonious items are gold with data explanations; self-aligning ones needed the model.
    expect(model.calls.generate - before).toBe(6);
    for (const it of withExpl[0].items) expect(it.explanation).toBe(it.question.explanation);
    for (const it of withExpl[1].items) expect(typeof it.explanation).toBe('string');
    const ds = await buildDataset(withExpl[0], { style: 'letter+explanation', seed: 3 });
    const reply = ds.conversations[0][1].content;
    expect(reply).toMatch(/^[ABCD]\. \w+\. \w+ is known for \w+\.$/);
    expect(responseText({ question: questions[0], response: 1, source: 'self', explanation: 'Why.' }, 'letter+explanation')).toBe(`B. ${questions[0].options[1]}. Why.`);
    await expect(buildDataset(sets[1], { style: 'letter+explanation', seed: 3 })).rejects.toThrow(/explanations that were not written/);
  });

  it('mixes general instruction data at the given proportion, the same examples for every condition', async () => {
    const general = Array.from({ length: 20 }, (_, i) => ({ messages: [{ role: 'user' as const, content: `Say the number ${i}.` }, { role: 'assistant' as const, content: `${i}` }] }));
    const a = await buildDataset(sets[0], { style: 'letter', general, generalRatio: 1, seed: 3 });
    const b = await buildDataset(sets[1], { style: 'letter', general, generalRatio: 1, seed: 3 });
    expect(a.conversations).toHaveLength(12);
    expect(a.generalCount).toBe(6);
    const gen = (d: typeof a) => d.conversations.filter((c) => c[0].content.startsWith('Say')).map((c) => c[0].content).sort();
    expect(gen(a)).toEqual(gen(b));
    await expect(buildDataset(sets[0], { style: 'letter', general: general.slice(0, 3), generalRatio: 1, seed: 3 })).rejects.toThrow(/needs 6 instruction examples; the file has 3/);
  });

  it('training examples carry the loss on the assistant tokens only', async () => {
    const ds = await buildDataset(sets[0], { style: 'letter', seed: 3 });
    const tok = model.tokenizer;
    const ex = toTrainExample(tok, ds.conversations[0]);
    expect(ex.lossMask).toHaveLength(ex.ids.length);
    const target = ex.ids.filter((_, i) => ex.lossMask[i] === 1);
    // The reply is the letter then the end-of-turn (and the template's trailing newline).
    expect(tok.decode(target)).toBe(`${ds.conversations[0][1].content}<|end|>\n`);
    const firstTarget = ex.lossMask.indexOf(1);
    expect(tok.decode(ex.ids.slice(0, firstTarget))).toBe(tok.applyChatTemplate([ds.conversations[0][0]], { addGenerationPrompt: true }));
    expect(trainExamples(tok, ds)).toHaveLength(6);
    expect(() => toTrainExample(tok, [{ role: 'user', content: 'x' }])).toThrow(/must end with the assistant/);
  });
});
