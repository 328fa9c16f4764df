/**
 * Probing: the letter-softmax scorer of the paper (and two alternatives), used for the base model's
 * parameter knowledge and for every evaluation. Results are plain data, storable as JSON.
 */
import { LabError, TokenizerLetterError } from './errors';
import type { AdapterRef, LabModel, LabTokenizer } from './model';
import { chatUserText, fewShotPrefix, formatQuestion, pickShots, rotate } from './prompts';
import type { Question } from './questions/types';

/**
 * How a question is put to the model. `kshot`: the paper's base-model protocol, k dev examples and no chat
 * template. `chat`: 0-shot inside the model's chat template, as the paper scores tuned models.
 */
export type ScoringFormat = { kind: 'kshot'; shots: number } | { kind: 'chat' };

export type ScoreMethod = 'letter' | 'continuation';
export type ProbeMethod = ScoreMethod | 'strict';

export interface ScoreOptions {
  format: ScoringFormat;
  method?: ScoreMethod;
  /** Solved examples (MMLU's dev set), drawn per subject for the k-shot prefix. */
  fewShot?: readonly Question[];
  adapter?: AdapterRef | null;
  /** Prompts per model call. */
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?(done: number, total: number): void;
}

/** One question as the model answered it. `probs` are over the options A–D in the question's order. */
export interface ScoredQuestion {
  id: string;
  subject: string;
  gold: number;
  probs: [number, number, number, number];
  pred: number;
  confidence: number;
  correct: boolean;
}

const LETTER_TEXT = ['A', 'B', 'C', 'D'];

/**
 * The single token id of each letter as the tokenizer spells it right after `context`
 * (` A` after `Answer:`, `A` after a chat generation prompt): encode(context + letter) must be
 * encode(context) plus exactly one token.
 */
export function letterTokenIds(tokenizer: LabTokenizer, context: string, letters: readonly string[]): number[] {
  const base = tokenizer.encode(context);
  return letters.map((l) => {
    const ids = tokenizer.encode(context + l);
    const extra = ids.slice(base.length);
    if (ids.length !== base.length + 1 || base.some((t, i) => ids[i] !== t)) throw new TokenizerLetterError(l, context, extra.length ? extra : ids);
    return ids[ids.length - 1];
  });
}

/** The letter ids a format scores: ` A`..` D` after `Answer:`, or `A`..`D` after the chat generation prompt. */
export function formatLetterIds(tokenizer: LabTokenizer, format: ScoringFormat): number[] {
  if (format.kind === 'kshot') return letterTokenIds(tokenizer, 'Answer:', LETTER_TEXT.map((l) => ` ${l}`));
  const gen = tokenizer.applyChatTemplate([{ role: 'user', content: 'Answer:' }], { addGenerationPrompt: true });
  return letterTokenIds(tokenizer, gen, LETTER_TEXT);
}

function softmax4(lp: ArrayLike<number>): [number, number, number, number] {
  const m = Math.max(lp[0], lp[1], lp[2], lp[3]);
  const e = [0, 1, 2, 3].map((i) => Math.exp(lp[i] - m));
  const z = e[0] + e[1] + e[2] + e[3];
  return e.map((x) => x / z) as [number, number, number, number];
}

function scored(q: Question, probs: [number, number, number, number]): ScoredQuestion {
  let pred = 0;
  for (let i = 1; i < 4; i++) if (probs[i] > probs[pred]) pred = i;
  return { id: q.id, subject: q.subject, gold: q.answer, probs, pred, confidence: probs[pred], correct: pred === q.answer };
}

function commonPrefix(seqs: readonly (readonly number[])[]): number {
  if (seqs.length === 0) return 0;
  let n = Math.min(...seqs.map((s) => s.length));
  for (const s of seqs) {
    let i = 0;
    while (i < n && s[i] === seqs[0][i]) i++;
    n = i;
  }
  return n;
}

interface Prepared {
  q: Question;
  /** Full token ids of the prompt (prefix included). */
  ids: number[];
  /** Prompts with the same key share their first `prefixLen` tokens (the k-shot prefix of a subject). */
  key: string;
  prefixLen: number;
}

/** Token ids of every question's prompt, grouped by the prefix they share. */
function preparePrompts(tokenizer: LabTokenizer, qs: readonly Question[], format: ScoringFormat, fewShot: readonly Question[]): Prepared[] {
  const bos = tokenizer.bosTokenId === null ? [] : [tokenizer.bosTokenId];
  if (format.kind === 'chat') {
    const out = qs.map((q) => {
      const text = tokenizer.applyChatTemplate([{ role: 'user', content: chatUserText(q) }], { addGenerationPrompt: true });
      return { q, ids: tokenizer.encode(text), key: q.subject, prefixLen: 0 };
    });
    // The template's opening and the subject header are shared: pass them once, as for k-shot.
    const groups = new Map<string, Prepared[]>();
    for (const p of out) groups.set(p.key, [...(groups.get(p.key) ?? []), p]);
    for (const g of groups.values()) {
      const n = Math.min(commonPrefix(g.map((p) => p.ids)), Math.min(...g.map((p) => p.ids.length)) - 1);
      for (const p of g) p.prefixLen = g.length > 1 ? n : 0;
    }
    return out;
  }
  const prefixCache = new Map<string, number[]>();
  return qs.map((q) => {
    // Shots come from the dev set, so a pool question is never its own example; the id check covers user banks.
    const shots = pickShots(fewShot, q.subject, format.shots, q.id);
    const key = `${q.subject}\u0000${shots.map((s) => s.id).join('\u0000')}`;
    let prefix = prefixCache.get(key);
    if (!prefix) {
      prefix = [...bos, ...tokenizer.encode(fewShotPrefix(q.subject, shots))];
      prefixCache.set(key, prefix);
    }
    return { q, ids: [...prefix, ...tokenizer.encode(formatQuestion(q))], key, prefixLen: prefix.length };
  });
}

/**
 * Scores questions with the letter softmax (renormalised over the four letters) or by continuation
 * (summed log-probability of each option's text). Prompts sharing a prefix (the k-shot examples of a subject,
 * the chat template's opening) pass it once as `prefix`, so the model can reuse its KV cache.
 */
export async function scoreQuestions(model: LabModel, questions: readonly Question[], opts: ScoreOptions): Promise<ScoredQuestion[]> {
  const method = opts.method ?? 'letter';
  const batch = Math.max(1, opts.batchSize ?? 8);
  const prepared = preparePrompts(model.tokenizer, questions, opts.format, opts.fewShot ?? []);
  const out = new Map<string, ScoredQuestion>();
  const groups = new Map<string, Prepared[]>();
  for (const p of prepared) groups.set(p.key, [...(groups.get(p.key) ?? []), p]);
  const letters = method === 'letter' ? formatLetterIds(model.tokenizer, opts.format) : [];
  let done = 0;
  for (const group of groups.values()) {
    for (let i = 0; i < group.length; i += batch) {
      opts.signal?.throwIfAborted();
      const chunk = group.slice(i, i + batch);
      if (method === 'letter') {
        const cut = chunk[0].prefixLen;
        const lps = await model.nextTokenLogProbs({
          prefix: chunk[0].ids.slice(0, cut),
          prompts: chunk.map((c) => c.ids.slice(cut)),
          candidates: letters,
          adapter: opts.adapter ?? null,
        });
        chunk.forEach((c, j) => out.set(c.q.id, scored(c.q, softmax4(lps[j]))));
      } else {
        const sep = opts.format.kind === 'kshot' ? ' ' : '';
        const conts = chunk.flatMap((c) => c.q.options.map((o) => model.tokenizer.encode(sep + o)));
        const sums = await model.continuationLogProbs({
          prompts: chunk.flatMap((c) => [c.ids, c.ids, c.ids, c.ids]),
          continuations: conts,
          adapter: opts.adapter ?? null,
        });
        chunk.forEach((c, j) => out.set(c.q.id, scored(c.q, softmax4(sums.slice(4 * j, 4 * j + 4)))));
      }
      done += chunk.length;
      opts.onProgress?.(done, questions.length);
    }
  }
  return questions.map((q) => out.get(q.id)!);
}

export type KnowledgeStatus = 'known' | 'unknown' | 'discarded';

export interface ProbeItem extends ScoredQuestion {
  status: KnowledgeStatus;
  /** Strict probe: how many of the four cyclic shifts the model answered right. */
  shiftsCorrect?: number;
}

export interface ProbeSettings {
  format: ScoringFormat;
  method: ProbeMethod;
  /** A question counts (known or unknown) only when its top probability exceeds this (paper: 0.5). */
  threshold: number;
  /** Below this many known or unknown questions a condition is too small to mean much (warning). */
  minPerCondition?: number;
  batchSize?: number;
}

export interface ProbeResult {
  modelId: string;
  adapterId: string | null;
  settings: ProbeSettings;
  items: ProbeItem[];
  counts: { total: number; known: number; unknown: number; discarded: number };
  accuracy: number;
  /** Human-readable, with numbers: near-chance accuracy, conditions too small, missing few-shot examples. */
  warnings: string[];
}

export const PAPER_PROBE: ProbeSettings = { format: { kind: 'kshot', shots: 5 }, method: 'letter', threshold: 0.5, minPerCondition: 20 };

/**
 * The probe: scores the training pool with the base model and sorts each question into known
 * (right and confident), unknown (wrong and confident) or discarded (not confident; or, for the strict
 * probe, right but not under all four cyclic shifts of its options).
 */
export async function probe(
  model: LabModel,
  questions: readonly Question[],
  settings: ProbeSettings,
  opts: Omit<ScoreOptions, 'format' | 'method' | 'batchSize'> = {},
): Promise<ProbeResult> {
  if (!(settings.threshold >= 0 && settings.threshold < 1)) {
    throw new LabError('invalid-threshold', `The probe threshold is ${settings.threshold}; it must be in [0, 1).`, 'The paper uses 0.5.');
  }
  const method: ScoreMethod = settings.method === 'continuation' ? 'continuation' : 'letter';
  const all = settings.method === 'strict' ? questions.flatMap((q) => [q, rotate(q, 1), rotate(q, 2), rotate(q, 3)]) : [...questions];
  const scores = await scoreQuestions(model, all, { ...opts, format: settings.format, method, batchSize: settings.batchSize });
  const byId = new Map(scores.map((s) => [s.id, s]));
  const items: ProbeItem[] = questions.map((q) => {
    const s = byId.get(q.id)!;
    const confident = s.confidence > settings.threshold;
    if (settings.method !== 'strict') return { ...s, status: !confident ? 'discarded' : s.correct ? 'known' : 'unknown' };
    const shiftsCorrect = [0, 1, 2, 3].filter((k) => (k === 0 ? s : byId.get(`${q.id}#shift${k}`)!).correct).length;
    const status: KnowledgeStatus = !confident ? 'discarded' : !s.correct ? 'unknown' : shiftsCorrect === 4 ? 'known' : 'discarded';
    return { ...s, status, shiftsCorrect };
  });
  const counts = {
    total: items.length,
    known: items.filter((i) => i.status === 'known').length,
    unknown: items.filter((i) => i.status === 'unknown').length,
    discarded: items.filter((i) => i.status === 'discarded').length,
  };
  const accuracy = items.length ? items.filter((i) => i.correct).length / items.length : NaN;
  return {
    modelId: model.id,
    adapterId: opts.adapter?.id ?? null,
    settings,
    items,
    counts,
    accuracy,
    warnings: probeWarnings(questions, counts, accuracy, settings, opts.fewShot ?? []),
  };
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)} %`;
}

export function probeWarnings(
  questions: readonly Question[],
  counts: ProbeResult['counts'],
  accuracy: number,
  settings: ProbeSettings,
  fewShot: readonly Question[],
): string[] {
  const w: string[] = [];
  const n = counts.total;
  if (n === 0) return ['No questions were probed.'];
  // Chance is 25 %; within two standard errors (or 5 points) of it the known/unknown split is mostly luck.
  const margin = Math.max(0.05, 2 * Math.sqrt((0.25 * 0.75) / n));
  if (accuracy < 0.25 + margin) {
    w.push(
      `Accuracy ${pct(accuracy)} on ${n} questions is near chance (25 %, margin ${pct(margin)}): many "known" answers will be lucky guesses. ` +
        'Choose a stronger model, an easier subject, the strict probe, or the toy world.',
    );
  }
  const min = settings.minPerCondition ?? 20;
  const rule = settings.method === 'strict' ? 'right under all four option orders' : `confidence > ${settings.threshold}`;
  if (counts.known < min) {
    w.push(`Only ${counts.known} known questions (${rule}) of ${n}: the harmonious condition would have ${counts.known} examples (fewer than ${min}).`);
  }
  if (counts.unknown < min) {
    w.push(`Only ${counts.unknown} unknown questions of ${n}: the incompatible and self-aligning conditions would have ${counts.unknown} examples (fewer than ${min}).`);
  }
  if (counts.discarded > 0.5 * n) {
    w.push(`${counts.discarded} of ${n} questions (${pct(counts.discarded / n)}) were discarded as not confident (${rule}); consider a lower threshold.`);
  }
  if (settings.format.kind === 'kshot' && settings.format.shots > 0) {
    const k = settings.format.shots;
    for (const subject of [...new Set(questions.map((q) => q.subject))].sort()) {
      const have = fewShot.filter((e) => e.subject === subject).length;
      if (have < k) w.push(`Subject ${subject} has ${have} few-shot example(s) for a ${k}-shot prompt; its prompts use ${have}.`);
    }
  }
  return w;
}
