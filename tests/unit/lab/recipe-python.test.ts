/**
 * The exported recipe's Python (src/lab/recipe/labmath.py, train.py) against the lab's TypeScript: the cases
 * below are computed here from the lab's own functions and kept in tests/fixtures/recipe-cases.json, which
 * tests/python/test_labmath.py (Python's unittest, run from here) checks labmath.py against. A change on either
 * side fails: the fixture must equal what the lab computes now, and the Python must reproduce the fixture.
 * Regenerate the fixture after a deliberate change with UPDATE_RECIPE_CASES=1.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { learningRateAt } from '../../../src/engine/optim/schedule';
import { sha256Hex } from '../../../src/lab/hash';
import { toJsonl, toTrainExample } from '../../../src/lab/intervene';
import { bootstrapMean, cosine, denseRank, kl, spearman } from '../../../src/lab/metrics';
import { compareScores } from '../../../src/lab/evaluate';
import type { ChatMessage, LabTokenizer } from '../../../src/lab/model';
import type { ScoredQuestion } from '../../../src/lab/probe';
import { chatUserText, fewShotPrefix, formatQuestion, pickShots, rotate } from '../../../src/lab/prompts';
import type { Question } from '../../../src/lab/questions/types';
import { rng } from '../../../src/lab/random';
import { initLora } from '../../../src/model/lora';
import type { ModelSpec } from '../../../src/model/spec';
import { epochOrder, trainPlan, truncateLeft } from '../../../src/model/train-step';
import { uniformPm1 } from '../../../src/engine/random';
import { repoRoot } from '../../helpers/paths';
import { python } from '../../helpers/python';

const FIXTURE = path.join(repoRoot, 'tests/fixtures/recipe-cases.json');

const take = (next: () => number, n: number) => Array.from({ length: n }, () => next());

/** Distributions with ties, zeros and near-zeros: where dense ranks, the KL floor and cosine differ from naive versions. */
const DISTS: [number, number, number, number][] = [
  [0.7, 0.1, 0.1, 0.1],
  [0.25, 0.25, 0.25, 0.25],
  [0.4, 0.3, 0.2, 0.1],
  [0.1, 0.2, 0.3, 0.4],
  [1, 0, 0, 0],
  [0, 0.5, 0.5, 0],
  [0.5, 1e-13, 0.3, 0.2 - 1e-13],
  [0.05, 0.05, 0.6, 0.3],
];

const QUESTIONS: Question[] = [
  {
    id: 'q1',
    subject: 'high_school_geography',
    question: 'Which river is the longest?',
    options: ['Nile', 'Amazon', 'Yangtze', 'Danube'],
    answer: 0,
  },
  {
    id: 'q2',
    subject: 'high_school_geography',
    question: 'Quelle est la capitale\u00a0de l’Australie ? "quoted"',
    options: ['Sydney', 'Canberra', 'Melbourne', 'Perth'],
    answer: 1,
  },
  {
    id: 'q3',
    subject: 'toy_biology',
    question: 'Zorbs eat?\n(two lines)',
    options: ['glim', 'frap', 'wug', 'blick'],
    answer: 3,
  },
];
const FEWSHOT: Question[] = [
  {
    id: 'd1',
    subject: 'high_school_geography',
    question: 'Largest ocean?',
    options: ['Atlantic', 'Indian', 'Pacific', 'Arctic'],
    answer: 2,
  },
  QUESTIONS[0], // q1 itself: pickShots must pass over the question being asked
  {
    id: 'd2',
    subject: 'high_school_geography',
    question: 'Highest mountain?',
    options: ['K2', 'Everest', 'Denali', 'Elbrus'],
    answer: 1,
  },
  { id: 'd3', subject: 'toy_biology', question: 'Glims are?', options: ['red', 'blue', 'green', 'gold'], answer: 0 },
];

/** A word-level tokenizer with a merge across the prompt/reply boundary (`:\n` + `B` → one token), as real BPEs do. */
function wordTokenizer(): LabTokenizer {
  const vocab = new Map<string, number>();
  const id = (w: string) => {
    if (!vocab.has(w)) vocab.set(w, vocab.size + 3);
    return vocab.get(w)!;
  };
  return {
    bosTokenId: 1,
    eosTokenIds: [2],
    encode: (text: string) => (text.match(/<[a-z]+>|:\n[A-D]|\S+|\s+/g) ?? []).map(id),
    decode: () => '',
    applyChatTemplate: (messages: readonly ChatMessage[], opts?: { addGenerationPrompt?: boolean }) =>
      messages.map((m) => `<${m.role}>:\n${m.content}</s> `).join('') +
      (opts?.addGenerationPrompt ? '<assistant>:\n' : ''),
  } as unknown as LabTokenizer;
}

function scored(id: string, gold: number, probs: [number, number, number, number]): ScoredQuestion {
  let pred = 0;
  for (let i = 1; i < 4; i++) if (probs[i] > probs[pred]) pred = i;
  return { id, subject: 's', gold, probs, pred, confidence: probs[pred], correct: pred === gold };
}

async function buildCases() {
  const spec = {
    numLayers: 2,
    hiddenSize: 8,
    intermediateSize: 12,
    numHeads: 2,
    numKvHeads: 1,
    headDim: 4,
  } as ModelSpec;
  const lora = { rank: 2, targets: ['q', 'v', 'down'] as const };
  const init = initLora(spec, { rank: lora.rank, targets: [...lora.targets] }, 9);
  const tok = wordTokenizer();
  const conversations: ChatMessage[][] = [
    [
      { role: 'user', content: chatUserText(QUESTIONS[0]) },
      { role: 'assistant', content: 'B' },
    ],
    [
      { role: 'user', content: 'Say "hi"\tthen\u0001stop \\ ✓ \u2028' },
      { role: 'assistant', content: 'hi. Explanation: {"a": 1}' },
    ],
  ];
  const masks = conversations.map((c) => {
    const e = toTrainExample(tok, c);
    return {
      messages: c,
      promptIds: tok.encode(tok.applyChatTemplate(c.slice(0, -1), { addGenerationPrompt: true })),
      fullIds: e.ids,
      mask: e.lossMask,
    };
  });
  const plans = [
    [10, 8, 3, 0.03],
    [2, 8, 1, 0.5],
    [100, 8, 3, 0.03],
    [50, 4, 2, 0.1],
    [7, 3, 5, 0.25],
  ].map(([n, batchSize, epochs, warmupFraction]) => ({
    n,
    batchSize,
    epochs,
    warmupFraction,
    plan: trainPlan(n, { batchSize, epochs, schedule: { kind: 'cosine', warmupFraction } }),
  }));
  const schedules = (['constant', 'linear', 'cosine'] as const).map((kind) => ({
    kind,
    total: 20,
    warmup: 3,
    peak: 2e-4,
    lrs: Array.from({ length: 21 }, (_, step) => learningRateAt(step, 20, { kind, warmupSteps: 3, peak: 2e-4 })),
  }));
  const base = DISTS.map((p, i) => scored(`x${i}`, i % 4, p));
  const tuned = DISTS.map((_, i) => scored(`x${i}`, i % 4, DISTS[(i + 3) % DISTS.length]));
  const values = [0, 1, 1, 0, 1, 0.25, -0.5, 0.75, 1, 0];
  return {
    rng: [0, 1, 42, 123456789].map((seed) => ({ seed, values: take(rng(seed), 12) })),
    uniformPm1: [0, 9, 4294967295, 31415].map((seed) => ({ seed, values: take(uniformPm1(seed), 12) })),
    epochOrder: [
      [10, 1, 0],
      [10, 1, 1],
      [37, 42, 2],
      [1, 5, 0],
    ].map(([n, seed, epoch]) => ({ n, seed, epoch, order: epochOrder(n, seed, epoch) })),
    plans,
    schedules,
    truncate: [
      { ids: [1, 2, 3, 4, 5, 6], mask: [0, 0, 0, 1, 1, 1], max: 4 },
      { ids: [1, 2, 3], mask: [0, 1, 1], max: 8 },
    ].map((c) => ({ ...c, out: truncateLeft({ ids: c.ids, lossMask: c.mask }, c.max) })),
    masks,
    lora: {
      layers: spec.numLayers,
      rank: lora.rank,
      targets: [...lora.targets],
      inFeatures: { q: 8, v: 8, down: 12 },
      seed: 9,
      a: Object.fromEntries(
        Object.entries(init)
          .filter(([k]) => k.endsWith('lora_A.weight'))
          .map(([k, v]) => [k, Array.from(v)]),
      ),
    },
    metrics: DISTS.flatMap((p, i) => {
      const q = DISTS[(i + 3) % DISTS.length];
      return [{ p, q, denseRank: denseRank(p), spearman: spearman(p, q), kl: kl(p, q), cosine: cosine(p, q) }];
    }),
    bootstrap: [
      { values, samples: 200, seed: 0 },
      { values, samples: 57, seed: 7 },
      { values: [0.3], samples: 10, seed: 1 },
      { values: [], samples: 10, seed: 1 },
    ].map((c) => ({ ...c, interval: nullify(bootstrapMean(c.values, { samples: c.samples, seed: c.seed })) })),
    report: {
      base: base.map((s) => s.probs),
      tuned: tuned.map((s) => s.probs),
      gold: base.map((s) => s.gold),
      samples: 100,
      seed: 3,
      expected: nullify(compareScores(base, tuned, { samples: 100, seed: 3 })),
    },
    prompts: QUESTIONS.map((q) => ({
      q,
      chat: chatUserText(q),
      kshot: fewShotPrefix(q.subject, pickShots(FEWSHOT, q.subject, 2, q.id)) + formatQuestion(q),
      rotated: [1, 2, 3].map((s) => rotate(q, s)),
    })),
    fewshot: FEWSHOT,
    datasetHash: {
      rows: conversations.map((c) => ({ prompt: c.slice(0, -1), completion: c.slice(-1) })),
      sha256: await sha256Hex(toJsonl({ conversations })),
    },
  };
}

/** JSON has no NaN: the recipe writes null for it, and so does the fixture. */
function nullify<T>(x: T): T {
  return JSON.parse(JSON.stringify(x, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)));
}

describe('the recipe in Python mirrors the lab', () => {
  it('the fixture holds what the lab computes now', async () => {
    const cases = nullify(await buildCases());
    if (process.env.UPDATE_RECIPE_CASES) fs.writeFileSync(FIXTURE, JSON.stringify(cases, null, 1) + '\n');
    const stored = JSON.parse(fs.readFileSync(FIXTURE, 'utf8'));
    expect(
      stored,
      'tests/fixtures/recipe-cases.json is stale: rerun with UPDATE_RECIPE_CASES=1 and check the diff',
    ).toEqual(cases);
  });

  it('labmath.py reproduces every case (python3 -m unittest tests/python/test_labmath.py)', () => {
    const r = python(['-m', 'unittest', '-v', 'tests/python/test_labmath.py']);
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stderr).toMatch(/^OK/m);
    expect(r.stderr).not.toMatch(/skipped/);
  });

  it('train.py and labmath.py compile', () => {
    const r = python(['-m', 'py_compile', 'src/lab/recipe/train.py', 'src/lab/recipe/labmath.py']);
    expect(r.status, r.stderr).toBe(0);
  });
});
