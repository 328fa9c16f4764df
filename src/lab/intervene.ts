/**
 * The knowledge intervention: from the probe's known/unknown split, the paper's IFT datasets
 * (harmonious, incompatible, self-aligning, their mixtures) and a random-wrong control, all the same size.
 */
import { ConditionTooSmallError, LabError } from './errors';
import type { GeneralExample } from './general';
import { sha256Hex } from './hash';
import type { ChatMessage, LabModel, LabTokenizer, TrainExample } from './model';
import { DEFAULT_LAYOUT, layoutPrompts, type PromptLayout } from './prompts';
import type { ProbeResult } from './probe';
import { LETTERS, type Question } from './questions/types';
import { rng, shuffled, subSeed } from './random';

export type ConditionKind = 'harmonious' | 'incompatible' | 'selfAligning' | 'randomWrong' | 'mixture';

/** The paper's mixture ratios: the fraction of incompatible items replaced by their self-aligning versions. */
export const PAPER_RATIOS = [0, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1] as const;

/** Where an item's answer comes from. */
export type ResponseSource = 'gold' | 'belief' | 'self' | 'randomWrong';

export interface IftItem {
  question: Question;
  /** The option index the response gives. */
  response: number;
  source: ResponseSource;
  explanation?: string;
}

export interface ConditionSet {
  /** `harmonious`, `incompatible`, `selfAligning`, `randomWrong`, or `mixture-0.2`. */
  name: string;
  kind: ConditionKind;
  ratio?: number;
  items: IftItem[];
}

export interface BuildOptions {
  /** Which conditions to build; mixtures take `ratios`. */
  conditions: readonly ConditionKind[];
  ratios?: readonly number[];
  /** Items per condition; default the largest size every requested condition can have. */
  size?: number;
  seed: number;
  /**
   * Spread draws: this data seed is number `index` of `of` (the grid's data seeds in order); the pool is shuffled
   * once with `poolSeed` and each data seed takes its own evenly spaced block of it, so that the seeds' draws
   * share as few items as the pool allows. Without it each seed draws at random.
   */
  block?: { index: number; of: number; poolSeed: number };
}

/** n items of a pool for one data seed: at random, or its evenly spaced block of a pool shuffled once (then shuffled by the seed). */
function drawItems<T>(pool: readonly T[], n: number, seed: number, label: string, block: BuildOptions['block']): T[] {
  if (!block) return shuffled(pool, rng(subSeed(seed, label))).slice(0, n);
  const once = shuffled(pool, rng(subSeed(block.poolSeed, `${label}:pool`)));
  const U = once.length;
  const offset = Math.floor((block.index * U) / Math.max(1, block.of));
  const take = Array.from({ length: n }, (_, j) => once[(offset + j) % U]);
  return shuffled(take, rng(subSeed(seed, label)));
}

export function conditionName(kind: ConditionKind, ratio?: number): string {
  return kind === 'mixture' ? `mixture-${ratio}` : kind;
}

/**
 * Builds every requested condition at one size. Harmonious draws from known questions (response = gold,
 * which is the model's belief); the others share the *same* unknown questions: incompatible answers gold,
 * self-aligning the model's own wrong prediction (the probe's `pred`: for the debiased probe the option it
 * believes by content, at that option's position in the item's own order), random-wrong a seeded option that is neither gold nor the
 * prediction, and mixture r replaces a seeded fraction r of incompatible items by their self-aligning versions
 * (nested: the items replaced at r are among those replaced at every larger r).
 */
export function buildConditions(result: ProbeResult, questions: readonly Question[], opts: BuildOptions): ConditionSet[] {
  const byId = new Map(questions.map((q) => [q.id, q]));
  const known = result.items.filter((i) => i.status === 'known').sort((a, b) => (a.id < b.id ? -1 : 1));
  const unknown = result.items.filter((i) => i.status === 'unknown').sort((a, b) => (a.id < b.id ? -1 : 1));
  const counts = { known: known.length, unknown: unknown.length, requested: opts.size };
  const needKnown = opts.conditions.includes('harmonious');
  const needUnknown = opts.conditions.some((c) => c !== 'harmonious');
  const ratios = opts.ratios ?? PAPER_RATIOS;
  for (const r of ratios) if (!(r >= 0 && r <= 1)) throw new LabError('invalid-ratio', `Mixture ratio ${r} is outside [0, 1].`, 'Use ratios between 0 and 1.');
  if (opts.conditions.length === 0) throw new LabError('no-conditions', 'No condition was requested.', 'Choose at least one condition.');

  const feasible = Math.min(needKnown ? known.length : Infinity, needUnknown ? unknown.length : Infinity);
  const limiting = needKnown && (!needUnknown || known.length <= unknown.length) ? 'harmonious' : (opts.conditions.find((c) => c !== 'harmonious') ?? 'incompatible');
  const limitingName = limiting === 'mixture' ? 'mixture' : limiting;
  if (feasible === 0) {
    throw new ConditionTooSmallError(
      limitingName,
      counts,
      `It needs at least one ${limiting === 'harmonious' ? 'known' : 'unknown'} question. Lower the probe threshold, use the letter probe instead of the strict one, add training questions, or choose a model ${limiting === 'harmonious' ? 'that knows more of them' : 'that gets some of them wrong'}.`,
    );
  }
  if (opts.size !== undefined && (opts.size > feasible || opts.size < 1 || !Number.isInteger(opts.size))) {
    throw new ConditionTooSmallError(
      limitingName,
      counts,
      opts.size < 1 || !Number.isInteger(opts.size)
        ? `The size must be a whole number ≥ 1 (it is ${opts.size}).`
        : `Every condition must have the same size; the largest feasible is ${feasible}. Set the size to ${feasible} or less, lower the probe threshold, or add training questions.`,
    );
  }
  const n = opts.size ?? feasible;
  const harm = drawItems(known, n, opts.seed, 'harmonious', opts.block);
  const unk = drawItems(unknown, n, opts.seed, 'unknown', opts.block);
  const q = (id: string) => {
    const found = byId.get(id);
    if (!found) throw new LabError('probe-mismatch', `The probe has question ${id}, which the question list lacks.`, 'Probe the same questions you build datasets from.');
    return found;
  };
  const rw = rng(subSeed(opts.seed, 'randomWrong'));
  const randomWrong = unk.map((i) => {
    const choices = [0, 1, 2, 3].filter((o) => o !== i.gold && o !== i.pred);
    return choices[Math.floor(rw() * choices.length)];
  });
  const order = shuffled(
    unk.map((_, k) => k),
    rng(subSeed(opts.seed, 'mixture')),
  );

  const out: ConditionSet[] = [];
  for (const kind of opts.conditions) {
    if (kind === 'harmonious') out.push({ name: kind, kind, items: harm.map((i) => ({ question: q(i.id), response: i.gold, source: 'belief' })) });
    else if (kind === 'incompatible') out.push({ name: kind, kind, items: unk.map((i) => ({ question: q(i.id), response: i.gold, source: 'gold' })) });
    else if (kind === 'selfAligning') out.push({ name: kind, kind, items: unk.map((i) => ({ question: q(i.id), response: i.pred, source: 'self' })) });
    else if (kind === 'randomWrong')
      out.push({ name: kind, kind, items: unk.map((i, k) => ({ question: q(i.id), response: randomWrong[k], source: 'randomWrong' })) });
    else {
      for (const ratio of ratios) {
        const replaced = new Set(order.slice(0, Math.round(ratio * n)));
        out.push({
          name: conditionName('mixture', ratio),
          kind,
          ratio,
          items: unk.map((i, k) =>
            replaced.has(k) ? { question: q(i.id), response: i.pred, source: 'self' as const } : { question: q(i.id), response: i.gold, source: 'gold' as const },
          ),
        });
      }
    }
  }
  return out;
}

export type ResponseStyle = 'letter' | 'letter+explanation';

export interface ExplanationOptions {
  /** Solved examples with explanations to show the model (few-shot); any subject, same subject first. */
  examples?: readonly Question[];
  shots?: number;
  /** How questions are written (default: the paper's MMLU layout). */
  layout?: PromptLayout;
  maxNewTokens?: number;
  seed?: number;
  /**
   * An explanation the data itself can write for an option (the toy world: its own statement template with
   * that option), or null to let the model write one. Invented facts make model-written text noise.
   */
  explain?: (q: Question, option: number) => string | null;
  signal?: AbortSignal;
  onProgress?(done: number, total: number): void;
}

/**
 * Fills in explanations: gold responses take the data's explanation when it has one; every other
 * response (the model's own wrong answer, a random wrong option, or a gold answer without one) gets an
 * explanation written by the base model, few-shot, greedy, one line. Cached per (question, option).
 */
export async function writeExplanations(model: LabModel, sets: readonly ConditionSet[], opts: ExplanationOptions = {}): Promise<ConditionSet[]> {
  const withExpl = (opts.examples ?? []).filter((e) => e.explanation);
  const cache = new Map<string, string>();
  const todo = new Map<string, IftItem>();
  for (const s of sets) for (const it of s.items) if (!(it.source !== 'self' && it.source !== 'randomWrong' && it.response === it.question.answer && it.question.explanation)) todo.set(`${it.question.id}\u0000${it.response}`, it);
  let done = 0;
  const p = layoutPrompts(opts.layout ?? DEFAULT_LAYOUT);
  const sep = p.layout.shotSeparator;
  for (const [key, it] of todo) {
    opts.signal?.throwIfAborted();
    const q = it.question;
    const own = opts.explain?.(q, it.response) ?? null;
    if (own !== null) {
      cache.set(key, own);
      opts.onProgress?.(++done, todo.size);
      continue;
    }
    const shots = [...withExpl.filter((e) => e.subject === q.subject), ...withExpl.filter((e) => e.subject !== q.subject)].filter((e) => e.id !== q.id).slice(0, opts.shots ?? 3);
    const text =
      p.header(q.subject) +
      shots.map((e) => `${p.formatQuestion(e)}${p.formatAnswer(LETTERS[e.answer])}. ${e.options[e.answer]}\nExplanation: ${e.explanation}${sep}`).join('') +
      `${p.formatQuestion(q)}${p.formatAnswer(LETTERS[it.response])}. ${q.options[it.response]}\nExplanation:`;
    const bos = model.tokenizer.bosTokenId === null ? [] : [model.tokenizer.bosTokenId];
    const ids = await model.generate([...bos, ...model.tokenizer.encode(text)], {
      maxNewTokens: opts.maxNewTokens ?? 64,
      temperature: 0,
      stop: ['\n'],
      seed: opts.seed ?? 0,
      adapter: null,
    });
    cache.set(key, model.tokenizer.decode(ids).split('\n')[0].trim());
    opts.onProgress?.(++done, todo.size);
  }
  return sets.map((s) => ({
    ...s,
    items: s.items.map((it) => {
      const k = `${it.question.id}\u0000${it.response}`;
      return { ...it, explanation: cache.get(k) ?? it.question.explanation ?? '' };
    }),
  }));
}

/** The assistant's reply: the letter (`B`), or the letter, the option and an explanation (`B. Paris. …`). */
export function responseText(item: IftItem, style: ResponseStyle): string {
  const letter = LETTERS[item.response];
  if (style === 'letter') return letter;
  const expl = item.explanation ? ` ${item.explanation}` : '';
  return `${letter}. ${item.question.options[item.response].replace(/[.\s]+$/, '')}.${expl}`;
}

export function itemMessages(item: IftItem, style: ResponseStyle, layout: PromptLayout = DEFAULT_LAYOUT): ChatMessage[] {
  return [
    { role: 'user', content: layoutPrompts(layout).chatUserText(item.question) },
    { role: 'assistant', content: responseText(item, style) },
  ];
}

export interface IftDataset {
  name: string;
  kind: ConditionKind;
  ratio?: number;
  style: ResponseStyle;
  /** Knowledge items (the condition proper). */
  items: IftItem[];
  /** General instruction examples mixed in. */
  generalCount: number;
  /** Every example as chat messages, in training order. */
  conversations: ChatMessage[][];
  /** SHA-256 of the JSONL export: names the exact data in manifests. */
  hash: string;
  /** How often each letter A–D is the trained answer among the knowledge items. */
  labelLetters: LabelLetters;
  /** E.g. one letter holding more than 40 % of the labels: the model may learn the letter, not the facts. */
  warnings: string[];
}

export interface LabelLetters {
  counts: [number, number, number, number];
  shares: [number, number, number, number];
}

/** The letters a condition's responses stand at, in each item's own option order. */
export function labelLetters(items: readonly IftItem[]): LabelLetters {
  const counts: LabelLetters['counts'] = [0, 0, 0, 0];
  for (const it of items) counts[it.response]++;
  const n = items.length;
  return { counts, shares: counts.map((c) => (n ? c / n : 0)) as LabelLetters['shares'] };
}

/** A condition whose labels crowd on one letter teaches that letter (the paper's self-aligning data did, under letter beliefs). */
export const LABEL_LETTER_LIMIT = 0.4;

/**
 * A warning when the labels that are the model's own beliefs (Self-aligning items, and those a mixture takes
 * from it) crowd on one letter: the letter probe's position habit then becomes the training signal. Gold
 * labels (Harmonious, Incompatible) are where the question set put the answer, not a belief, and get none;
 * the advice to switch probes is given only when the probe is not already position-free.
 */
export function labelLetterWarnings(name: string, dist: LabelLetters, o: { beliefs?: boolean; probeMethod?: string } = {}): string[] {
  if (o.beliefs === false) return [];
  const n = dist.counts.reduce((a, b) => a + b, 0);
  const k = dist.shares.indexOf(Math.max(...dist.shares));
  if (n === 0 || !(dist.shares[k] > LABEL_LETTER_LIMIT)) return [];
  const positionFree = o.probeMethod === 'debiased' || o.probeMethod === 'continuation';
  return [
    `${dist.counts[k]} of the ${n} ${name} labels that are the model's own beliefs (${(100 * dist.shares[k]).toFixed(1)} %) are "${LETTERS[k]}" (more than ${100 * LABEL_LETTER_LIMIT} %): ` +
      (positionFree
        ? `tuning on it can teach the letter rather than the answers, although the ${o.probeMethod} probe chose the beliefs by content.`
        : 'tuning on it can teach the letter rather than the answers; probe with the debiased or continuation method.'),
  ];
}

export interface DatasetOptions {
  style: ResponseStyle;
  general?: readonly GeneralExample[];
  /** General examples per knowledge item (1 = equal proportion, the paper's). */
  generalRatio?: number;
  /** How questions are written in the user turns (default: the paper's MMLU layout). */
  layout?: PromptLayout;
  seed: number;
  /** The probe's method, for the label-letter warning's advice. */
  probeMethod?: string;
}

/**
 * One condition as an IFT dataset: its items as chat conversations, general instruction data mixed in
 * (the same general examples for every condition of a seed, so only the knowledge differs), shuffled.
 */
export async function buildDataset(set: ConditionSet, opts: DatasetOptions): Promise<IftDataset> {
  if (opts.style === 'letter+explanation' && set.items.some((i) => i.explanation === undefined)) {
    throw new LabError('explanations-missing', `The ${set.name} dataset asks for explanations that were not written.`, 'Run writeExplanations first, or use letter-only responses.');
  }
  const general = opts.general ?? [];
  const want = Math.round((opts.generalRatio ?? 0) * set.items.length);
  if (want > general.length) {
    throw new LabError(
      'general-too-small',
      `Mixing general data at ${opts.generalRatio}× needs ${want} instruction examples; the file has ${general.length}.`,
      'Load more instruction data or lower the general-data ratio.',
    );
  }
  const picked = shuffled(general, rng(subSeed(opts.seed, 'general'))).slice(0, want);
  const conversations = shuffled(
    [...set.items.map((i) => itemMessages(i, opts.style, opts.layout)), ...picked.map((g) => g.messages)],
    rng(subSeed(opts.seed, `order:${set.name}`)),
  );
  const letters = labelLetters(set.items);
  // Only the labels that are the model's own beliefs are checked (gold letters are the question set's layout).
  const beliefs = set.items.filter((i) => i.source === 'self');
  const ds: IftDataset = {
    name: set.name,
    kind: set.kind,
    style: opts.style,
    items: set.items,
    generalCount: want,
    conversations,
    hash: '',
    labelLetters: letters,
    warnings: beliefs.length ? labelLetterWarnings(set.name, labelLetters(beliefs), { beliefs: true, probeMethod: opts.probeMethod }) : [],
  };
  if (set.ratio !== undefined) ds.ratio = set.ratio;
  ds.hash = await sha256Hex(toJsonl(ds));
  return ds;
}

/** The dataset in the common chat format: one `{"messages": [...]}` per line. */
export function toJsonl(ds: Pick<IftDataset, 'conversations'>): string {
  return ds.conversations.map((messages) => JSON.stringify({ messages })).join('\n') + '\n';
}

/**
 * One conversation as a training sequence with the loss on the assistant's reply only: the tokens of the
 * template up to the generation prompt are context, everything after (the reply and its end-of-turn) is target.
 */
export function toTrainExample(tokenizer: LabTokenizer, messages: readonly ChatMessage[]): TrainExample {
  const last = messages[messages.length - 1];
  if (!last || last.role !== 'assistant') throw new LabError('bad-conversation', 'A training conversation must end with the assistant.', 'This is a bug in IFT Lab; please report it.');
  const promptText = tokenizer.applyChatTemplate(messages.slice(0, -1), { addGenerationPrompt: true });
  const fullText = tokenizer.applyChatTemplate(messages);
  if (!fullText.startsWith(promptText)) {
    throw new LabError(
      'chat-template',
      "The model's chat template does not render the conversation as its prompt followed by the reply, so the reply's tokens cannot be found.",
      'Use a model whose chat template supports a generation prompt.',
    );
  }
  const ids = tokenizer.encode(fullText);
  const prompt = tokenizer.encode(promptText);
  // Tokens can merge across the boundary; the reply starts where the two encodings first differ.
  let start = 0;
  while (start < prompt.length && start < ids.length && prompt[start] === ids[start]) start++;
  if (start >= ids.length) throw new LabError('empty-reply', 'The assistant reply encodes to no tokens.', 'Check the dataset: a response is empty.');
  return { ids, lossMask: ids.map((_, i) => (i >= start ? 1 : 0)) };
}

export function trainExamples(tokenizer: LabTokenizer, ds: Pick<IftDataset, 'conversations'>): TrainExample[] {
  return ds.conversations.map((c) => toTrainExample(tokenizer, c));
}
