// Beliefs freed of letter position (#16): the debiased probe on a model with a planted "answer A" habit,
// cloze beliefs, self-aligning labels and their letters, prompt layouts, and letter tokens under chat
// templates whose assistant turn starts right after the generation prompt, after a space or after a newline.
import { describe, expect, it } from 'vitest';
import { parseExperimentConfig } from '../../../src/lab/experiment-config';
import { compareScores, scoreTestSets } from '../../../src/lab/evaluate';
import { buildConditions, buildDataset, itemMessages, labelLetters, labelLetterWarnings, toTrainExample, writeExplanations } from '../../../src/lab/intervene';
import type { LabTokenizer } from '../../../src/lab/model';
import { beliefMethodOf, debiasedProbs, formatLetterIds, formatLetterSlot, probe, scoreQuestions, PAPER_PROBE } from '../../../src/lab/probe';
import {
  chatUserText,
  DEFAULT_LAYOUT,
  fewShotPrefix,
  formatExample,
  formatQuestion,
  header,
  layoutPrompts,
  rotate,
  validateLayout,
  type PromptLayout,
} from '../../../src/lab/prompts';
import type { Question } from '../../../src/lab/questions/types';
import { FIXTURE_CHAT_TEMPLATE, fixtureTokenizer } from '../../../src/model/fixtures';
import { createTokenizer } from '../../../src/model/tokenizer';
import { WordTokenizer } from '../../helpers/bow-model';
import { PlantedBiasModel } from '../../helpers/planted-model';

const SUBJECT = 'toy_facts';
const WORDS = ['alpha', 'beta', 'gamma', 'delta'];

/** Question i: gold at i mod 4; the model likes gold when i is even (known), a wrong option when odd (unknown). */
function world(n: number, tag = 'q') {
  const qs: Question[] = [];
  const liked = new Set<string>();
  const likedAt: number[] = [];
  for (let i = 0; i < n; i++) {
    const options = WORDS.map((w) => `${w}${tag}${i}`) as Question['options'];
    const answer = (i % 4) as Question['answer'];
    const at = i % 2 === 0 ? answer : (answer + 1 + ((i >> 1) % 3)) % 4;
    liked.add(options[at]);
    likedAt.push(at);
    qs.push({ id: `${tag}${i}`, subject: SUBJECT, question: `What is thing ${tag}${i}?`, options, answer });
  }
  return { qs, liked, likedAt };
}

const pool = world(40);
const dev = world(5, 'dev').qs;
const LAYOUT2: PromptLayout = {
  header: 'Quiz on {subject}\n',
  question: 'Question: {question}\nA. {A}\nB. {B}\nC. {C}\nD. {D}\nAnswer (letter):',
  answer: ' ({letter})',
  shotSeparator: '\n---\n',
};
const corpus = [DEFAULT_LAYOUT, LAYOUT2].flatMap((l) => {
  const p = layoutPrompts(l);
  return [p.fewShotPrefix(SUBJECT, dev), ...pool.qs.flatMap((q) => [0, 1, 2, 3].map((s) => p.formatExample(rotate(q, s)))), ' Because.', 'Explanation:', ...pool.qs.flatMap((q) => q.options)];
});
const tok = new WordTokenizer(corpus);
const BIAS = 3;
const PREF = 2.5;
const planted = () => new PlantedBiasModel(tok, { letterBias: [BIAS, 0, 0, 0], prefer: (t) => (pool.liked.has(t) ? PREF : 0) });
const kshot2 = { kind: 'kshot', shots: 2 } as const;

/** By hand: the letter softmax of the planted model when the liked option stands at `at`. */
function handLetterProbs(at: number): number[] {
  const logits = [0, 1, 2, 3].map((i) => (i === 0 ? BIAS : 0) + (i === at ? PREF : 0));
  const z = logits.reduce((a, x) => a + Math.exp(x), 0);
  return logits.map((x) => Math.exp(x) / z);
}

describe('the debiased probe on a model that answers "A" out of habit', () => {
  it('letter beliefs follow position; debiased beliefs follow content', async () => {
    const m = planted();
    const letter = await probe(m, pool.qs, { ...PAPER_PROBE, format: kshot2 }, { fewShot: dev });
    expect(letter.items.every((i) => i.pred === 0)).toBe(true);
    expect(letter.letterBias).toMatchObject({ n: 40, scoredBy: 'letter', predicted: [1, 0, 0, 0] });
    expect(letter.letterBias.gold).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(letter.warnings.join('\n')).toMatch(/answers "A" to 100\.0 % of the questions, though 25\.0 % have gold "A".*Use the debiased probe/);

    const deb = await probe(m, pool.qs, { ...PAPER_PROBE, format: kshot2, method: 'debiased' }, { fewShot: dev });
    deb.items.forEach((it, k) => {
      expect(it.pred).toBe(pool.likedAt[k]);
      expect(it.status).toBe(k % 2 === 0 ? 'known' : 'unknown');
      // By hand: option c's average over the four shifts of its letter probability where it then stands.
      const shifted = [0, 1, 2, 3].map((s) => handLetterProbs((pool.likedAt[k] - s + 4) % 4));
      const want = debiasedProbs(shifted);
      it.probs.forEach((p, i) => expect(p).toBeCloseTo(want[i], 6));
      expect(it.confidence).toBeCloseTo(want[pool.likedAt[k]], 6);
      expect(it.letterProbs![0]).toBeCloseTo(handLetterProbs(pool.likedAt[k])[0], 6);
    });
    // The liked option averages (0.988 + 3 × 0.356) / 4 ≈ 0.514: confident at the paper's 0.5.
    expect(deb.items[1].confidence).toBeCloseTo((handLetterProbs(0)[0] + 3 * handLetterProbs(1)[1]) / 4, 6);
    expect(deb.counts).toEqual({ total: 40, known: 20, unknown: 20, discarded: 0 });
    // The habit is still measured (from the unshifted letters) and named, but no longer drives beliefs.
    expect(deb.letterBias.predicted).toEqual([1, 0, 0, 0]);
    expect(deb.warnings.join('\n')).toMatch(/The debiased probe averages this out/);
    expect(JSON.parse(JSON.stringify(deb))).toEqual(deb);
  });

  it('puts batchSize / 4 questions in their four shifts to the model in one call, behind the shared k-shot prefix', async () => {
    const m = planted();
    const res = await scoreQuestions(m, pool.qs.slice(0, 3), { format: kshot2, method: 'debiased', fewShot: dev, batchSize: 8 });
    // Two questions (eight prompts) in the first call, the third alone in the second.
    expect(m.calls.map((c) => c.prompts.length)).toEqual([8, 4]);
    // (The prefix is every token the eight share: the examples and the questions' common opening words.)
    expect(tok.decode(m.calls[0].prefix).startsWith('<s>' + fewShotPrefix(SUBJECT, dev.slice(0, 2)))).toBe(true);
    expect(m.calls[0].prefix.length).toBeLessThan(m.calls[1].prefix.length);
    m.calls[0].prompts.forEach((p, r) => expect(tok.decode([...m.calls[0].prefix, ...p])).toBe('<s>' + fewShotPrefix(SUBJECT, dev.slice(0, 2)) + formatQuestion(rotate(pool.qs[r >> 2], r % 4))));
    // Alone, a question shares its text too: everything before its options.
    expect(tok.decode(m.calls[1].prefix)).toBe('<s>' + fewShotPrefix(SUBJECT, dev.slice(0, 2)) + `${pool.qs[2].question}\nA.`);
    // The same beliefs as one question at a time.
    const one = planted();
    const single = await scoreQuestions(one, pool.qs.slice(0, 3), { format: kshot2, method: 'debiased', fewShot: dev, batchSize: 1 });
    expect(one.calls).toHaveLength(3);
    res.forEach((r, k) => r.probs.forEach((p, i) => expect(p).toBeCloseTo(single[k].probs[i], 9)));
  });

  it('in the chat format too, with the template\'s reply position', async () => {
    const m = planted();
    const deb = await probe(m, pool.qs, { ...PAPER_PROBE, format: { kind: 'chat' }, method: 'debiased' });
    expect(deb.items.map((i) => i.pred)).toEqual(pool.likedAt);
    const gen = tok.applyChatTemplate([{ role: 'user', content: chatUserText(rotate(pool.qs[0], 2)) }], { addGenerationPrompt: true });
    expect(tok.decode([...m.calls[0].prefix, ...m.calls[0].prompts[2]])).toBe(gen);
  });

  it('cloze beliefs follow content, scoring each option where the answer goes', async () => {
    const m = planted();
    const res = await probe(m, pool.qs.slice(0, 8), { ...PAPER_PROBE, format: kshot2, method: 'continuation', threshold: 0.3 }, { fewShot: dev });
    expect(res.items.map((i) => i.pred)).toEqual(pool.likedAt.slice(0, 8));
    expect(res.letterBias.scoredBy).toBe('continuation');
    const c = m.continuations[1];
    expect(tok.decode(c.prompt)).toBe('<s>' + fewShotPrefix(SUBJECT, dev.slice(0, 2)) + formatQuestion(pool.qs[0]));
    expect(tok.decode(c.continuation)).toBe(` ${pool.qs[0].options[1]}`);
    const chat = planted();
    await scoreQuestions(chat, pool.qs.slice(0, 1), { format: { kind: 'chat' }, method: 'continuation' });
    expect(tok.decode(chat.continuations[2].prompt)).toBe(tok.applyChatTemplate([{ role: 'user', content: chatUserText(pool.qs[0]) }], { addGenerationPrompt: true }));
    expect(tok.decode(chat.continuations[2].continuation)).toBe(pool.qs[0].options[2]);
  });
});

describe('self-aligning labels', () => {
  it('are the believed option at its position in the item\'s own order, and their letters are reported', async () => {
    const m = planted();
    const letter = await probe(m, pool.qs, { ...PAPER_PROBE, format: kshot2 }, { fewShot: dev });
    const deb = await probe(m, pool.qs, { ...PAPER_PROBE, format: kshot2, method: 'debiased' }, { fewShot: dev });
    const build = (r: typeof deb) => buildConditions(r, pool.qs, { conditions: ['incompatible', 'selfAligning'], seed: 1 }).find((s) => s.name === 'selfAligning')!;

    // Letter beliefs: every self-aligning label is "A", and the dataset says so.
    const byLetter = await buildDataset(build(letter), { style: 'letter', seed: 1 });
    expect(byLetter.labelLetters.counts).toEqual([byLetter.items.length, 0, 0, 0]);
    expect(byLetter.warnings.join('\n')).toMatch(/30 of the 30 selfAligning labels that are the model's own beliefs \(100\.0 %\) are "A" \(more than 40 %\)/);

    // Debiased beliefs: the liked (wrong) option, wherever it stands.
    const set = build(deb);
    const idx = new Map(pool.qs.map((q, k) => [q.id, k]));
    for (const it of set.items) {
      expect(it.response).toBe(pool.likedAt[idx.get(it.question.id)!]);
      expect(it.response).not.toBe(it.question.answer);
    }
    const ds = await buildDataset(set, { style: 'letter', seed: 1 });
    expect(ds.labelLetters.counts.reduce((a, b) => a + b, 0)).toBe(20);
    expect(Math.max(...ds.labelLetters.shares)).toBeLessThanOrEqual(0.4);
    expect(ds.warnings).toEqual([]);
  });

  it('warns only above 40 % on one letter', () => {
    const q = pool.qs[0];
    const items = (rs: number[]) => rs.map((response) => ({ question: q, response, source: 'self' as const }));
    expect(labelLetterWarnings('x', labelLetters(items([0, 0, 1, 2, 3])))).toEqual([]);
    expect(labelLetterWarnings('x', labelLetters(items([0, 0, 0, 1, 2, 3, 3])))).toHaveLength(1);
    expect(labelLetters(items([1, 1, 2, 3])).shares).toEqual([0, 0.5, 0.25, 0.25]);
  });
});

describe('evaluation with the probe\'s belief method', () => {
  it('scores with debiased beliefs, so C compares like with like', async () => {
    expect(beliefMethodOf('strict')).toBe('letter');
    expect(beliefMethodOf('debiased')).toBe('debiased');
    const m = planted();
    const tests = { homo: pool.qs.slice(0, 8) };
    const base = await scoreTestSets(m, tests, kshot2, null, { fewShot: dev, method: 'debiased' });
    const tuned = await scoreTestSets(m, tests, { kind: 'chat' }, null, { method: 'debiased' });
    expect(base.homo!.map((s) => s.pred)).toEqual(pool.likedAt.slice(0, 8));
    expect(tuned.homo!.map((s) => s.pred)).toEqual(pool.likedAt.slice(0, 8));
    // Same beliefs in both formats: consistency 1 (letter scores would say the same, but only by position).
    expect(compareScores(base.homo!, tuned.homo!, { samples: 10 }).overall.consistency.value).toBeCloseTo(1, 9);
  });
});

describe('prompt layouts', () => {
  const q: Question = { id: 'x', subject: 'high_school_us_history', question: 'Who {A}?', options: ['a', 'b', 'c', 'd'], answer: 2 };

  it('the default is the paper\'s, byte for byte', () => {
    const p = layoutPrompts();
    expect(p.header(q.subject)).toBe(header(q.subject));
    expect(p.formatExample(q)).toBe('Who {A}?\nA. a\nB. b\nC. c\nD. d\nAnswer: C\n\n');
    expect(p.fewShotPrefix(q.subject, [q])).toBe(fewShotPrefix(q.subject, [q]));
    expect(p.chatUserText(q)).toBe(chatUserText(q));
    expect(formatExample(q)).toBe(p.formatExample(q));
  });

  it('renders another layout exactly, everywhere a question is written', async () => {
    const p = layoutPrompts(LAYOUT2);
    expect(p.fewShotPrefix(q.subject, [q, q])).toBe(
      'Quiz on high school us history\n' + 'Question: Who {A}?\nA. a\nB. b\nC. c\nD. d\nAnswer (letter): (C)\n---\n'.repeat(2),
    );
    expect(p.chatUserText(q)).toBe('Quiz on high school us history\nQuestion: Who {A}?\nA. a\nB. b\nC. c\nD. d\nAnswer (letter):');
    expect(itemMessages({ question: q, response: 1, source: 'gold' }, 'letter', LAYOUT2)[0].content).toBe(p.chatUserText(q));
    // The letter comes after " (": that is what is scored, and what the k-shot examples show.
    expect(formatLetterIds(tok, kshot2, LAYOUT2).map((i) => tok.decode([i]))).toEqual(['A', 'B', 'C', 'D']);
    expect(formatLetterSlot(tok, kshot2, LAYOUT2).tail).toBe(2);
    const m = planted();
    const s = await scoreQuestions(m, pool.qs.slice(0, 2), { format: kshot2, fewShot: dev, layout: LAYOUT2 });
    expect(tok.decode([...m.calls[0].prefix, ...m.calls[0].prompts[1]])).toBe('<s>' + p.fewShotPrefix(SUBJECT, dev.slice(0, 2)) + p.formatQuestion(pool.qs[1]) + ' (');
    expect(s.map((x) => x.pred)).toEqual([0, 0]);
    const r = await probe(m, pool.qs.slice(0, 4), { ...PAPER_PROBE, format: kshot2, layout: LAYOUT2, method: 'debiased' }, { fewShot: dev });
    expect(r.items.map((i) => i.pred)).toEqual(pool.likedAt.slice(0, 4));
    // Explanations are asked for in the layout too.
    const seen: string[] = [];
    const gen = m.generate.bind(m);
    m.generate = async (ids, o) => (seen.push(tok.decode(ids)), gen(ids, o));
    await writeExplanations(m, [{ name: 's', kind: 'selfAligning', items: [{ question: pool.qs[1], response: 0, source: 'self' }] }], { layout: LAYOUT2 });
    expect(seen[0]).toBe('<s>' + p.header(SUBJECT) + p.formatQuestion(pool.qs[1]) + ` (A). ${pool.qs[1].options[0]}\nExplanation:`);
  });

  it('rejects a layout that lacks a placeholder, in code and in the config', () => {
    expect(() => validateLayout({ ...DEFAULT_LAYOUT, question: '{question} {A} {B} {C}' })).toThrow(/must contain \{D\} exactly once/);
    expect(() => validateLayout({ ...DEFAULT_LAYOUT, answer: ' ' })).toThrow(/\{letter\}/);
    const base = { name: 'x', model: { id: 'm' }, questions: { kind: 'toyworld' }, subjects: { train: ['a'] }, training: { lora: { rank: 1, alpha: 1, targets: ['q'] }, learningRate: 1e-3 } };
    const c = parseExperimentConfig({ ...base, probe: { method: 'debiased' } });
    expect(c.prompt).toEqual(DEFAULT_LAYOUT);
    expect(c.probe.method).toBe('debiased');
    expect(parseExperimentConfig({ ...base, prompt: { answer: ' ({letter})' } }).prompt).toEqual({ ...DEFAULT_LAYOUT, answer: ' ({letter})' });
    expect(() => parseExperimentConfig({ ...base, prompt: { answer: ' ' } })).toThrow(/prompt\.answer: the answer must contain \{letter\} once/);
    expect(() => parseExperimentConfig({ ...base, prompt: { anwser: ' {letter}' } })).toThrow(/anwser/);
  });
});

/** The fixture's byte-level BPE tokenizer (transformers.js) with another chat template. */
function bpeWithTemplate(chatTemplate: string): LabTokenizer {
  const fx = fixtureTokenizer();
  return createTokenizer(fx.tokenizerJson, { ...fx.tokenizerConfig, chat_template: chatTemplate });
}

const turns = (sep: string, gen: string) =>
  `{% for message in messages %}{{ '<|im_start|>' + message['role'] + '${sep}' + message['content'] + '<|im_end|>' }}{% endfor %}` +
  `{% if add_generation_prompt %}{{ '<|im_start|>assistant${gen}' }}{% endif %}`;

describe('chat-format letter tokens are the tokens the template renders for the reply', () => {
  const shapes = [
    { name: 'right after the generation prompt', template: turns(':', ':'), letter: 'A' },
    { name: 'after a space (the turn starts with one)', template: turns(': ', ':'), letter: ' A' },
    { name: 'after a space that ends the generation prompt', template: turns(': ', ': '), letter: ' A' },
    { name: 'after a newline', template: FIXTURE_CHAT_TEMPLATE, letter: 'A' },
  ];
  for (const shape of shapes) {
    it(shape.name, async () => {
      const bpe = bpeWithTemplate(shape.template);
      const ids = formatLetterIds(bpe, { kind: 'chat' });
      expect(ids.map((i) => bpe.decode([i]))).toEqual(['A', 'B', 'C', 'D'].map((l) => shape.letter.replace('A', l)));
      // What the probe scores is what training targets: the same context, then the same letter token.
      const m = new PlantedBiasModel(bpe, { letterBias: [0, 0, 0, 0], prefer: () => 0 });
      const q = pool.qs[5];
      await scoreQuestions(m, [q], { format: { kind: 'chat' } });
      const context = [...m.calls[0].prefix, ...m.calls[0].prompts[0]];
      for (const response of [0, 1, 2, 3]) {
        const ex = toTrainExample(bpe, itemMessages({ question: q, response, source: 'gold' }, 'letter'));
        const first = ex.lossMask.indexOf(1);
        expect(ex.ids.slice(0, first)).toEqual(context);
        expect(ex.ids[first]).toBe(ids[response]);
      }
    });
  }

  it('k-shot letters are what the answer layout writes after the question, with the same tokenizer', () => {
    const bpe = bpeWithTemplate(FIXTURE_CHAT_TEMPLATE);
    expect(formatLetterIds(bpe, kshot2).map((i) => bpe.decode([i]))).toEqual([' A', ' B', ' C', ' D']);
    expect(formatLetterIds(bpe, kshot2, { ...DEFAULT_LAYOUT, answer: '\n{letter}' }).map((i) => bpe.decode([i]))).toEqual(['A', 'B', 'C', 'D']);
  });

  it('says so clearly when a letter is not one token where the answer goes', () => {
    // The word tokenizer spells " Ax" as one unknown word: the four letters are not told apart.
    expect(() => formatLetterIds(tok, kshot2, { ...DEFAULT_LAYOUT, answer: ' {letter}x' })).toThrow(/does not spell the answer letters after the question/);
  });
});
