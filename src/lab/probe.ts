/**
 * Probing: the letter-softmax scorer of the paper (and three alternatives), used for the base model's
 * parameter knowledge and for every evaluation. Results are plain data, storable as JSON.
 */
import { LabError, TokenizerLetterError } from './errors';
import type { AdapterRef, LabModel, LabTokenizer } from './model';
import { DEFAULT_LAYOUT, layoutPrompts, pickShots, rotate, validateLayout, type PromptLayout } from './prompts';
import { LETTERS, type Question } from './questions/types';
import { exemplarFewShot, slickCounts, slickOf, slickTeachingTable, type SlickCategory, type SlickItem, type SlickSettings, type SlickTeachingTable } from './slick';

/**
 * How a question is put to the model. `kshot`: the paper's base-model protocol, k dev examples and no chat
 * template. `chat`: 0-shot inside the model's chat template, as the paper scores tuned models.
 */
export type ScoringFormat = { kind: 'kshot'; shots: number } | { kind: 'chat' };

/**
 * What the model believes a question's answer is. `letter`: the paper's softmax over the four letters.
 * `debiased`: the letter softmax under the four cyclic shifts of the options, each option's probability
 * averaged by its content, so a habit of answering "A" is no belief. `continuation`: each option's text as
 * the answer (cloze), free of letters by construction.
 */
export type BeliefMethod = 'letter' | 'debiased' | 'continuation';
/** `strict` is a probe rule on top of `letter`: known only when right under all four option orders. */
export type ProbeMethod = 'letter' | 'strict' | 'debiased' | 'continuation';

/** The belief method a probe method scores with (and evaluation should score tuned models with). */
export function beliefMethodOf(method: ProbeMethod): BeliefMethod {
  return method === 'strict' ? 'letter' : method;
}

export interface ScoreOptions {
  format: ScoringFormat;
  method?: BeliefMethod;
  /** How questions are written (default: the paper's MMLU layout). */
  layout?: PromptLayout;
  /** Solved examples (MMLU's dev set), drawn per subject for the k-shot prefix. */
  fewShot?: readonly Question[];
  adapter?: AdapterRef | null;
  /** Prompts per model call (`debiased`: batchSize / 4 questions, each in its four shifts). */
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?(done: number, total: number): void;
}

export type Probs4 = [number, number, number, number];

/** One question as the model answered it. `probs` are over the options A–D in the question's order. */
export interface ScoredQuestion {
  id: string;
  subject: string;
  gold: number;
  /** For `debiased`: each option's letter probability averaged over the four shifts, in this question's order. */
  probs: Probs4;
  pred: number;
  confidence: number;
  correct: boolean;
  /** `debiased` only: the plain letter softmax of the unshifted question (where the position habit shows). */
  letterProbs?: Probs4;
}

/**
 * The single token id of each letter as the tokenizer spells it right after `context`:
 * encode(context + letter) must be encode(context) plus exactly one token.
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

/**
 * Where the answer letter sits in a format: the four renderings of a solved question (k-shot: the question
 * then `layout.answer`; chat: the conversation with the letter as the assistant's reply, as training renders
 * it) must be the same tokens but one. `ids` are that token for A–D; `tail` counts the tokens from it to the
 * rendering's end, so a question's scoring context is its own rendering less `tail` tokens.
 */
export interface LetterSlot {
  ids: number[];
  tail: number;
}

const SAMPLE: Question = { id: 'sample', subject: 'sample', question: 'Question?', options: ['one', 'two', 'three', 'four'], answer: 0 };

/** The text of `q` answered with `reply` (a letter, or an option's text for cloze), without the k-shot prefix. */
function answeredText(tokenizer: LabTokenizer, q: Question, reply: string, format: ScoringFormat, layout: PromptLayout): string {
  const p = layoutPrompts(layout);
  if (format.kind === 'kshot') return p.formatQuestion(q) + p.formatAnswer(reply);
  return tokenizer.applyChatTemplate([
    { role: 'user', content: p.chatUserText(q) },
    { role: 'assistant', content: reply },
  ]);
}

export function formatLetterSlot(tokenizer: LabTokenizer, format: ScoringFormat, layout: PromptLayout = DEFAULT_LAYOUT): LetterSlot {
  const seqs = LETTERS.map((l) => tokenizer.encode(answeredText(tokenizer, SAMPLE, l, format, layout)));
  const where = format.kind === 'kshot' ? `after the question (answer layout ${JSON.stringify(layout.answer)})` : "in the chat template's assistant reply";
  const n = seqs[0].length;
  const diff = seqs.map((s) => s.findIndex((t, i) => t !== seqs[0][i]));
  const at = Math.max(...diff);
  const ok = at >= 0 && seqs.every((s, k) => s.length === n && (k === 0 || diff[k] === at) && s.every((t, i) => i === at || t === seqs[0][i]));
  const ids = seqs.map((s) => s[at]);
  if (!ok || new Set(ids).size !== 4) {
    const cp = commonPrefix(seqs);
    const spell = (k: number) => seqs[k].slice(cp, Math.max(cp + 1, seqs[k].length - commonSuffix(seqs))).join(', ');
    throw new LabError(
      'letter-not-one-token',
      `The tokenizer does not spell the answer letters ${where} as one token each: "A" becomes (${spell(0)}) and "B" (${spell(1)}).`,
      'Letter scoring needs each option letter to be a single token where the answer goes; change the layout\'s "answer", or use continuation scoring for this model.',
    );
  }
  return { ids, tail: n - at };
}

/** The letter ids a format scores: ` A`..` D` after `Answer:`, or the chat template's reply `A`..`D`. */
export function formatLetterIds(tokenizer: LabTokenizer, format: ScoringFormat, layout: PromptLayout = DEFAULT_LAYOUT): number[] {
  return formatLetterSlot(tokenizer, format, layout).ids;
}

function softmax4(lp: ArrayLike<number>): Probs4 {
  const m = Math.max(lp[0], lp[1], lp[2], lp[3]);
  const e = [0, 1, 2, 3].map((i) => Math.exp(lp[i] - m));
  const z = e[0] + e[1] + e[2] + e[3];
  return e.map((x) => x / z) as Probs4;
}

function argmax4(p: ArrayLike<number>): number {
  let k = 0;
  for (let i = 1; i < 4; i++) if (p[i] > p[k]) k = i;
  return k;
}

function scored(q: Question, probs: Probs4): ScoredQuestion {
  const pred = argmax4(probs);
  return { id: q.id, subject: q.subject, gold: q.answer, probs, pred, confidence: probs[pred], correct: pred === q.answer };
}

/**
 * Averages by content: `shifted[s]` are the letter probabilities of `rotate(q, s)`, whose option i is the
 * question's option (i + s) mod 4; the result is in the question's own order.
 */
export function debiasedProbs(shifted: readonly ArrayLike<number>[]): Probs4 {
  const out: Probs4 = [0, 0, 0, 0];
  shifted.forEach((p, s) => {
    for (let i = 0; i < 4; i++) out[(i + s) % 4] += p[i] / shifted.length;
  });
  return out;
}

function commonSuffix(seqs: readonly (readonly number[])[]): number {
  return commonPrefix(seqs.map((s) => [...s].reverse()));
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
  /** Full token ids of the scoring context (prefix included): what comes before the answer letter. */
  ids: number[];
  key: string;
  /** Prompts with the same key share their first `prefixLen` tokens (the k-shot prefix of a subject). */
  prefixLen: number;
  /** The k-shot prefix (with BOS) this question's own ids continue; empty for chat. */
  shotIds: number[];
}

/** Token ids of every question's scoring context, grouped by the prefix they share. */
function preparePrompts(
  tokenizer: LabTokenizer,
  qs: readonly Question[],
  format: ScoringFormat,
  fewShot: readonly Question[],
  layout: PromptLayout,
  slot: LetterSlot,
): Prepared[] {
  const bos = tokenizer.bosTokenId === null ? [] : [tokenizer.bosTokenId];
  // The question answered "A", less the letter and what follows it: exactly the tokens training and the
  // solved examples put before a letter (a template's space or newline before the reply included).
  const context = (q: Question) => {
    const ids = tokenizer.encode(answeredText(tokenizer, q, LETTERS[0], format, layout));
    if (ids[ids.length - slot.tail] !== slot.ids[0]) {
      throw new LabError('letter-not-one-token', `Question ${q.id}: the answer letter does not stand where the layout puts it (its text merges with the letter).`, 'Change the layout\'s "answer", or use continuation scoring.');
    }
    return ids.slice(0, ids.length - slot.tail);
  };
  if (format.kind === 'chat') {
    const out = qs.map((q) => ({ q, ids: context(q), key: q.subject, prefixLen: 0, shotIds: [] as number[] }));
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
    const shots = pickShots(fewShot, q.subject, format.shots, q.id.replace(/#shift\d$/, ''));
    const key = `${q.subject}\u0000${shots.map((s) => s.id).join('\u0000')}`;
    let prefix = prefixCache.get(key);
    if (!prefix) {
      prefix = [...bos, ...tokenizer.encode(layoutPrompts(layout).fewShotPrefix(q.subject, shots))];
      prefixCache.set(key, prefix);
    }
    return { q, ids: [...prefix, ...context(q)], key, prefixLen: prefix.length, shotIds: prefix };
  });
}

/**
 * Cloze: each option's text stands where the letter would (the layout's answer, or the assistant's reply),
 * and its tokens up to the format's closing tail are scored.
 */
function continuationRequests(tokenizer: LabTokenizer, p: Prepared, format: ScoringFormat, layout: PromptLayout, slot: LetterSlot) {
  const ctx = p.ids.slice(p.shotIds.length);
  const suffix = slot.tail - 1;
  return p.q.options.map((o) => {
    const ids = tokenizer.encode(answeredText(tokenizer, p.q, o, format, layout));
    const cut = commonPrefix([ids, ctx]);
    const cont = ids.slice(cut, ids.length - suffix);
    if (cont.length === 0) throw new LabError('empty-option', `Question ${p.q.id} has an option that encodes to no tokens.`, 'Check the question file: an option is empty.');
    return { prompt: [...p.shotIds, ...ids.slice(0, cut)], cont };
  });
}

/**
 * Scores questions with the letter softmax (renormalised over the four letters), its debiased average over
 * the four cyclic shifts, or by continuation (summed log-probability of each option's text). Prompts sharing
 * a prefix (the k-shot examples of a subject, the chat template's opening; for `debiased` everything of a
 * question before its options) pass it once as `prefix`, so the model can reuse its KV cache.
 */
export async function scoreQuestions(model: LabModel, questions: readonly Question[], opts: ScoreOptions): Promise<ScoredQuestion[]> {
  const method = opts.method ?? 'letter';
  const layout = opts.layout ? validateLayout(opts.layout) : DEFAULT_LAYOUT;
  const batch = Math.max(1, opts.batchSize ?? 8);
  const tok = model.tokenizer;
  const slot = formatLetterSlot(tok, opts.format, layout);
  const adapter = opts.adapter ?? null;
  const out = new Map<string, ScoredQuestion>();
  let done = 0;
  const progress = (n: number) => {
    done += n;
    opts.onProgress?.(done, questions.length);
  };

  if (method === 'debiased') {
    // A call scores batch / 4 questions of one subject, each in its four shifts, behind their shared prefix
    // (the k-shot examples or the template's opening): few calls, as the letter method makes.
    const shifted = questions.flatMap((q) => [0, 1, 2, 3].map((s) => rotate(q, s)));
    const prepared = preparePrompts(tok, shifted, opts.format, opts.fewShot ?? [], layout, slot);
    const bySubject = new Map<string, number[]>();
    questions.forEach((_, k) => bySubject.set(prepared[4 * k].key, [...(bySubject.get(prepared[4 * k].key) ?? []), k]));
    const per = Math.max(1, Math.floor(batch / 4));
    for (const ks of bySubject.values()) {
      for (let i = 0; i < ks.length; i += per) {
        opts.signal?.throwIfAborted();
        const chunk = ks.slice(i, i + per);
        const rows = chunk.flatMap((k) => prepared.slice(4 * k, 4 * k + 4));
        const cut = Math.min(commonPrefix(rows.map((p) => p.ids)), Math.min(...rows.map((p) => p.ids.length)) - 1);
        const lps = await model.nextTokenLogProbs({ prefix: rows[0].ids.slice(0, cut), prompts: rows.map((p) => p.ids.slice(cut)), candidates: slot.ids, adapter });
        chunk.forEach((k, j) => {
          const letterProbs = lps.slice(4 * j, 4 * j + 4).map(softmax4);
          out.set(questions[k].id, { ...scored(questions[k], debiasedProbs(letterProbs)), letterProbs: letterProbs[0] });
        });
        progress(chunk.length);
      }
    }
    return questions.map((q) => out.get(q.id)!);
  }

  const prepared = preparePrompts(tok, questions, opts.format, opts.fewShot ?? [], layout, slot);
  const groups = new Map<string, Prepared[]>();
  for (const p of prepared) groups.set(p.key, [...(groups.get(p.key) ?? []), p]);
  for (const group of groups.values()) {
    for (let i = 0; i < group.length; i += batch) {
      opts.signal?.throwIfAborted();
      const chunk = group.slice(i, i + batch);
      if (method === 'letter') {
        const cut = chunk[0].prefixLen;
        const lps = await model.nextTokenLogProbs({ prefix: chunk[0].ids.slice(0, cut), prompts: chunk.map((c) => c.ids.slice(cut)), candidates: slot.ids, adapter });
        chunk.forEach((c, j) => out.set(c.q.id, scored(c.q, softmax4(lps[j]))));
      } else {
        const reqs = chunk.flatMap((c) => continuationRequests(tok, c, opts.format, layout, slot));
        const sums = await model.continuationLogProbs({ prompts: reqs.map((r) => r.prompt), continuations: reqs.map((r) => r.cont), adapter });
        chunk.forEach((c, j) => out.set(c.q.id, scored(c.q, softmax4(sums.slice(4 * j, 4 * j + 4)))));
      }
      progress(chunk.length);
    }
  }
  return questions.map((q) => out.get(q.id)!);
}

export type KnowledgeStatus = 'known' | 'unknown' | 'discarded';

export interface ProbeItem extends ScoredQuestion {
  status: KnowledgeStatus;
  /** Strict probe: how many of the four cyclic shifts the model answered right. */
  shiftsCorrect?: number;
  /** SliCK (settings.slick): the category from several exemplar sets, the greedy-right share and the exact sampled arm. */
  slick?: SlickItem;
}

export interface ProbeSettings {
  format: ScoringFormat;
  method: ProbeMethod;
  /** A question counts (known or unknown) only when its top probability exceeds this (paper: 0.5). */
  threshold: number;
  /** Below this many known or unknown questions a condition is too small to mean much (warning). */
  minPerCondition?: number;
  batchSize?: number;
  /** How questions are written (default: the paper's MMLU layout). */
  layout?: PromptLayout;
  /** Also give each question a SliCK category (Gekhman et al. 2024; src/lab/slick.ts). */
  slick?: SlickSettings;
}

/**
 * The base model's letter-position habit: the share of questions whose plain letter answer is A, B, C, D
 * against the share of gold answers at each letter. `scoredBy: 'continuation'` when only cloze scores exist
 * (then `predicted` is where its chosen options stand).
 */
export interface LetterBias {
  n: number;
  scoredBy: 'letter' | 'continuation';
  predicted: Probs4;
  gold: Probs4;
}

export interface ProbeResult {
  modelId: string;
  adapterId: string | null;
  settings: ProbeSettings;
  items: ProbeItem[];
  counts: { total: number; known: number; unknown: number; discarded: number };
  accuracy: number;
  letterBias: LetterBias;
  /** Human-readable, with numbers: near-chance accuracy, conditions too small, missing few-shot examples. */
  warnings: string[];
  /** SliCK (settings.slick): questions per category, and category × teaching group where questions carry groups (the toy world). */
  slick?: { counts: Record<SlickCategory, number>; byTeaching: SlickTeachingTable | null };
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
  const method = beliefMethodOf(settings.method);
  const all = settings.method === 'strict' ? questions.flatMap((q) => [q, rotate(q, 1), rotate(q, 2), rotate(q, 3)]) : [...questions];
  const orders = settings.method === 'strict' || settings.method === 'debiased' ? 4 : 1;
  const slickUnits = settings.slick ? settings.slick.prompts * questions.length * orders : 0;
  const scores = await scoreQuestions(model, all, {
    ...opts,
    format: settings.format,
    method,
    batchSize: settings.batchSize,
    layout: settings.layout,
    onProgress: opts.onProgress && ((done) => opts.onProgress!(done, all.length + slickUnits)),
  });
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
  const bias = letterBias(items, method === 'continuation' ? 'continuation' : 'letter');
  let slick: ProbeResult['slick'];
  if (settings.slick) {
    const per = await slickPrompts(model, questions, settings, settings.slick, byId, opts, (done) => opts.onProgress?.(all.length + done, all.length + slickUnits));
    for (const it of items) it.slick = slickOf(per.get(it.id)!, settings.slick);
    const groupOf = new Map(questions.filter((q) => q.group).map((q) => [q.id, q.group!]));
    slick = { counts: slickCounts(items), byTeaching: slickTeachingTable(items, groupOf) };
  }
  return {
    modelId: model.id,
    adapterId: opts.adapter?.id ?? null,
    settings,
    items,
    counts,
    accuracy,
    letterBias: bias,
    warnings: probeWarnings(questions, counts, accuracy, settings, opts.fewShot ?? [], bias),
    ...(slick ? { slick } : {}),
  };
}

/**
 * Every question's option distribution under each SliCK prompt: exemplar set j (0: the probe's own prompt,
 * whose scores are reused unless the probe is debiased) × the four option orders for the debiased and strict
 * probes. Each entry is in that prompt's option order, with that order's gold.
 */
async function slickPrompts(
  model: LabModel,
  questions: readonly Question[],
  settings: ProbeSettings,
  s: SlickSettings,
  probed: ReadonlyMap<string, ScoredQuestion>,
  opts: Omit<ScoreOptions, 'format' | 'method' | 'batchSize'>,
  onProgress: (done: number) => void,
): Promise<Map<string, { probs: Probs4; gold: number }[]>> {
  const orders = settings.method === 'strict' || settings.method === 'debiased' ? [0, 1, 2, 3] : [0];
  const method: BeliefMethod = settings.method === 'continuation' ? 'continuation' : 'letter';
  const k = settings.format.kind === 'kshot' ? settings.format.shots : 0;
  const subjects = [...new Set(questions.map((q) => q.subject))];
  const out = new Map(questions.map((q) => [q.id, [] as { probs: Probs4; gold: number }[]]));
  const origin = (id: string) => id.replace(/#shift\d$/, '');
  let done = 0;
  for (let j = 0; j < s.prompts; j++) {
    opts.signal?.throwIfAborted();
    // The chat format has no exemplars: one prompt (in each option order).
    const ex = settings.format.kind === 'kshot' ? exemplarFewShot(opts.fewShot ?? [], subjects, k, j, s) : j === 0 ? { fewShot: [], subjects: new Set(subjects) } : null;
    if (!ex) break;
    const asked = questions.filter((q) => ex.subjects.has(q.subject)).flatMap((q) => orders.map((o) => (o === 0 ? q : rotate(q, o))));
    let scored: ScoredQuestion[];
    if (j === 0 && settings.method !== 'debiased') {
      scored = asked.map((q) => probed.get(q.id)!);
    } else {
      const base = done;
      scored = await scoreQuestions(model, asked, { ...opts, fewShot: ex.fewShot, format: settings.format, method, batchSize: settings.batchSize, layout: settings.layout, onProgress: (d) => onProgress(base + d) });
    }
    scored.forEach((x) => out.get(origin(x.id))!.push({ probs: x.probs, gold: x.gold }));
    done += asked.length;
    onProgress(done);
  }
  return out;
}

/** Shares of each letter among plain letter answers (`letterProbs` when debiased) and among gold answers. */
export function letterBias(items: readonly ScoredQuestion[], scoredBy: LetterBias['scoredBy'] = 'letter'): LetterBias {
  const predicted: Probs4 = [0, 0, 0, 0];
  const gold: Probs4 = [0, 0, 0, 0];
  const n = items.length;
  for (const it of items) {
    predicted[it.letterProbs ? argmax4(it.letterProbs) : it.pred]++;
    gold[it.gold]++;
  }
  const share = (c: Probs4) => c.map((x) => (n ? x / n : 0)) as Probs4;
  return { n, scoredBy, predicted: share(predicted), gold: share(gold) };
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
  bias?: LetterBias,
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
  if (bias && bias.scoredBy === 'letter') {
    // A letter chosen far more often than it is right is a position habit, not knowledge.
    const k = argmax4(bias.predicted);
    if (bias.predicted[k] > 0.4 && bias.predicted[k] > bias.gold[k] + 0.1) {
      w.push(
        `The model answers "${LETTERS[k]}" to ${pct(bias.predicted[k])} of the questions, though ${pct(bias.gold[k])} have gold "${LETTERS[k]}": its letter answers follow position. ` +
          (settings.method === 'debiased' ? 'The debiased probe averages this out.' : 'Use the debiased probe (beliefs averaged over the four option orders) or continuation scoring.'),
      );
    }
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
