/**
 * How long an experiment will take, before it runs (issue 12, item 2): the grid's work counted from the
 * configuration and the questions (model calls, tokens forwarded, training tokens and steps), combined with
 * this device's speed measured on the model's own shapes (src/model/speed.ts). Plain TS: the counts are the
 * lab's; the speeds arrive as numbers.
 *
 * Scoring is counted as the model does it (src/model/engine-model.ts): a subject's shared prefix is forwarded
 * once per model (base, or each tuned adapter) thanks to the prefix cache, each prompt's own tokens once per
 * scored variant (×4 for the strict and debiased methods: the four cyclic shifts of the options), one model
 * call per batch. Continuation scoring forwards the whole prompt with each of the 4 options (no prefix reuse).
 */
import { DEFAULT_BOOTSTRAP_SAMPLES, MAX_BOOTSTRAP_SAMPLES, pairedBootstrap } from './contrasts';
import type { ExperimentConfig } from './experiment-config';
import { chatUserText, fewShotPrefix, formatQuestion, pickShots } from './prompts';
import type { DeviceSpeed, LabModel, LabTokenizer, SpeedShapes } from './model';

export type { DeviceSpeed, SpeedShapes } from './model';
import type { Question, QuestionBank } from './questions/types';
import { makeSplits, type Splits } from './splits';

/** Mean token counts of the prompts this experiment will score and train on (measured with the tokenizer). */
export interface PromptTokens {
  /** A subject's k-shot prefix (BOS, header and the k solved examples). */
  kshotPrefix: number;
  /** A question after the k-shot prefix (question, options, "Answer:"). */
  kshotQuestion: number;
  /** The tokens a subject's chat prompts share (template opening and header). */
  chatPrefix: number;
  /** A chat prompt after that. */
  chatQuestion: number;
  /** One option's text (continuation scoring). */
  option: number;
  /** One training sequence (chat-rendered question and reply), before truncation to maxSeqLen. */
  trainExample: number;
  /** Its reply: the tokens the loss counts (the letter and the turn's end). */
  trainReply?: number;
}

export interface WorkInputs {
  config: Pick<ExperimentConfig, 'conditions' | 'ratios' | 'seeds' | 'protocols' | 'general' | 'size'> & {
    probe: Pick<ExperimentConfig['probe'], 'batchSize'> & { method: string; slick?: ExperimentConfig['probe']['slick'] };
    /** Gekhman's Unknown-share design (src/lab/unknown-share.ts): replaces the conditions' grid. */
    unknownShare?: ExperimentConfig['unknownShare'];
    training: Pick<ExperimentConfig['training'], 'epochs' | 'batchSize' | 'maxSeqLen'>;
    evaluation: Pick<ExperimentConfig['evaluation'], 'batchSize'> & Partial<Pick<ExperimentConfig['evaluation'], 'bootstrapSamples' | 'bootstrapPrecision'>>;
  };
  /** Questions per subject in each split. */
  split: { train: Record<string, number>; homo: Record<string, number>; id: Record<string, number>; ood: Record<string, number> };
  tokens: PromptTokens;
}

/** What one stage asks of the model. */
export interface ScoringWork {
  /** Model calls (one per batch of prompts). */
  calls: number;
  /** Shared-prefix tokens forwarded (once per subject and model). */
  prefixTokens: number;
  /** Prompt tokens forwarded. */
  promptTokens: number;
}

export interface TrainingWork {
  runs: number;
  /** Training sequences per run (knowledge items and mixed-in general examples). */
  examplesPerRun: number;
  /** Optimizer steps over all runs. */
  steps: number;
  /** Tokens of all training sequences over all epochs and runs. */
  tokens: number;
  /** Tokens of one padded step (batch × rounded sequence length): what a step costs. */
  stepTokens: number;
}

/** The report's bootstrap: what its time scales with. */
export interface ReportWork {
  /** Paired intervals the report draws. */
  intervals: number;
  /** Σ over intervals of resamples × questions × (seeds + 1): a replicate draws each question and seed, and sums a drawn seed's row. */
  units: number;
}

export interface GridWork {
  probe: ScoringWork;
  baseline: ScoringWork;
  training: TrainingWork;
  evaluation: ScoringWork;
  report: ReportWork;
  /** What the counts assume where the configuration cannot say before the probe has run. */
  assumptions: string[];
}

export const STAGES = ['probe', 'baseline', 'training', 'evaluation', 'report'] as const;
export type Stage = (typeof STAGES)[number];

/** Conditions × (ratios for the mixture) × seeds, as planGrid (src/lab/experiment.ts) enumerates them. */
export function gridRuns(c: Pick<ExperimentConfig, 'conditions' | 'ratios' | 'seeds'>): number {
  return c.conditions.reduce((n, k) => n + (k === 'mixture' ? c.ratios.length : 1), 0) * c.seeds.length;
}

const roundUp = (n: number, m: number) => Math.max(m, Math.ceil(n / m) * m);

/** Variants scored per question: the strict and debiased probes score all four cyclic shifts. */
export function variantsPerQuestion(method: string): number {
  return method === 'strict' || method === 'debiased' ? 4 : 1;
}

/**
 * Scoring `perSubject` questions with `prefix` shared tokens and `prompt` own tokens each, `models` times
 * (the base, or one per tuned adapter).
 */
export function scoringWork(
  perSubject: Record<string, number>,
  t: { prefix: number; prompt: number; option: number },
  method: string,
  batch: number,
  models = 1,
): ScoringWork {
  let calls = 0;
  let prefixTokens = 0;
  let promptTokens = 0;
  for (const n of Object.values(perSubject)) {
    if (n <= 0) continue;
    if (method === 'continuation') {
      // Each question's full prompt with each of its 4 options; a call scores `batch` questions.
      calls += Math.ceil(n / batch);
      promptTokens += 4 * n * (t.prefix + t.prompt + t.option);
      continue;
    }
    const v = n * variantsPerQuestion(method);
    calls += Math.ceil(v / batch);
    prefixTokens += t.prefix;
    promptTokens += v * t.prompt;
  }
  return { calls: calls * models, prefixTokens: prefixTokens * models, promptTokens: promptTokens * models };
}

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
const merge = (...rs: Record<string, number>[]) => {
  const out: Record<string, number> = {};
  for (const r of rs) for (const [k, v] of Object.entries(r)) out[k] = (out[k] ?? 0) + v;
  return out;
};
const add = (a: ScoringWork, b: ScoringWork): ScoringWork => ({ calls: a.calls + b.calls, prefixTokens: a.prefixTokens + b.prefixTokens, promptTokens: a.promptTokens + b.promptTokens });
const none: ScoringWork = { calls: 0, prefixTokens: 0, promptTokens: 0 };

/** The base format of each protocol (paper: k-shot; like-for-like: chat) and the tuned models' (chat). */
const BASE_FORMAT: Record<string, 'kshot' | 'chat'> = { paper: 'kshot', 'like-for-like': 'chat' };

/** The grid's counted work. */
export function countWork(w: WorkInputs): GridWork {
  const c = w.config;
  const t = w.tokens;
  const assumptions: string[] = [];
  const kshot = { prefix: t.kshotPrefix, prompt: t.kshotQuestion, option: t.option };
  const chat = { prefix: t.chatPrefix, prompt: t.chatQuestion, option: t.option };
  // Evaluation scores with the probe's belief method where it is one (debiased, continuation); else letters.
  const evalMethod = c.probe.method === 'debiased' || c.probe.method === 'continuation' ? c.probe.method : 'letter';
  const tests = merge(w.split.homo, w.split.id, w.split.ood);

  let probe = scoringWork(w.split.train, kshot, c.probe.method, c.probe.batchSize);
  // SliCK scores the pool under more exemplar sets (letter prompts, × 4 orders for debiased / strict); the
  // first reuses the probe's own scores except for debiased. Each set is a new prefix.
  const slick = c.probe.slick === true ? { prompts: 5 } : c.probe.slick ? { prompts: c.probe.slick.prompts ?? 5 } : c.unknownShare ? { prompts: 5 } : null;
  const slickMethod = c.probe.method === 'continuation' ? 'continuation' : variantsPerQuestion(c.probe.method) === 4 ? 'strict' : 'letter';
  const slickSets = slick ? slick.prompts - (c.probe.method === 'debiased' ? 0 : 1) : 0;
  for (let j = 0; j < slickSets; j++) probe = add(probe, scoringWork(w.split.train, kshot, slickMethod, c.probe.batchSize));
  let baseline = none;
  for (const p of c.protocols) baseline = add(baseline, scoringWork(tests, BASE_FORMAT[p] === 'chat' ? chat : kshot, evalMethod, c.evaluation.batchSize));
  if (c.unknownShare) return unknownShareWork(w, c.unknownShare, slick?.prompts ?? 5, slickMethod, probe, baseline, tests, kshot, chat, evalMethod);

  const runs = gridRuns(c);
  let items = c.size;
  if (items === undefined) {
    // Conditions are as large as the smallest can be: at most min(known, unknown) ≤ half the training questions.
    items = Math.floor(sum(w.split.train) / 2);
    assumptions.push(`each condition has ${items} items (half the ${sum(w.split.train)} training questions: an upper bound until the probe has run)`);
  }
  const examplesPerRun = items + Math.round((c.general ? c.general.ratio : 0) * items);
  const seq = Math.min(t.trainExample, c.training.maxSeqLen);
  const stepsPerEpoch = Math.ceil(examplesPerRun / c.training.batchSize);
  const training: TrainingWork = {
    runs,
    examplesPerRun,
    steps: runs * c.training.epochs * stepsPerEpoch,
    tokens: runs * c.training.epochs * examplesPerRun * seq,
    stepTokens: c.training.batchSize * roundUp(seq, 16),
  };
  // Every tuned model is scored in the chat format under each protocol (a new adapter: its own prefixes).
  const evaluation = scoringWork(tests, chat, evalMethod, c.evaluation.batchSize, runs * c.protocols.length);
  return { probe, baseline, training, evaluation, report: renReportWork(w), assumptions };
}

/**
 * Resamples an interval may draw: the configured count, or with a precision the cap it may double up to
 * (src/lab/contrasts.ts; an upper bound: about half the one click's intervals reach it).
 */
function resamples(c: WorkInputs['config']): number {
  const samples = c.evaluation.bootstrapSamples ?? DEFAULT_BOOTSTRAP_SAMPLES;
  return (c.evaluation.bootstrapPrecision ?? 0.001) > 0 ? Math.max(samples, MAX_BOOTSTRAP_SAMPLES) : samples;
}

/**
 * The Ren design's intervals, as src/lab/experiment.ts and analysis.ts draw them: for each protocol and test set
 * the report's pairs (H − I, S − I, S − R, each mixture − I, every condition − the base) over all, known and
 * unknown questions (2 × the set's questions together); the C orderings of the paper's conditions over the pooled
 * sets; the plan's primary and secondary endpoints (at most 7, pooled).
 */
function renReportWork(w: WorkInputs): ReportWork {
  const c = w.config;
  const S = c.seeds.length;
  const B = resamples(c);
  const sets = [sum(w.split.homo), sum(w.split.id), sum(w.split.ood)].filter((n) => n > 0);
  const pooled = sets.reduce((a, b) => a + b, 0);
  const has = (k: string) => c.conditions.includes(k as ExperimentConfig['conditions'][number]);
  const conditions = c.conditions.reduce((n, k) => n + (k === 'mixture' ? c.ratios.length : 1), 0);
  const pairs = (has('harmonious') && has('incompatible') ? 1 : 0) + (has('selfAligning') && has('incompatible') ? 1 : 0) + (has('selfAligning') && has('randomWrong') ? 1 : 0) + (has('mixture') && has('incompatible') ? c.ratios.length : 0) + conditions;
  const paper = ['harmonious', 'selfAligning', 'randomWrong', 'incompatible'].filter(has).length;
  const orderings = (paper * (paper - 1)) / 2;
  const P = c.protocols.length;
  const intervals = P * sets.length * pairs * 3 + P * orderings + 7;
  const questions = P * pairs * 2 * pooled + (P * orderings + 7) * pooled;
  return { intervals, units: B * questions * (S + 1) };
}

let bootstrapSpeed: number | undefined;

/**
 * Seconds per unit of ReportWork on this machine: a bootstrap (3 seeds × 116 questions) timed once per process
 * after a warm-up, about 40 ms. The CPU runs the report, whatever the device; the Worker keeps the figure with
 * the device's timing (DeviceSpeed.bootstrapSecondsPerUnit), so a kept estimate stays the same.
 */
export function timeBootstrap(): number {
  if (bootstrapSpeed !== undefined) return bootstrapSpeed;
  const [S, Q, samples] = [3, 116, 20_000];
  const d = Array.from({ length: S }, (_, s) => Float64Array.from({ length: Q }, (_, i) => ((i * 7 + s) % 3) - 1));
  pairedBootstrap(d, { samples: 5000 });
  const t0 = performance.now();
  pairedBootstrap(d, { samples });
  bootstrapSpeed = (performance.now() - t0) / 1000 / (samples * Q * (S + 1));
  return bootstrapSpeed;
}

/**
 * The Unknown-share design's work: its test questions probed with SliCK too; shares × seeds runs of one size;
 * after every epoch each run's adapter scores the development set, the test sets and its own training items.
 */
function unknownShareWork(
  w: WorkInputs,
  u: NonNullable<WorkInputs['config']['unknownShare']>,
  prompts: number,
  slickMethod: string,
  probe: ScoringWork,
  baseline: ScoringWork,
  tests: Record<string, number>,
  kshot: { prefix: number; prompt: number; option: number },
  chat: { prefix: number; prompt: number; option: number },
  evalMethod: string,
): GridWork {
  const c = w.config;
  const t = w.tokens;
  const assumptions: string[] = [];
  // The test questions' categories: the probe (its method) and its further exemplar sets.
  probe = add(probe, scoringWork(tests, kshot, c.probe.method, c.probe.batchSize));
  for (let j = 0; j < prompts - (c.probe.method === 'debiased' ? 0 : 1); j++) probe = add(probe, scoringWork(tests, kshot, slickMethod, c.probe.batchSize));
  const pool = sum(w.split.train);
  const dev = Math.max(1, Math.round(u.devFraction * pool));
  let items = u.size;
  if (items === undefined) {
    items = Math.floor((pool - dev) / 2);
    assumptions.push(`each training set has ${items} items (half the ${pool - dev} candidates: an upper bound until the probe has run)`);
  }
  const runs = u.shares.length * c.seeds.length;
  const seq = Math.min(t.trainExample, c.training.maxSeqLen);
  const stepsPerEpoch = Math.ceil(items / c.training.batchSize);
  const training: TrainingWork = {
    runs,
    examplesPerRun: items,
    steps: runs * c.training.epochs * stepsPerEpoch,
    tokens: runs * c.training.epochs * items * seq,
    stepTokens: c.training.batchSize * roundUp(seq, 16),
  };
  // Every epoch's adapter: development set, test sets and the training items, in the chat format.
  const scored = merge(tests, { dev: dev + items });
  const evaluation = scoringWork(scored, chat, evalMethod, c.evaluation.batchSize, runs * c.training.epochs);
  // The contrasts between shares (src/lab/unknown-share.ts shareContrasts, a fixed count of resamples): per test
  // set, each share against the smallest at the early stop and at the last epoch, and each share's early − last,
  // over all questions and each SliCK category (2 × the set's questions together).
  const sets = [sum(w.split.homo), sum(w.split.id), sum(w.split.ood)].filter((n) => n > 0);
  const pairs = 2 * (u.shares.length - 1) + u.shares.length;
  const B = c.evaluation.bootstrapSamples ?? DEFAULT_BOOTSTRAP_SAMPLES;
  const report = { intervals: sets.length * pairs * 5, units: B * pairs * 2 * sets.reduce((a, b) => a + b, 0) * (c.seeds.length + 1) };
  return { probe, baseline, training, evaluation, report, assumptions };
}

/** This device's speed on the model's shapes (measured by src/model/speed.ts). */

export interface RunEstimate {
  work: GridWork;
  speed: DeviceSpeed;
  /** Expected seconds per stage. */
  seconds: Record<Stage, number>;
  totalSeconds: number;
}

export function scoringSeconds(s: ScoringWork, d: DeviceSpeed): number {
  return s.calls * d.callSeconds + (s.prefixTokens + s.promptTokens) / d.forwardTokensPerSecond;
}

export function estimateRun(work: GridWork, speed: DeviceSpeed, bootstrapSecondsPerUnit = 0): RunEstimate {
  // A step's cost scales with its padded tokens (the measured step may have had another length).
  const perStep = speed.stepSeconds * (work.training.stepTokens / speed.stepTokens);
  const seconds: Record<Stage, number> = {
    probe: scoringSeconds(work.probe, speed),
    baseline: scoringSeconds(work.baseline, speed),
    training: work.training.steps * perStep,
    evaluation: scoringSeconds(work.evaluation, speed),
    report: work.report.units * bootstrapSecondsPerUnit,
  };
  return { work, speed, seconds, totalSeconds: STAGES.reduce((a, s) => a + seconds[s], 0) };
}

/** Estimate and actual, as the manifest records them: the ratio checks the estimate on every run. */
export interface EstimateRecord {
  estimate: RunEstimate | null;
  actualSeconds: number;
  /** actual ÷ estimated total; null without an estimate. */
  ratio: number | null;
  /** Measured seconds per stage where the runner recorded them. */
  actualStageSeconds?: Partial<Record<Stage, number>>;
}

export function estimateRecord(estimate: RunEstimate | null | undefined, startedAt: string, finishedAt: string, stages?: Partial<Record<Stage, number>>): EstimateRecord {
  const actualSeconds = (Date.parse(finishedAt) - Date.parse(startedAt)) / 1000;
  return {
    estimate: estimate ?? null,
    actualSeconds,
    ratio: estimate && estimate.totalSeconds > 0 ? actualSeconds / estimate.totalSeconds : null,
    ...(stages ? { actualStageSeconds: stages } : {}),
  };
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return '—';
  if (s < 90) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 5400) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** A table a student can read: stages, their work and expected time. */
export function formatEstimate(e: RunEstimate): string[] {
  const w = e.work;
  const tok = (s: ScoringWork) => `${s.calls} calls, ${Math.round(s.prefixTokens + s.promptTokens)} tokens`;
  const lines = [
    `probe       ${formatDuration(e.seconds.probe).padStart(9)}   ${tok(w.probe)}`,
    `baseline    ${formatDuration(e.seconds.baseline).padStart(9)}   ${tok(w.baseline)}`,
    `training    ${formatDuration(e.seconds.training).padStart(9)}   ${w.training.runs} runs × ${w.training.examplesPerRun} examples, ${w.training.steps} steps, ${Math.round(w.training.tokens)} tokens`,
    `evaluation  ${formatDuration(e.seconds.evaluation).padStart(9)}   ${tok(w.evaluation)}`,
    `report      ${formatDuration(e.seconds.report).padStart(9)}   ${w.report.intervals} bootstrap intervals, resampled on this CPU (at most: an interval may stop early)`,
    `total       ${formatDuration(e.totalSeconds).padStart(9)}`,
    `device: ${Math.round(e.speed.forwardTokensPerSecond)} scoring tokens/s, ${(1000 * e.speed.callSeconds).toFixed(1)} ms per call, ${(1000 * e.speed.stepSeconds).toFixed(0)} ms per LoRA step of ${e.speed.stepTokens} tokens (${e.speed.shapes}; measured in ${e.speed.measuredSeconds.toFixed(1)} s)`,
  ];
  for (const a of w.assumptions) lines.push(`assumes: ${a}`);
  return lines;
}

// ---------------------------------------------------------------- inputs from the questions

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
const perSubject = (qs: readonly Question[]) => {
  const out: Record<string, number> = {};
  for (const q of qs) out[q.subject] = (out[q.subject] ?? 0) + 1;
  return out;
};
function commonStart(a: readonly number[], b: readonly number[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/**
 * Token counts measured on (a sample of) the experiment's own questions: tokenising every question of a large
 * bank would take longer than the estimate is worth, so at most `sample` questions per split are encoded.
 */
export function measurePromptTokens(tokenizer: LabTokenizer, splits: Splits, fewShot: readonly Question[], shots: number, sample = 64): PromptTokens {
  const all = [...splits.train, ...splits.homo, ...splits.id, ...splits.ood];
  const step = Math.max(1, Math.floor(all.length / sample));
  const qs = all.filter((_, i) => i % step === 0).slice(0, sample);
  const bos = tokenizer.bosTokenId === null ? 0 : 1;
  const subjects = [...new Set(qs.map((q) => q.subject))];
  const kshotPrefix = mean(subjects.map((s) => bos + tokenizer.encode(fewShotPrefix(s, pickShots(fewShot, s, shots))).length));
  const chatIds = qs.map((q) => tokenizer.encode(tokenizer.applyChatTemplate([{ role: 'user', content: chatUserText(q) }], { addGenerationPrompt: true })));
  // The part chat prompts of one subject share: the common start of two of its prompts (or the template's opening).
  const shared = subjects.map((s) => {
    const ids = chatIds.filter((_, i) => qs[i].subject === s);
    return ids.length > 1 ? commonStart(ids[0], ids[1]) : commonStart(ids[0], tokenizer.encode(tokenizer.applyChatTemplate([{ role: 'user', content: '' }], { addGenerationPrompt: true })));
  });
  const chatPrefix = mean(shared);
  const train = qs.map((q) =>
    tokenizer.encode(
      tokenizer.applyChatTemplate(
        [
          { role: 'user', content: chatUserText(q) },
          { role: 'assistant', content: 'A' },
        ],
        { addGenerationPrompt: false },
      ),
    ).length,
  );
  const asked = qs.map((q) => tokenizer.encode(tokenizer.applyChatTemplate([{ role: 'user', content: chatUserText(q) }], { addGenerationPrompt: true })).length);
  return {
    kshotPrefix,
    kshotQuestion: mean(qs.map((q) => tokenizer.encode(formatQuestion(q)).length)),
    chatPrefix,
    chatQuestion: Math.max(1, mean(chatIds.map((x) => x.length)) - chatPrefix),
    option: mean(qs.flatMap((q) => q.options.map((o) => tokenizer.encode(' ' + o).length))),
    trainExample: mean(train),
    trainReply: Math.max(1, mean(train.map((n, i) => n - asked[i]))),
  };
}

/** WorkInputs of a configuration on its split questions. */
export function workInputs(config: ExperimentConfig, splits: Splits, tokens: PromptTokens): WorkInputs {
  return {
    config,
    split: { train: perSubject(splits.train), homo: perSubject(splits.homo), id: perSubject(splits.id), ood: perSubject(splits.ood) },
    tokens,
  };
}

/**
 * The estimate of an experiment on this model and device: its splits and prompt tokens from the bank, the
 * grid's counted work, and this device's speed on the shapes that work will use. What `ift-lab estimate` and
 * the Worker's `estimate` request return. `measure` times the device (src/model/speed.ts measureSpeed).
 */
export async function estimateExperiment(
  model: Pick<LabModel, 'tokenizer'>,
  config: ExperimentConfig,
  bank: QuestionBank,
  measure: (shapes: SpeedShapes) => Promise<DeviceSpeed>,
): Promise<RunEstimate> {
  const splits = makeSplits(bank.pool, {
    trainSubjects: config.subjects.train,
    related: config.subjects.related,
    homoFraction: config.splits.homoFraction,
    caps: config.splits.caps,
    seed: config.splits.seed,
    allowEmpty: ['id', 'ood'],
  });
  const tokens = measurePromptTokens(model.tokenizer, splits, bank.fewShot, config.probe.shots);
  const work = countWork(workInputs(config, splits, tokens));
  const speed = await measure({
    scoreBatch: Math.max(config.probe.batchSize, config.evaluation.batchSize),
    scoreSeq: Math.max(tokens.kshotQuestion, tokens.chatQuestion),
    trainBatch: config.training.batchSize,
    trainSeq: Math.min(config.training.maxSeqLen, Math.round(tokens.trainExample)),
    trainLoss: tokens.trainReply === undefined ? undefined : Math.round(tokens.trainReply),
    lora: config.training.lora,
  });
  return estimateRun(work, speed, speed.bootstrapSecondsPerUnit ?? timeBootstrap());
}
