/**
 * The Unknown-share design of Gekhman et al. 2024: fine-tuning sets of one fixed size whose share of SliCK
 * `unknown` items grows (0, 25, 50, 75, 100 %; the rest `highlyKnown` / `maybeKnown` as configured), gold answers
 * throughout; a development set split from the probed pool; every epoch the development set, the test sets by
 * SliCK category and the fit of the training items by category are scored; results at the early-stopping epoch
 * (best development accuracy) and at the last epoch, and paired contrasts between shares with the Ren design's
 * statistics (paired bootstrap over seeds and questions, sign-flip over seeds). docs/slick.md.
 *
 * The runner (`runUnknownShare`) is called by `runExperiment` when the configuration has `unknownShare`; it
 * shares the split, the SliCK probe, scoring and training with the Ren design.
 */
import { contrastOf, type ContrastStats } from './contrasts';
import { LabError } from './errors';
import { TEST_SETS, scoreTestSets, type SetScores, type TestSetName, type TestSets } from './evaluate';
import { sha256Hex } from './hash';
import { itemMessages, toJsonl, trainExamples } from './intervene';
import type { AdapterState, ChatMessage, LabModel, TrainConfig } from './model';
import {
  probe,
  scoreQuestions,
  type BeliefMethod,
  type ProbeResult,
  type ProbeSettings,
  type ScoredQuestion,
} from './probe';
import type { PromptLayout } from './prompts';
import type { Question } from './questions/types';
import { rng, shuffled, subSeed } from './random';
import { SLICK_CATEGORIES, type SlickCategory } from './slick';
import { runTraining, type TrainEvent } from './train';

export interface UnknownShareSettings {
  /** Shares of `unknown` items in each training set (Gekhman: 0, 0.25, 0.5, 0.75, 1). */
  shares: number[];
  /** Items per training set; default the largest every share can have. */
  size?: number;
  /** The categories the rest is drawn from (Gekhman's "known"; default highlyKnown and maybeKnown). */
  rest: SlickCategory[];
  /** Share of the probed pool held out as the development set (early stopping), before any training set is drawn. */
  devFraction: number;
}

export const GEKHMAN_SHARES = [0, 0.25, 0.5, 0.75, 1] as const;

export const shareName = (share: number): string => `unknown-${share}`;

/** The development set: a seeded draw of `devFraction` of the pool (at least one question), in pool order; the rest are training candidates. */
export function splitDev(
  pool: readonly Question[],
  devFraction: number,
  seed: number,
): { dev: Question[]; candidates: Question[] } {
  const n = Math.max(1, Math.round(devFraction * pool.length));
  const dev = new Set(
    shuffled(pool, rng(subSeed(seed, 'unknown-share:dev')))
      .slice(0, n)
      .map((q) => q.id),
  );
  return { dev: pool.filter((q) => dev.has(q.id)), candidates: pool.filter((q) => !dev.has(q.id)) };
}

export interface ShareSet {
  name: string;
  share: number;
  /** Training items, gold answers, each with its SliCK category. */
  items: { question: Question; category: SlickCategory }[];
  unknown: number;
}

/** The largest size every share can have from `unknown` Unknown items and `rest` others. */
export function largestShareSize(shares: readonly number[], unknown: number, rest: number): number {
  for (let n = unknown + rest; n > 0; n--)
    if (shares.every((s) => Math.round(s * n) <= unknown && n - Math.round(s * n) <= rest)) return n;
  return 0;
}

/**
 * One training set per share, all of one size, nested: the Unknown items of a share are the first
 * round(share × size) of one seeded order of the Unknown candidates, the rest the first of one seeded order of
 * the `rest` candidates — so sets differ only in the share (the same items as far as they can be).
 */
export function buildShareSets(
  candidates: readonly Question[],
  categoryOf: ReadonlyMap<string, SlickCategory>,
  s: Pick<UnknownShareSettings, 'shares' | 'size' | 'rest'>,
  dataSeed: number,
): ShareSet[] {
  const unknown = shuffled(
    candidates.filter((q) => categoryOf.get(q.id) === 'unknown'),
    rng(subSeed(dataSeed, 'unknown-share:unknown')),
  );
  const rest = shuffled(
    candidates.filter((q) => s.rest.includes(categoryOf.get(q.id)!)),
    rng(subSeed(dataSeed, 'unknown-share:rest')),
  );
  const largest = largestShareSize(s.shares, unknown.length, rest.length);
  const size = s.size ?? largest;
  if (size === 0 || size > largest) {
    throw new LabError(
      'unknown-share-too-small',
      `The probe found ${unknown.length} unknown and ${rest.length} ${s.rest.join(' / ')} training candidates: training sets of ${size || 'any'} items cannot hold every share (${s.shares.join(', ')}); the largest possible is ${largest}.`,
      largest > 0
        ? `Set unknownShare.size to at most ${largest}, or leave it out.`
        : 'Use a larger question pool, or other categories for the rest (unknownShare.rest).',
    );
  }
  return s.shares.map((share) => {
    const u = Math.round(share * size);
    const items = [
      ...unknown.slice(0, u).map((question) => ({ question, category: 'unknown' as const })),
      ...rest.slice(0, size - u).map((question) => ({ question, category: categoryOf.get(question.id)! })),
    ];
    return { name: shareName(share), share, items, unknown: u };
  });
}

/** A share set as chat conversations (gold letter answers), in a seeded training order. */
export async function shareConversations(
  set: ShareSet,
  dataSeed: number,
  layout?: PromptLayout,
): Promise<{ conversations: ChatMessage[][]; hash: string }> {
  const conversations = shuffled(
    set.items.map((it) =>
      itemMessages({ question: it.question, response: it.question.answer, source: 'gold' }, 'letter', layout),
    ),
    rng(subSeed(dataSeed, `unknown-share:order:${set.name}`)),
  );
  return { conversations, hash: await sha256Hex(toJsonl({ conversations })) };
}

export type ByCategory = Partial<Record<SlickCategory, number>>;

/** Accuracy overall and per SliCK category. */
export interface Accuracy {
  overall: number;
  n: number;
  byCategory: ByCategory;
}

/** What one epoch's adapter scores. */
export interface EpochEval {
  /** 1-based. */
  epoch: number;
  /** Mean training loss of the epoch. */
  loss: number;
  /** Development-set accuracy (early stopping reads it). */
  dev: number;
  /** Test accuracy per set, overall and by the test questions' SliCK category. */
  test: Partial<Record<TestSetName, Accuracy>>;
  /** Share of the training items answered with their gold answer, overall and by category. */
  fit: Accuracy;
}

export interface ShareRun {
  runId: string;
  share: number;
  seed: number;
  dataSeed: number;
  datasetHash: string;
  size: number;
  unknown: number;
  epochs: EpochEval[];
  /** The epoch (1-based) of the best development accuracy (the earliest on a tie). */
  earlyStopEpoch: number;
  train: { steps: number; seconds: number; losses: number[] };
  /** 0/1 correctness on each test set (in the set's order) at the early-stopping and the last epoch: the contrasts pair on them. */
  correct: { early: Partial<Record<TestSetName, number[]>>; last: Partial<Record<TestSetName, number[]>> };
}

export type StopPoint = 'early' | 'last';

export interface ShareContrast extends ContrastStats {
  /** Share names (`unknown-0.5`), or for `stop: 'early-last'` the same share twice. */
  a: string;
  b: string;
  set: TestSetName;
  /** Which epoch's scores: early stop, last, or early stop − last within a share. */
  stop: StopPoint | 'early-last';
  /** `overall` or a SliCK category of the test questions. */
  group: 'overall' | SlickCategory;
}

export interface ShareSummary {
  share: number;
  name: string;
  seeds: number;
  meanEarlyStopEpoch: number;
  /** Mean over seeds at the early-stopping and the last epoch. */
  early: { dev: number; test: Partial<Record<TestSetName, Accuracy>> };
  last: { dev: number; test: Partial<Record<TestSetName, Accuracy>>; fit: Accuracy };
}

export interface UnknownShareResult {
  settings: UnknownShareSettings;
  size: number;
  /** Development-set question ids (held out of every training set). */
  dev: string[];
  /** Candidates per SliCK category in the pool after the development set. */
  candidates: Record<SlickCategory, number>;
  /** Each test question's SliCK category (the base model's, same probe settings), per set in set order. */
  testCategories: Partial<Record<TestSetName, SlickCategory[]>>;
  runs: ShareRun[];
  summary: ShareSummary[];
  contrasts: ShareContrast[];
}

export interface ShareRunEvent {
  type: 'share-run';
  runId: string;
  index: number;
  total: number;
  share: number;
  seed: number;
  phase: 'train' | 'evaluate' | 'done';
  epoch?: number;
  event?: TrainEvent;
  /** phase `done`: the finished run. */
  run?: ShareRun;
}

export interface UnknownShareDeps {
  model: LabModel;
  fewShot: readonly Question[];
  probeSettings: ProbeSettings;
  method: BeliefMethod;
  layout?: PromptLayout;
  batchSize?: number;
  seeds: readonly number[];
  dataSeedOf(seed: number): number;
  trainConfigOf(seed: number): TrainConfig;
  bootstrap: { samples: number; seed: number };
  /** Runs already finished (resume): kept, not trained again. */
  done?: readonly ShareRun[];
  /** Test categories already probed (resume). */
  testCategories?: UnknownShareResult['testCategories'];
  onTestCategories?(t: UnknownShareResult['testCategories']): Promise<void> | void;
  onRun?(run: ShareRun): Promise<void> | void;
  onAdapter?(run: { runId: string; seed: number }, state: AdapterState): Promise<void> | void;
  onEvent?(e: ShareRunEvent): void;
  signal?: AbortSignal;
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

function accuracyOf(correct: readonly number[], cats: readonly SlickCategory[]): Accuracy {
  const byCategory: ByCategory = {};
  for (const c of SLICK_CATEGORIES) {
    const xs = correct.filter((_, i) => cats[i] === c);
    if (xs.length) byCategory[c] = mean(xs);
  }
  return { overall: mean(correct), n: correct.length, byCategory };
}

const zeroOne = (s: readonly ScoredQuestion[]) => s.map((x) => (x.correct ? 1 : 0));

/** The early-stopping epoch: best development accuracy, the earliest on a tie (1-based). */
export function earlyStopEpoch(dev: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < dev.length; i++) if (dev[i] > dev[best]) best = i;
  return best + 1;
}

/**
 * The design, end to end, on a probed pool (`probed` must carry SliCK categories): the development set, the share
 * sets per data seed, the test questions' categories, every (share, seed) run with per-epoch evaluation, the
 * summary and the paired contrasts.
 */
export async function runUnknownShare(
  settings: UnknownShareSettings,
  pool: readonly Question[],
  probed: ProbeResult,
  tests: TestSets,
  splitSeed: number,
  deps: UnknownShareDeps,
): Promise<UnknownShareResult> {
  const categoryOf = new Map(probed.items.filter((i) => i.slick).map((i) => [i.id, i.slick!.category]));
  if (categoryOf.size === 0)
    throw new LabError(
      'unknown-share-no-slick',
      'The Unknown-share design needs SliCK categories from the probe.',
      'Set "probe": { "slick": true } (the runner turns it on by itself for unknownShare).',
    );
  const { dev, candidates } = splitDev(pool, settings.devFraction, splitSeed);
  const counts = Object.fromEntries(
    SLICK_CATEGORIES.map((c) => [c, candidates.filter((q) => categoryOf.get(q.id) === c).length]),
  ) as Record<SlickCategory, number>;

  // The test questions' categories: the base model probed with the same SliCK settings.
  let testCategories = deps.testCategories;
  if (!testCategories) {
    testCategories = {};
    for (const set of TEST_SETS) {
      const qs = tests[set];
      if (!qs?.length) continue;
      const r = await probe(deps.model, qs, deps.probeSettings, { fewShot: deps.fewShot, signal: deps.signal });
      testCategories[set] = r.items.map((i) => i.slick!.category);
    }
    await deps.onTestCategories?.(testCategories);
  }

  const score = { method: deps.method, layout: deps.layout, batchSize: deps.batchSize, signal: deps.signal };
  const runs: ShareRun[] = [...(deps.done ?? [])];
  const plan = settings.shares.flatMap((share) =>
    deps.seeds.map((seed) => ({ share, seed, runId: `${shareName(share)}-s${seed}` })),
  );
  const setsBySeed = new Map<number, ShareSet[]>();
  let size = 0;
  for (const [index, p] of plan.entries()) {
    const dataSeed = deps.dataSeedOf(p.seed);
    if (!setsBySeed.has(dataSeed)) setsBySeed.set(dataSeed, buildShareSets(candidates, categoryOf, settings, dataSeed));
    const set = setsBySeed.get(dataSeed)!.find((s) => s.share === p.share)!;
    size = set.items.length;
    if (runs.some((r) => r.runId === p.runId)) continue;
    deps.signal?.throwIfAborted();
    const { conversations, hash } = await shareConversations(set, dataSeed, deps.layout);
    const examples = trainExamples(deps.model.tokenizer, { conversations });
    const cfg = deps.trainConfigOf(p.seed);
    const states: AdapterState[] = [];
    const ev = { type: 'share-run' as const, runId: p.runId, share: p.share, seed: p.seed, index, total: plan.length };
    deps.onEvent?.({ ...ev, phase: 'train' });
    const trained = await runTraining({
      runId: p.runId,
      model: deps.model,
      examples,
      config: cfg,
      signal: deps.signal,
      onEvent: (event) => deps.onEvent?.({ ...ev, phase: 'train', event }),
      // Each epoch's adapter, without its optimizer moments: evaluated once training is over.
      onEpoch: (_e, s) =>
        void states.push({
          config: s.config,
          step: s.step,
          tensors: Object.fromEntries(Object.entries(s.tensors).map(([k, v]) => [k, v.slice()])),
        }),
    });
    await deps.onAdapter?.({ runId: p.runId, seed: p.seed }, trained.state);
    const steps = Math.ceil(examples.length / cfg.batchSize);
    const fitQuestions = set.items.map((i) => i.question);
    const fitCats = set.items.map((i) => i.category);
    const epochs: EpochEval[] = [];
    const perEpochCorrect: Partial<Record<TestSetName, number[]>>[] = [];
    for (const [e, state] of states.entries()) {
      deps.onEvent?.({ ...ev, phase: 'evaluate', epoch: e + 1 });
      const adapter = await deps.model.loadAdapter(state);
      try {
        const devScores = await scoreQuestions(deps.model, dev, { format: { kind: 'chat' }, ...score, adapter });
        const testScores: SetScores = await scoreTestSets(deps.model, tests, { kind: 'chat' }, adapter, score);
        const fitScores = await scoreQuestions(deps.model, fitQuestions, {
          format: { kind: 'chat' },
          ...score,
          adapter,
        });
        const test: EpochEval['test'] = {};
        const correct: Partial<Record<TestSetName, number[]>> = {};
        for (const name of TEST_SETS) {
          const sc = testScores[name];
          if (!sc) continue;
          correct[name] = zeroOne(sc);
          test[name] = accuracyOf(correct[name]!, testCategories[name] ?? []);
        }
        perEpochCorrect.push(correct);
        epochs.push({
          epoch: e + 1,
          loss: mean(trained.losses.slice(e * steps, (e + 1) * steps)),
          dev: mean(zeroOne(devScores)),
          test,
          fit: accuracyOf(zeroOne(fitScores), fitCats),
        });
      } finally {
        deps.model.unloadAdapter(adapter);
      }
    }
    if (epochs.length === 0)
      throw new LabError(
        'unknown-share-no-epochs',
        `Run ${p.runId} reported no epochs to evaluate.`,
        'This is a bug in IFT Lab; please report it.',
      );
    const early = earlyStopEpoch(epochs.map((x) => x.dev));
    const run: ShareRun = {
      runId: p.runId,
      share: p.share,
      seed: p.seed,
      dataSeed,
      datasetHash: hash,
      size: set.items.length,
      unknown: set.unknown,
      epochs,
      earlyStopEpoch: early,
      train: { steps: trained.steps, seconds: trained.seconds, losses: trained.losses },
      correct: { early: perEpochCorrect[early - 1], last: perEpochCorrect.at(-1)! },
    };
    runs.push(run);
    await deps.onRun?.(run);
    deps.onEvent?.({ ...ev, phase: 'done', run });
  }
  const order = new Map(plan.map((p, i) => [p.runId, i]));
  runs.sort((a, b) => (order.get(a.runId) ?? 0) - (order.get(b.runId) ?? 0));
  return {
    settings,
    size,
    dev: dev.map((q) => q.id),
    candidates: counts,
    testCategories,
    runs,
    summary: shareSummary(settings.shares, runs),
    contrasts: shareContrasts(settings.shares, runs, testCategories, deps.seeds, deps.bootstrap),
  };
}

function meanAccuracy(xs: readonly Accuracy[]): Accuracy {
  const byCategory: ByCategory = {};
  for (const c of SLICK_CATEGORIES) {
    const v = xs.map((x) => x.byCategory[c]).filter((x): x is number => x !== undefined);
    if (v.length) byCategory[c] = mean(v);
  }
  return { overall: mean(xs.map((x) => x.overall)), n: xs[0]?.n ?? 0, byCategory };
}

function meanTest(xs: readonly EpochEval[]): Partial<Record<TestSetName, Accuracy>> {
  const out: Partial<Record<TestSetName, Accuracy>> = {};
  for (const set of TEST_SETS) {
    const v = xs.map((x) => x.test[set]).filter((x): x is Accuracy => x !== undefined);
    if (v.length) out[set] = meanAccuracy(v);
  }
  return out;
}

/** Per share, the mean over seeds at the early-stopping and the last epoch. */
export function shareSummary(shares: readonly number[], runs: readonly ShareRun[]): ShareSummary[] {
  return shares.flatMap((share) => {
    const rs = runs.filter((r) => r.share === share);
    if (!rs.length) return [];
    const early = rs.map((r) => r.epochs[r.earlyStopEpoch - 1]);
    const last = rs.map((r) => r.epochs.at(-1)!);
    return [
      {
        share,
        name: shareName(share),
        seeds: rs.length,
        meanEarlyStopEpoch: mean(rs.map((r) => r.earlyStopEpoch)),
        early: { dev: mean(early.map((e) => e.dev)), test: meanTest(early) },
        last: { dev: mean(last.map((e) => e.dev)), test: meanTest(last), fit: meanAccuracy(last.map((e) => e.fit)) },
      },
    ];
  });
}

/**
 * Paired contrasts: each share against the smallest (at the early stop and at the last epoch), and within each
 * share early stop − last epoch; per test set, overall and per SliCK category of the test questions; over the
 * seeds both runs have (the same test questions, so pairs are by question and seed).
 */
export function shareContrasts(
  shares: readonly number[],
  runs: readonly ShareRun[],
  testCategories: UnknownShareResult['testCategories'],
  seeds: readonly number[],
  opts: { samples?: number; seed?: number },
): ShareContrast[] {
  const out: ShareContrast[] = [];
  const runOf = new Map(runs.map((r) => [`${r.share}\u0000${r.seed}`, r]));
  const sorted = [...shares].sort((a, b) => a - b);
  const ref = sorted[0];
  for (const set of TEST_SETS) {
    const cats = testCategories[set];
    if (!cats) continue;
    const groups: [ShareContrast['group'], number[]][] = [['overall', cats.map((_, i) => i)]];
    for (const c of SLICK_CATEGORIES) {
      const idx = cats.flatMap((x, i) => (x === c ? [i] : []));
      if (idx.length) groups.push([c, idx]);
    }
    const pairs: { a: number; b: number; stops: [StopPoint, StopPoint]; stop: ShareContrast['stop'] }[] = [];
    for (const s of sorted.slice(1))
      for (const stop of ['early', 'last'] as const) pairs.push({ a: s, b: ref, stops: [stop, stop], stop });
    for (const s of sorted) pairs.push({ a: s, b: s, stops: ['early', 'last'], stop: 'early-last' });
    for (const p of pairs) {
      const both = seeds
        .map((seed) => [runOf.get(`${p.a}\u0000${seed}`), runOf.get(`${p.b}\u0000${seed}`)] as const)
        .filter(([x, y]) => x?.correct[p.stops[0]][set] && y?.correct[p.stops[1]][set]);
      if (!both.length) continue;
      for (const [group, idx] of groups) {
        const perSeed = both.map(([x, y]) => ({
          a: idx.map((i) => x!.correct[p.stops[0]][set]![i]),
          b: idx.map((i) => y!.correct[p.stops[1]][set]![i]),
        }));
        out.push(contrastOf({ a: shareName(p.a), b: shareName(p.b), set, stop: p.stop, group }, perSeed, opts));
      }
    }
  }
  return out;
}

const pc = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '—' : (100 * x).toFixed(1));
const pts = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}` : '—');

/** The report's section: per share at early stop and last epoch, fit by category, and the contrasts that hold. */
export function unknownShareMarkdown(u: UnknownShareResult): string[] {
  const lines = [
    '## Does new knowledge make it hallucinate? (Unknown share, Gekhman et al. 2024)',
    '',
    `Training sets of ${u.size} items (gold answers) with ${u.settings.shares.map((s) => `${100 * s} %`).join(', ')} unknown items, the rest ${u.settings.rest.join(' / ')}; ` +
      `development set of ${u.dev.length} questions held out of the pool (early stopping on its accuracy). Candidates after it: ${SLICK_CATEGORIES.map((c) => `${u.candidates[c]} ${c}`).join(', ')}.`,
    '',
    '| share unknown | seeds | early-stop epoch (mean) | dev, early | HOMO, early | HOMO, last | fit, last: known | fit, last: unknown |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const s of u.summary) {
    const known = mean(
      ['highlyKnown', 'maybeKnown', 'weaklyKnown']
        .map((c) => s.last.fit.byCategory[c as SlickCategory])
        .filter((x): x is number => x !== undefined),
    );
    lines.push(
      `| ${100 * s.share} % | ${s.seeds} | ${s.meanEarlyStopEpoch.toFixed(1)} | ${pc(s.early.dev)} | ${pc(s.early.test.homo?.overall)} | ${pc(s.last.test.homo?.overall)} | ${pc(known)} | ${pc(s.last.fit.byCategory.unknown)} |`,
    );
  }
  lines.push(
    '',
    "Test accuracy (%) by the test questions' SliCK category, HOMO, at early stop → last epoch:",
    '',
    `| share unknown | ${SLICK_CATEGORIES.join(' | ')} |`,
    `|---|${SLICK_CATEGORIES.map(() => '---:').join('|')}|`,
  );
  for (const s of u.summary) {
    lines.push(
      `| ${100 * s.share} % | ${SLICK_CATEGORIES.map((c) => `${pc(s.early.test.homo?.byCategory[c])} → ${pc(s.last.test.homo?.byCategory[c])}`).join(' | ')} |`,
    );
  }
  const overall = u.contrasts.filter((c) => c.group === 'overall');
  if (overall.length) {
    lines.push(
      '',
      'Paired contrasts (points, 95 % interval over seeds and questions, sign-flip p), overall:',
      '',
      '| a − b | stop | set | mean | interval | p | holds |',
      '|---|---|---|---:|---|---:|---|',
    );
    for (const c of overall) {
      const label = c.stop === 'early-last' ? `${c.a}: early stop − last` : `${c.a} − ${c.b}`;
      lines.push(
        `| ${label} | ${c.stop} | ${c.set.toUpperCase()} | ${pts(c.mean)} | [${pts(c.lo)}, ${pts(c.hi)}] | ${Number.isFinite(c.p) ? c.p.toFixed(3) : '—'} | ${c.holds ? 'yes' : c.reversed ? 'reversed' : 'no'} |`,
      );
    }
  }
  return lines;
}
