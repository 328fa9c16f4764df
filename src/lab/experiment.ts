/**
 * The experiment, end to end — the one implementation that the Worker and the CLI both drive (they adapt
 * only storage and events): split → probe → the condition datasets (redrawn per seed by default) → the
 * untuned base scored in both formats → for every (condition, ratio, seed) train, measure the fit on its own
 * training items, score the test sets, unload → paired contrasts, the mixture sweep's partial correlation,
 * the result record, manifest and Markdown report.
 *
 * Resumable: every finished stage is written to a `ProgressStore` under the fingerprint of everything that
 * decides it (configuration, weights, engine); a store whose fingerprint differs is never reused.
 */
import { analyse, consistencyContrasts, DEFAULT_ALPHA, DEFAULT_PRIMARY, DEFAULT_SECONDARY, runUnitPartialCorrelation } from './analysis';
import { contrastOf, type Contrast, type ContrastGroup } from './contrasts';
import { CancelledError, LabError } from './errors';
import { compareScores, PROTOCOLS, TEST_SETS, scoreTestSets, type EvalProtocol, type EvalReport, type SetScores, type TestSetName, type TestSets } from './evaluate';
import { parseExperimentConfig, type ExperimentConfig } from './experiment-config';
import { stableJson } from './fingerprint';
import { sha256Hex } from './hash';
import { teachingBreakdown, type TeachingBreakdown } from './teaching';
import { buildConditions, buildDataset, conditionName, trainExamples, writeExplanations, type IftDataset } from './intervene';
import type { GeneralExample } from './general';
import { buildManifest, markdownReport, type Manifest } from './manifest';
import { mean, partialSpearman } from './metrics';
import type { AdapterState, LabModel, TrainConfig } from './model';
import { beliefMethodOf, probe, scoreQuestions, type ProbeResult, type ProbeSettings, type ScoredQuestion, type ScoringFormat } from './probe';
import type { Question, QuestionBank } from './questions/types';
import { armOf, configHash, planHash, PlanMismatchError, scienceOf, type Plan } from './plan';
import { drawOverlap } from './overlap';
import { GEKHMAN_SLICK } from './slick';
import { makeSplits, type Splits } from './splits';
import { runUnknownShare, type ShareRun, type UnknownShareResult } from './unknown-share';
import { canExplain, explainOption } from './toyworld';
import { runTraining, type CheckpointSink } from './train';

import type { GridRun, BaseFormat, RunFit, RunRecord, SweepCorrelation, SweepResult, ExperimentResult, ExperimentEvent, ExperimentEnv } from './experiment.types';

export type { DeviceInfo, GridRun, BaseFormat, RunFit, RunRecord, SweepCorrelation, SweepResult, DatasetSummary, BaseReport, ExperimentResult, ExperimentEvent, ExperimentEnv } from './experiment.types';
export type { QuestionBank } from './questions/types';
export { parseExperimentConfig, ExperimentConfigSchema, type ExperimentConfig, type ExperimentConfigInput } from './experiment-config';

/** The data seed of a training seed: redrawn per seed by default, or one fixed seed for every run. */
export function dataSeedOf(c: Pick<ExperimentConfig, 'dataSeed'>, seed: number): number {
  return c.dataSeed === 'per-seed' ? seed : c.dataSeed;
}

/** The distinct data seeds of the grid, in seed order. */
export function dataSeedsOf(c: Pick<ExperimentConfig, 'dataSeed' | 'seeds'>): number[] {
  return [...new Set(c.seeds.map((s) => dataSeedOf(c, s)))];
}

/** conditions × (ratios, for the mixture) × seeds, in a stable order. */
export function planGrid(c: Pick<ExperimentConfig, 'conditions' | 'ratios' | 'seeds' | 'dataSeed'>): GridRun[] {
  const out: GridRun[] = [];
  for (const kind of c.conditions) {
    for (const ratio of kind === 'mixture' ? c.ratios : [undefined]) {
      const condition = conditionName(kind, ratio);
      for (const seed of c.seeds) {
        out.push({ runId: `${condition}-s${seed}`, condition, kind, ...(ratio === undefined ? {} : { ratio }), seed, dataSeed: dataSeedOf(c, seed) });
      }
    }
  }
  return out;
}

export function trainConfigOf(c: ExperimentConfig, seed: number): TrainConfig {
  const t = c.training;
  return {
    lora: { rank: t.lora.rank, alpha: t.lora.alpha, dropout: t.lora.dropout, targets: t.lora.targets },
    learningRate: t.learningRate,
    weightDecay: t.weightDecay,
    betas: t.betas,
    eps: t.eps,
    schedule: t.schedule,
    epochs: t.epochs,
    batchSize: t.batchSize,
    maxSeqLen: t.maxSeqLen,
    clipNorm: t.clipNorm,
    seed,
  };
}

/** The configured protocols; a k-shot format takes the experiment's k (the probe's shots). */
export function protocolsOf(c: ExperimentConfig): EvalProtocol[] {
  const k = (f: ScoringFormat): ScoringFormat => (f.kind === 'kshot' ? { kind: 'kshot', shots: c.probe.shots } : f);
  // Like-for-like (the untuned base in the tuned models' format) is always measured: it is the honest baseline.
  const names = [...new Set([...c.protocols, 'like-for-like' as const])];
  return names.map((name) => ({ name, base: k(PROTOCOLS[name].base), tuned: k(PROTOCOLS[name].tuned) }));
}

const formatOf = (p: EvalProtocol['base']): BaseFormat => (p.kind === 'kshot' ? 'kshot' : 'chat');

export function probeSettingsOf(c: ExperimentConfig): ProbeSettings {
  return {
    format: { kind: 'kshot', shots: c.probe.shots },
    method: c.probe.method,
    threshold: c.probe.threshold,
    minPerCondition: c.probe.minPerCondition,
    batchSize: c.probe.batchSize,
    layout: c.prompt,
    // The Unknown-share design sorts by SliCK category: it turns SliCK on with Gekhman's settings unless given.
    ...(c.probe.slick ? { slick: c.probe.slick === true ? { ...GEKHMAN_SLICK } : c.probe.slick } : c.unknownShare ? { slick: { ...GEKHMAN_SLICK } } : {}),
  };
}

/** The fewest distinct mixture ratios for which the partial correlation is reported. */
export const MIN_SWEEP_RATIOS = 3;

/** What survives a cut-off: every finished stage, under the fingerprint it was computed for. */
export interface ExperimentProgress {
  version: 1;
  fingerprint: string;
  /** The fingerprint's parts, so that a stale store can say what changed (absent in older stores). */
  parts?: Record<string, string>;
  probe?: ProbeResult;
  /** Datasets per data seed (key: the seed as a string). */
  datasets?: Record<string, IftDataset[]>;
  base?: Partial<Record<BaseFormat, SetScores>>;
  runs: RunRecord[];
  /** The Unknown-share design: finished runs, and the test questions' SliCK categories. */
  shareRuns?: ShareRun[];
  shareTestCategories?: UnknownShareResult['testCategories'];
}

/** Where progress is kept: IndexedDB in the browser, a file in Node, memory in tests. */
export interface ProgressStore {
  load(): Promise<ExperimentProgress | undefined>;
  save(p: ExperimentProgress): Promise<void>;
}

export class MemoryProgressStore implements ProgressStore {
  value: ExperimentProgress | undefined;
  async load() {
    return this.value;
  }
  async save(p: ExperimentProgress) {
    this.value = structuredClone(p);
  }
}

export interface ExperimentDeps {
  model: LabModel;
  bank: QuestionBank;
  general?: readonly GeneralExample[];
  sink?: CheckpointSink;
  progress?: ProgressStore;
  /** Stages computed beforehand (the browser's Probe and Datasets pages): used when they match this config. */
  seed?: Pick<ExperimentProgress, 'probe' | 'datasets'>;
  /** Every run's final adapter, as soon as it is trained (the CLI writes PEFT folders, the Worker stores it). */
  onAdapter?(run: Pick<GridRun, 'runId' | 'seed'> & Partial<GridRun>, state: AdapterState): Promise<void> | void;
  signal?: AbortSignal;
  onEvent?(e: ExperimentEvent): void;
  env: ExperimentEnv;
  /** The pre-registered plan: the configuration must be its (or its fit arm's), and the result is then confirmatory. */
  plan?: Plan | null;
}

/** A dataset of the grid with the data seed it was drawn with. */
export type SeededDataset = IftDataset & { dataSeed: number };

/** The dataset's file name stem: its condition name, with the data seed when the data is redrawn per seed. */
export function datasetFileStem(d: { name: string; dataSeed: number }, config: Pick<ExperimentConfig, 'dataSeed' | 'seeds'>): string {
  return dataSeedsOf(config).length > 1 ? `${d.name}-d${d.dataSeed}` : d.name;
}

export interface ExperimentOutput {
  result: ExperimentResult;
  manifest: Manifest;
  markdown: string;
  datasets: SeededDataset[];
  splits: Splits;
}

/** The data an experiment reads, hashed by content: the questions (pool and few-shot) and the general examples. */
export async function dataHashes(bank: QuestionBank, general?: readonly GeneralExample[]): Promise<Record<string, string>> {
  return {
    questions: await sha256Hex(stableJson({ pool: bank.pool, fewShot: bank.fewShot })),
    ...(general?.length ? { general: await sha256Hex(stableJson(general)) } : {}),
  };
}

/**
 * What decides an experiment's numbers, part by part: the configuration, weights, engine, the content of the
 * data it reads (so a corrected answer key is never answered with old results), and the content hash of each
 * input file the runner names (`env.inputs`, so the run can say which file changed).
 */
export async function experimentFingerprintParts(
  config: ExperimentConfig,
  env: Pick<ExperimentEnv, 'weightsHash' | 'engineVersion' | 'inputs'>,
  data: { bank?: QuestionBank; general?: readonly GeneralExample[] } = {},
): Promise<Record<string, string>> {
  // Where it runs is not what it computes: `device` is left out (a run may move between devices).
  const parts: Record<string, string> = { config: stableJson(scienceOf(config)), weights: env.weightsHash ?? '(none)', engine: env.engineVersion };
  if (data.bank) Object.assign(parts, await dataHashes(data.bank, data.general));
  for (const [name, hash] of Object.entries(env.inputs ?? {})) parts[`file ${name}`] = hash;
  return parts;
}

/** The fingerprint of everything that decides an experiment's numbers (see experimentFingerprintParts). */
export async function experimentFingerprint(
  config: ExperimentConfig,
  env: Pick<ExperimentEnv, 'weightsHash' | 'engineVersion' | 'inputs'>,
  data: { bank?: QuestionBank; general?: readonly GeneralExample[] } = {},
): Promise<string> {
  return sha256Hex(stableJson(await experimentFingerprintParts(config, env, data)));
}

const PART_WORDS: Record<string, string> = { config: 'the configuration', weights: 'the model weights', engine: 'the engine version', questions: 'the questions (their content)', general: 'the general instruction data (its content)' };

/** In words, which parts of an experiment's fingerprint differ: "the file data/q.csv changed (1a2b3c4d → 5e6f7a8b)". */
export function describeProgressChanges(was: Readonly<Record<string, string>> | undefined, now: Readonly<Record<string, string>>): string[] {
  if (!was) return ['the stored progress has no fingerprint parts (an older version of the lab wrote it)'];
  const out: string[] = [];
  for (const k of [...new Set([...Object.keys(was), ...Object.keys(now)])]) {
    const a = was[k];
    const b = now[k];
    if (a === b) continue;
    if (k.startsWith('file ')) {
      out.push(a === undefined ? `the run now reads ${k.slice(5)}` : b === undefined ? `the run no longer reads ${k.slice(5)}` : `the file ${k.slice(5)} changed (content ${a.slice(0, 8)} → ${b.slice(0, 8)})`);
    } else if (k === 'config' && a !== undefined && b !== undefined) {
      const fa = new Map<string, string>();
      const fb = new Map<string, string>();
      flattenJson(JSON.parse(a), '', fa);
      flattenJson(JSON.parse(b), '', fb);
      for (const f of [...new Set([...fa.keys(), ...fb.keys()])]) if (fa.get(f) !== fb.get(f)) out.push(`${f} ${fa.get(f) ?? '(unset)'} → ${fb.get(f) ?? '(unset)'}`);
    } else out.push(`${PART_WORDS[k] ?? k} changed`);
  }
  return out.length ? out : ['the fingerprint differs'];
}

function flattenJson(v: unknown, prefix: string, out: Map<string, string>): void {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) flattenJson(x, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, JSON.stringify(v));
}

export function splitsOf(config: ExperimentConfig, bank: QuestionBank): Splits {
  return makeSplits(bank.pool, {
    trainSubjects: config.subjects.train,
    related: config.subjects.related,
    homoFraction: config.splits.homoFraction,
    caps: config.splits.caps,
    seed: config.splits.seed,
    ...(config.splits.allowEmpty ? { allowEmpty: config.splits.allowEmpty } : {}),
  });
}

/**
 * Progress over all the test sets of `passes` scoring passes (pass `pass` now), in questions: scoreTestSets
 * reports within one set, this adds the sets and passes before it.
 */
export function questionsScored(tests: TestSets, pass: number, passes: number): (set: string, done: number, total: number) => { done: number; total: number } {
  const sizes = TEST_SETS.map((n) => tests[n]?.length ?? 0);
  const all = sizes.reduce((a, b) => a + b, 0);
  return (set, done, total) => {
    const i = TEST_SETS.indexOf(set as (typeof TEST_SETS)[number]);
    const before = sizes.slice(0, Math.max(0, i)).reduce((a, b) => a + b, 0);
    const within = total > 0 ? Math.round((done / total) * (sizes[i] ?? 0)) : 0;
    return { done: pass * all + before + within, total: passes * all };
  };
}

/** The probe stage: the training pool scored by the base model with the configured method. */
export function probeStage(config: ExperimentConfig, model: LabModel, splits: Splits, bank: QuestionBank, o: { signal?: AbortSignal; onProgress?(done: number, total: number): void } = {}): Promise<ProbeResult> {
  return probe(model, splits.train, probeSettingsOf(config), { fewShot: bank.fewShot, signal: o.signal, onProgress: o.onProgress });
}

/** The dataset stage for one data seed: the conditions (and mixture ratios) at one size, as chat datasets. */
export async function datasetStage(
  config: ExperimentConfig,
  probed: ProbeResult,
  splits: Splits,
  dataSeed: number,
  deps: { model: LabModel; bank: QuestionBank; general?: readonly GeneralExample[]; signal?: AbortSignal; onProgress?(done: number, total: number): void },
): Promise<IftDataset[]> {
  if (config.general && config.general.ratio > 0 && !deps.general?.length) {
    throw new LabError('general-missing', 'The configuration mixes in general instruction data, but none was given to the runner.', 'Give the instruction file (or the toy world\'s set), or drop "general" from the configuration.');
  }
  const seeds = dataSeedsOf(config);
  const block = config.dataDraws === 'spread' ? { index: Math.max(0, seeds.indexOf(dataSeed)), of: seeds.length, poolSeed: seeds[0] ?? dataSeed } : undefined;
  let sets = buildConditions(probed, splits.train, { conditions: config.conditions, ratios: config.ratios, size: config.size, seed: dataSeed, ...(block ? { block } : {}) });
  if (config.responses === 'letter+explanation') {
    // The toy world writes its explanations from its own statement templates (the toy model's would be noise).
    const explain = config.questions.kind === 'toyworld' ? (q: Question, i: number) => (canExplain(q) ? explainOption(q, i) : null) : undefined;
    sets = await writeExplanations(deps.model, sets, { examples: deps.bank.fewShot, seed: dataSeed, layout: config.prompt, explain, signal: deps.signal, onProgress: deps.onProgress });
  }
  const out: IftDataset[] = [];
  for (const s of sets) {
    out.push(await buildDataset(s, { style: config.responses, general: deps.general, generalRatio: config.general ? config.general.ratio : 0, seed: dataSeed, layout: config.prompt, probeMethod: config.probe.method }));
  }
  return out;
}

export async function runExperiment(configInput: unknown, deps: ExperimentDeps): Promise<ExperimentOutput> {
  const config = parseExperimentConfig(configInput);
  try {
    return await runParsed(config, deps);
  } catch (e) {
    // An abort surfaces from deep inside scoring as the signal's reason: report it as the lab's cancel.
    if (deps.signal?.aborted && !(e instanceof CancelledError)) throw new CancelledError(`Experiment ${config.name}`);
    throw e;
  }
}

const accuracyOf = (s: readonly ScoredQuestion[]) => (s.length ? s.filter((q) => q.correct).length / s.length : NaN);

async function runParsed(config: ExperimentConfig, deps: ExperimentDeps): Promise<ExperimentOutput> {
  const now = deps.env.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const { model, bank, signal } = deps;
  const emit = (e: ExperimentEvent) => deps.onEvent?.(e);
  const check = () => {
    if (signal?.aborted) throw new CancelledError(`Experiment ${config.name}`);
  };
  const cfgHash = await configHash(config);
  let plan: ExperimentResult['plan'] = null;
  if (deps.plan) {
    const arm = await armOf(deps.plan, config);
    if (arm.arm === null) throw new PlanMismatchError(arm.differences);
    plan = { hash: await planHash(deps.plan), configHash: cfgHash, arm: arm.arm, createdAt: deps.plan.createdAt };
  }
  const parts = await experimentFingerprintParts(config, deps.env, { bank: deps.bank, general: deps.general });
  const fingerprint = await sha256Hex(stableJson(parts));
  const stored = await deps.progress?.load();
  const reusable = stored && stored.version === 1 && stored.fingerprint === fingerprint;
  if (stored && !reusable) emit({ type: 'stale-progress', changes: stored.version === 1 ? describeProgressChanges(stored.parts, parts) : ['the stored progress was written by another version of the lab'] });
  const progress: ExperimentProgress = reusable ? stored : { version: 1, fingerprint, parts, runs: [] };
  const save = async () => deps.progress?.save(progress);

  emit({ type: 'stage', stage: 'split', message: 'Splitting questions into train / HOMO / ID / OOD' });
  const splits = splitsOf(config, bank);
  const tests: TestSets = { homo: splits.homo, id: splits.id, ood: splits.ood };
  const method = beliefMethodOf(config.probe.method);

  check();
  if (!progress.probe && deps.seed?.probe && sameProbe(deps.seed.probe, config, splits)) progress.probe = deps.seed.probe;
  if (!progress.probe) {
    emit({ type: 'stage', stage: 'probe', message: `Probing ${splits.train.length} training questions` });
    progress.probe = await probeStage(config, model, splits, bank, { signal, onProgress: (done, total) => emit({ type: 'progress', stage: 'probe', done, total }) });
    await save();
  }
  const probed = progress.probe;
  emit({ type: 'probe', counts: probed.counts, accuracy: probed.accuracy, warnings: probed.warnings });

  check();
  emit({ type: 'stage', stage: 'datasets', message: 'Building the condition datasets' });
  progress.datasets ??= {};
  // The Unknown-share design builds its own sets (after the baseline); Ren's conditions are not trained.
  for (const ds of config.unknownShare ? [] : dataSeedsOf(config)) {
    const key = String(ds);
    if (progress.datasets[key]) continue;
    const given = deps.seed?.datasets?.[key];
    if (config.responses === 'letter+explanation' && given) {
      progress.datasets[key] = given;
    } else {
      if (config.responses === 'letter+explanation') emit({ type: 'stage', stage: 'explanations', message: 'Writing explanations with the base model' });
      progress.datasets[key] = await datasetStage(config, probed, splits, ds, { model, bank, general: deps.general, signal });
    }
    await save();
  }
  const datasetOf = (run: GridRun) => progress.datasets![String(run.dataSeed)].find((d) => d.name === run.condition)!;

  check();
  emit({ type: 'stage', stage: 'baseline', message: 'Scoring the untuned base model on the test sets (k-shot and chat formats)' });
  const protocols = protocolsOf(config);
  progress.base ??= {};
  const scoreOpts = { fewShot: bank.fewShot, batchSize: config.evaluation.batchSize, method, layout: config.prompt, signal };
  const baseFormats: Record<BaseFormat, ScoringFormat> = { kshot: { kind: 'kshot', shots: config.probe.shots }, chat: { kind: 'chat' } };
  // Progress in questions scored over every format still to score (the page says "120 of 464 questions").
  const formatsLeft = (['kshot', 'chat'] as const).filter((f) => !progress.base![f]);
  for (const [i, f] of formatsLeft.entries()) {
    const count = questionsScored(tests, i, formatsLeft.length);
    progress.base[f] = await scoreTestSets(model, tests, baseFormats[f], null, { ...scoreOpts, onProgress: (s, done, total) => emit({ type: 'progress', stage: 'baseline', ...count(s, done, total) }) });
    await save();
  }
  const base = progress.base as Record<BaseFormat, SetScores>;

  const grid = config.unknownShare ? [] : planGrid(config);
  let unknownShare: UnknownShareResult | undefined;
  if (config.unknownShare) {
    const u = config.unknownShare;
    emit({ type: 'stage', stage: 'runs', message: `Unknown-share design: ${u.shares.length} shares × ${config.seeds.length} seeds, every epoch evaluated` });
    unknownShare = await runUnknownShare(u, splits.train, probed, tests, config.splits.seed, {
      model,
      fewShot: bank.fewShot,
      probeSettings: probeSettingsOf(config),
      method,
      layout: config.prompt,
      batchSize: config.evaluation.batchSize,
      seeds: config.seeds,
      dataSeedOf: (s) => dataSeedOf(config, s),
      trainConfigOf: (s) => trainConfigOf(config, s),
      bootstrap: { samples: config.evaluation.bootstrapSamples, seed: config.evaluation.bootstrapSeed },
      done: progress.shareRuns,
      testCategories: progress.shareTestCategories,
      onTestCategories: async (t) => {
        progress.shareTestCategories = t;
        await save();
      },
      onRun: async (r) => {
        (progress.shareRuns ??= []).push(r);
        await save();
      },
      onAdapter: (run, state) => deps.onAdapter?.(run, state),
      onEvent: (e) => {
        if (e.phase === 'evaluate') emit({ type: 'progress', stage: 'evaluate', done: e.epoch ?? 0, total: config.training.epochs, runId: e.runId });
        else if (e.phase === 'train' && e.event) emit({ type: 'share-train', run: { runId: e.runId, share: e.share, seed: e.seed }, index: e.index, total: e.total, event: e.event });
        else if (e.phase === 'done' && e.run) emit({ type: 'share-run-done', run: e.run, index: e.index, total: e.total });
      },
      signal,
    });
  } else emit({ type: 'stage', stage: 'runs', message: `Training and evaluating ${grid.length} runs` });
  const bootstrap = { samples: config.evaluation.bootstrapSamples, seed: config.evaluation.bootstrapSeed };
  // The untuned model's fit on a dataset does not change between the runs that share it.
  const fitBase = new Map<string, number>();
  for (const [index, run] of grid.entries()) {
    if (progress.runs.some((r) => r.runId === run.runId)) continue;
    check();
    emit({ type: 'run-start', run, index, total: grid.length });
    const ds = datasetOf(run);
    const cfg = trainConfigOf(config, run.seed);
    const examples = trainExamples(model.tokenizer, ds);
    const fitQuestions = ds.items.map((i) => ({ ...i.question, answer: i.response as Question['answer'] }));
    const fitOfState = async (state: AdapterState) => {
      const a = await model.loadAdapter(state);
      try {
        return accuracyOf(await scoreQuestions(model, fitQuestions, { format: { kind: 'chat' }, method, layout: config.prompt, adapter: a, batchSize: config.evaluation.batchSize, signal }));
      } finally {
        model.unloadAdapter(a);
      }
    };
    const trained = await runTraining({
      ...(config.training.untilFit ? { untilFit: { threshold: config.training.untilFit.threshold, fit: fitOfState } } : {}),
      runId: `${config.name}/${run.runId}`,
      model,
      examples,
      config: cfg,
      sink: deps.sink,
      signal,
      onEvent: (event) => emit({ type: 'train', run, index, total: grid.length, event }),
    });
    await deps.onAdapter?.(run, trained.state);
    const adapter = await model.loadAdapter(trained.state);
    let scores: SetScores;
    let fitAfter: number;
    try {
      const count = questionsScored(tests, 0, 1);
      scores = await scoreTestSets(model, tests, { kind: 'chat' }, adapter, { ...scoreOpts, onProgress: (s, done, total) => emit({ type: 'progress', stage: 'evaluate', ...count(s, done, total), runId: run.runId }) });
      fitAfter = accuracyOf(await scoreQuestions(model, fitQuestions, { format: { kind: 'chat' }, method, layout: config.prompt, adapter, batchSize: config.evaluation.batchSize, signal }));
    } finally {
      model.unloadAdapter(adapter);
    }
    fitBase.set(ds.hash, fitBase.get(ds.hash) ?? accuracyOf(await scoreQuestions(model, fitQuestions, { format: { kind: 'chat' }, method, layout: config.prompt, batchSize: config.evaluation.batchSize, signal })));
    const fitBefore = fitBase.get(ds.hash)!;
    const evals: Record<string, EvalReport> = {};
    for (const p of protocols) {
      const b = base[formatOf(p.base)];
      const sets: EvalReport['sets'] = {};
      for (const name of TEST_SETS) if (b[name] && scores[name]) sets[name] = compareScores(b[name]!, scores[name]!, bootstrap);
      evals[p.name] = { protocol: p.name, sets };
    }
    const record: RunRecord = {
      ...run,
      datasetHash: ds.hash,
      train: { steps: trained.steps, finalLoss: trained.losses.at(-1) ?? null, seconds: trained.seconds, resumedFromStep: trained.resumedFromStep, losses: trained.losses, ...(trained.lossesFromStep ? { lossesFromStep: trained.lossesFromStep } : {}) },
      fit: {
        ...fitOf(fitQuestions.length, fitBefore, fitAfter, trained.losses, Math.ceil(examples.length / cfg.batchSize)),
        ...(trained.fitPerEpoch ? { epochs: trained.epochs, fitPerEpoch: trained.fitPerEpoch } : {}),
      },
      evals,
      scores,
    };
    progress.runs.push(record);
    await save();
    emit({ type: 'run-done', run: record, index, total: grid.length });
  }

  emit({ type: 'stage', stage: 'report', message: 'Writing the report' });
  const order = new Map(grid.map((g, i) => [g.runId, i]));
  const runs = progress.runs.filter((r) => order.has(r.runId)).sort((a, b) => order.get(a.runId)! - order.get(b.runId)!);
  const sweep: Record<string, SweepResult | null> = {};
  for (const p of protocols) sweep[p.name] = sweepCorrelation(runs, p.name, { seed: config.evaluation.bootstrapSeed });
  const baseAccuracy: ExperimentResult['baseAccuracy'] = {};
  for (const p of protocols) baseAccuracy[p.name] = accuracies(base[formatOf(p.base)]);
  const formats: ExperimentResult['base']['formats'] = {};
  for (const set of TEST_SETS) {
    if (!base.kshot[set] || !base.chat[set]) continue;
    const r = compareScores(base.kshot[set]!, base.chat[set]!, { samples: 0 });
    formats[set] = { consistency: r.overall.consistency.value, kl: r.overall.kl.value, n: r.overall.n };
  }
  const allDatasets = (config.unknownShare ? [] : dataSeedsOf(config)).flatMap((s) => progress.datasets![String(s)].map((d) => ({ d, dataSeed: s })));
  const boot = { samples: config.evaluation.bootstrapSamples, seed: config.evaluation.bootstrapSeed, precision: config.evaluation.bootstrapPrecision };
  const runOf = new Map(runs.map((r) => [`${r.condition}\u0000${r.seed}`, r]));
  const scoresOf = (c: string, seed: number) => (c === BASE_CHAT ? base.chat : runOf.get(`${c}\u0000${seed}`)?.scores);
  const protocolBase = (name: string) => {
    const p = protocols.find((x) => x.name === name);
    return p ? base[formatOf(p.base)] : undefined;
  };
  const drawsOf = (kind: 'harmonious' | 'incompatible') =>
    dataSeedsOf(config).map((s) => progress.datasets![String(s)].find((d) => d.kind === kind || (kind === 'incompatible' && d.kind !== 'harmonious'))?.items.map((i) => i.question.id) ?? []).filter((x) => x.length);
  const result: ExperimentResult = {
    name: config.name,
    status: plan ? 'confirmatory' : 'exploratory',
    plan,
    configHash: cfgHash,
    config,
    splits: {
      counts: { train: splits.train.length, homo: splits.homo.length, id: splits.id.length, ood: splits.ood.length },
      idSubjects: splits.idSubjects,
      oodSubjects: splits.oodSubjects,
    },
    probe: probed,
    datasets: allDatasets.map(({ d, dataSeed }) => ({
      name: d.name,
      kind: d.kind,
      ...(d.ratio === undefined ? {} : { ratio: d.ratio }),
      dataSeed,
      size: d.items.length,
      generalCount: d.generalCount,
      hash: d.hash,
      labelLetters: [...d.labelLetters.shares],
      warnings: [...d.warnings],
    })),
    baseAccuracy,
    base: { kshot: { format: 'kshot', accuracy: accuracies(base.kshot) }, chat: { format: 'chat', accuracy: accuracies(base.chat) }, formats },
    runs,
    contrasts: contrasts(config, runs, base, protocols),
    analysis: analyse(
      {
        primary: deps.plan?.primary ?? DEFAULT_PRIMARY,
        secondary: deps.plan?.secondary ?? DEFAULT_SECONDARY,
        alpha: deps.plan?.alpha ?? DEFAULT_ALPHA,
        status: plan ? 'confirmatory' : 'exploratory',
      },
      scoresOf,
      protocolBase,
      config.seeds,
      boot,
    ),
    consistency: consistencyContrasts([...new Set(runs.map((r) => r.condition))], protocols.map((p) => p.name), scoresOf, protocolBase, config.seeds, boot),
    dataOverlap: {
      // The Unknown-share design draws its own sets (its result says how they nest); Ren's conditions draw these.
      known: !config.unknownShare && config.conditions.includes('harmonious') ? drawOverlap(drawsOf('harmonious'), probed.counts.known) : null,
      unknown: !config.unknownShare && config.conditions.some((c) => c !== 'harmonious') ? drawOverlap(drawsOf('incompatible'), probed.counts.unknown) : null,
    },
    ...teachingOf(config, splits, base, runs),
    sweep,
    underTrained: runs.filter((r) => r.fit.underTrained).map((r) => r.runId),
    ...(unknownShare ? { unknownShare } : {}),
    startedAt,
    finishedAt: now().toISOString(),
  };
  const manifest = buildManifest(result, {
    // Recorded only when the lab supplied the format (a base model without a template): the paper's Vicuna.
    chatTemplate: model.tokenizer.chatTemplate === 'vicuna-fallback' ? 'vicuna-fallback' : undefined,
    ...deps.env,
  });
  return { result, manifest, markdown: markdownReport(result), datasets: allDatasets.map((x) => ({ ...x.d, dataSeed: x.dataSeed })), splits };
}

/** A probe computed beforehand counts only when it probed exactly this pool with these settings. */
function sameProbe(p: ProbeResult, config: ExperimentConfig, splits: Splits): boolean {
  const s = probeSettingsOf(config);
  const ids = splits.train.map((q) => q.id);
  return (
    p.settings.method === s.method &&
    p.settings.threshold === s.threshold &&
    JSON.stringify(p.settings.slick ?? null) === JSON.stringify(s.slick ?? null) &&
    JSON.stringify(p.settings.format) === JSON.stringify(s.format) &&
    p.items.length === ids.length &&
    // The same ids with the same answers: a corrected answer key is probed again, not answered from the old probe.
    p.items.every((it, i) => it.id === ids[i] && it.gold === splits.train[i].answer)
  );
}

function accuracies(s: SetScores): Partial<Record<TestSetName, number>> {
  return Object.fromEntries(TEST_SETS.filter((n) => s[n]).map((n) => [n, accuracyOf(s[n]!)]));
}

/** Fit below this share of the trained responses, or a loss that did not halve, marks a run under-trained. */
export const FIT_THRESHOLD = 0.9;

export function fitOf(n: number, before: number, after: number, losses: readonly number[], stepsPerEpoch: number): RunFit {
  const lossPerEpoch: number[] = [];
  for (let i = 0; i < losses.length; i += stepsPerEpoch) lossPerEpoch.push(mean(losses.slice(i, i + stepsPerEpoch)));
  const reasons: string[] = [];
  if (!(after >= FIT_THRESHOLD)) reasons.push(`it answers ${(100 * after).toFixed(0)} % of its own training items as trained (below ${100 * FIT_THRESHOLD} %)`);
  if (lossPerEpoch.length >= 2 && !(lossPerEpoch.at(-1)! <= lossPerEpoch[0] / 2)) {
    reasons.push(`its training loss went from ${lossPerEpoch[0].toFixed(3)} to ${lossPerEpoch.at(-1)!.toFixed(3)} (not halved)`);
  }
  return { n, before, after, lossPerEpoch, underTrained: reasons.length > 0, reason: reasons.length ? reasons.join('; ') : null };
}

/** The pairs the report contrasts: the paper's, the random-wrong control, each mixture, and every condition against the untuned base. */
export function contrastPairs(conditions: readonly string[]): [string, string][] {
  const has = (c: string) => conditions.includes(c);
  const pairs: [string, string][] = [];
  if (has('harmonious') && has('incompatible')) pairs.push(['harmonious', 'incompatible']);
  if (has('selfAligning') && has('incompatible')) pairs.push(['selfAligning', 'incompatible']);
  if (has('selfAligning') && has('randomWrong')) pairs.push(['selfAligning', 'randomWrong']);
  if (has('incompatible')) for (const c of conditions) if (c.startsWith('mixture-')) pairs.push([c, 'incompatible']);
  for (const c of conditions) pairs.push([c, BASE_CHAT]);
  return pairs;
}

/** The untuned base scored in the tuned models' format, as a contrast's reference. */
export const BASE_CHAT = 'base-chat';

function contrasts(config: ExperimentConfig, runs: readonly RunRecord[], base: Record<BaseFormat, SetScores>, protocols: readonly EvalProtocol[]): Contrast[] {
  const conditions = [...new Set(runs.map((r) => r.condition))];
  const runOf = new Map(runs.map((r) => [`${r.condition}\u0000${r.seed}`, r]));
  const out: Contrast[] = [];
  const opts = { samples: config.evaluation.bootstrapSamples, seed: config.evaluation.bootstrapSeed, precision: config.evaluation.bootstrapPrecision };
  for (const p of protocols) {
    const groupBase = base[formatOf(p.base)];
    for (const set of TEST_SETS) {
      const ref = groupBase[set];
      const chat = base.chat[set];
      if (!ref || !chat || ref.length === 0) continue;
      const groups: Record<ContrastGroup, number[]> = { overall: [], known: [], unknown: [] };
      ref.forEach((q, i) => {
        groups.overall.push(i);
        groups[q.correct ? 'known' : 'unknown'].push(i);
      });
      const correct = (c: string, seed: number): readonly ScoredQuestion[] | undefined => (c === BASE_CHAT ? chat : runOf.get(`${c}\u0000${seed}`)?.scores[set]);
      for (const [a, b] of contrastPairs(conditions)) {
        const seeds = config.seeds.filter((s) => correct(a, s) && correct(b, s));
        if (seeds.length === 0) continue;
        for (const g of ['overall', 'known', 'unknown'] as const) {
          const idx = groups[g];
          if (idx.length === 0) continue;
          const perSeed = seeds.map((s) => {
            const sa = byOrder(correct(a, s)!, ref);
            const sb = byOrder(correct(b, s)!, ref);
            return { a: idx.map((i) => (sa[i].correct ? 1 : 0)), b: idx.map((i) => (sb[i].correct ? 1 : 0)) };
          });
          out.push(contrastOf({ a, b, set, protocol: p.name, group: g }, perSeed, opts));
        }
      }
    }
  }
  return out;
}

/** The teaching-group breakdown, when the test questions carry groups (the toy world). */
function teachingOf(config: ExperimentConfig, splits: Splits, base: Record<BaseFormat, SetScores>, runs: readonly RunRecord[]): { teaching?: TeachingBreakdown } {
  const pairs = contrastPairs([...new Set(runs.map((r) => r.condition))]).filter(([, b]) => b !== BASE_CHAT);
  const t = teachingBreakdown({ homo: splits.homo, id: splits.id, ood: splits.ood }, base, runs, pairs, config.seeds, {
    samples: config.evaluation.bootstrapSamples,
    seed: config.evaluation.bootstrapSeed,
  });
  return t ? { teaching: t } : {};
}

/** Scores in the order of `ref`'s questions (matched by id). */
function byOrder(s: readonly ScoredQuestion[], ref: readonly ScoredQuestion[]): ScoredQuestion[] {
  if (s.length === ref.length && s.every((x, i) => x.id === ref[i].id)) return s as ScoredQuestion[];
  const m = new Map(s.map((x) => [x.id, x]));
  return ref.map((r) => {
    const x = m.get(r.id);
    if (!x) throw new LabError('scores-mismatch', `Question ${r.id} was scored for one model only.`, 'This is a bug in IFT Lab; please report it.');
    return x;
  });
}

/**
 * The mixture sweep's partial correlation — the lab's one definition, in the browser and in Node: over the runs
 * of the sweep (each mixture ratio, with Incompatible as r = 0 and Self-aligning as r = 1 when trained) × the three
 * test sets, Spearman of C with tuned accuracy controlling for base accuracy (the paper's code's definition).
 * The run is the unit: the p-value permutes whole runs among each other (src/lab/analysis.ts), so a run's three
 * test sets never count as three independent points. Reported only from at least MIN_SWEEP_RATIOS distinct
 * ratios; otherwise "not enough ratios". Null when the grid has no mixture at all.
 */
export function sweepCorrelation(runs: readonly RunRecord[], protocol: string, opts: { samples?: number; seed?: number } = {}): SweepResult | null {
  if (!runs.some((r) => r.kind === 'mixture')) return null;
  const ratioOf = (r: RunRecord) => (r.kind === 'mixture' ? r.ratio! : r.kind === 'incompatible' ? 0 : r.kind === 'selfAligning' ? 1 : null);
  const points: SweepCorrelation['points'] = [];
  for (const r of runs) {
    const ratio = ratioOf(r);
    const ev = r.evals[protocol];
    if (ratio === null || !ev) continue;
    for (const set of TEST_SETS) {
      const s = ev.sets[set];
      if (!s || s.overall.n === 0) continue;
      points.push({ runId: r.runId, set, ratio, consistency: s.overall.consistency.value, tunedAccuracy: s.overall.tunedAccuracy.value, baseAccuracy: s.overall.baseAccuracy.value });
    }
  }
  const ratios = new Set(points.map((p) => p.ratio)).size;
  if (ratios < MIN_SWEEP_RATIOS) return { status: 'not enough ratios', ratios, needed: MIN_SWEEP_RATIOS };
  const byRun = runUnitPartialCorrelation(points, (x, y, z) => partialSpearman(x, y, z).r, opts);
  return { status: 'ok', r: byRun.r, p: byRun.p, n: byRun.points, unit: 'run', runs: byRun.runs, permutations: byRun.permutations, exact: byRun.exact, ratios, points };
}
