/**
 * An experiment end to end: split → probe → build the condition datasets → score the base model once →
 * for every (condition, ratio, seed) train, evaluate under each protocol, unload → partial correlation
 * across the mixture sweep → result record, manifest and Markdown table.
 */
import { CancelledError } from './errors';
import { evaluate, PROTOCOLS, TEST_SETS, scoreTestSets, type EvalProtocol, type EvalReport, type SetScores, type TestSets } from './evaluate';
import { parseExperimentConfig, type ExperimentConfig } from './experiment-config';
import {
  buildConditions,
  buildDataset,
  conditionName,
  trainExamples,
  writeExplanations,
  type ConditionKind,
  type GeneralExample,
  type IftDataset,
} from './intervene';
import { buildManifest, markdownReport, type DeviceInfo, type Manifest } from './manifest';
import { partialSpearman, type PartialCorrelation } from './metrics';
import type { LabModel, TrainConfig } from './model';
import { probe, type ProbeResult, type ProbeSettings, type ScoringFormat } from './probe';
import type { Question } from './questions/types';
import type { RunEstimate, Stage } from './estimate';
import { makeSplits, type Splits } from './splits';
import { runTraining, type CheckpointSink, type TrainEvent } from './train';

export { parseExperimentConfig, ExperimentConfigSchema, type ExperimentConfig, type ExperimentConfigInput } from './experiment-config';

/** The questions an experiment draws on: the pool to split, and solved examples for k-shot prompts. */
export interface QuestionBank {
  pool: readonly Question[];
  fewShot: readonly Question[];
}

export interface GridRun {
  runId: string;
  condition: string;
  kind: ConditionKind;
  ratio?: number;
  seed: number;
}

/** conditions × (ratios, for the mixture) × seeds, in a stable order. */
export function planGrid(c: Pick<ExperimentConfig, 'conditions' | 'ratios' | 'seeds'>): GridRun[] {
  const out: GridRun[] = [];
  for (const kind of c.conditions) {
    for (const ratio of kind === 'mixture' ? c.ratios : [undefined]) {
      const condition = conditionName(kind, ratio);
      for (const seed of c.seeds) out.push({ runId: `${condition}-s${seed}`, condition, kind, ...(ratio === undefined ? {} : { ratio }), seed });
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
  return c.protocols.map((name) => ({ name, base: k(PROTOCOLS[name].base), tuned: k(PROTOCOLS[name].tuned) }));
}

export function probeSettingsOf(c: ExperimentConfig): ProbeSettings {
  return {
    format: { kind: 'kshot', shots: c.probe.shots },
    method: c.probe.method,
    threshold: c.probe.threshold,
    minPerCondition: c.probe.minPerCondition,
    batchSize: c.probe.batchSize,
  };
}

export interface RunRecord extends GridRun {
  datasetHash: string;
  train: { steps: number; finalLoss: number | null; seconds: number; resumedFromStep: number | null };
  /** Per protocol name. */
  evals: Record<string, EvalReport>;
}

export interface SweepCorrelation extends PartialCorrelation {
  /** (C, tuned accuracy, base accuracy) per mixture run and test set. */
  points: { runId: string; set: string; consistency: number; tunedAccuracy: number; baseAccuracy: number }[];
}

export interface ExperimentResult {
  name: string;
  config: ExperimentConfig;
  splits: { counts: Record<'train' | 'homo' | 'id' | 'ood', number>; idSubjects: string[]; oodSubjects: string[] };
  probe: ProbeResult;
  datasets: { name: string; kind: ConditionKind; ratio?: number; size: number; generalCount: number; hash: string }[];
  /** Base-model reports per protocol (accuracy only is meaningful: base vs base). */
  baseAccuracy: Record<string, Partial<Record<'homo' | 'id' | 'ood', number>>>;
  runs: RunRecord[];
  /** Partial Spearman of C with tuned accuracy controlling for base accuracy, per protocol; null without a sweep. */
  sweep: Record<string, SweepCorrelation | null>;
  startedAt: string;
  finishedAt: string;
}

export type ExperimentEvent =
  | { type: 'stage'; stage: 'split' | 'probe' | 'datasets' | 'explanations' | 'baseline' | 'runs' | 'report'; message: string }
  | { type: 'probe'; counts: ProbeResult['counts']; accuracy: number; warnings: string[] }
  | { type: 'run-start'; run: GridRun; index: number; total: number }
  | { type: 'train'; event: TrainEvent }
  | { type: 'run-done'; run: RunRecord; index: number; total: number };

export interface ExperimentEnv {
  /** Content hash of the model weights, computed by the model layer. */
  weightsHash?: string | null;
  engineVersion: string;
  device?: DeviceInfo | null;
  now?: () => Date;
  /** The estimate made before the run (src/lab/estimate.ts); the manifest sets it against the actual time. */
  estimate?: RunEstimate | null;
  /** Measured seconds per stage, where the runner timed them (manifest: estimate vs actual per stage). */
  stageSeconds?: Partial<Record<Stage, number>>;
  /** The precision the weights were loaded in and why (src/model/precision.ts). */
  precision?: { used: 'f32' | 'f16'; reason: string } | null;
}

export interface ExperimentDeps {
  model: LabModel;
  bank: QuestionBank;
  general?: readonly GeneralExample[];
  sink?: CheckpointSink;
  signal?: AbortSignal;
  onEvent?(e: ExperimentEvent): void;
  env: ExperimentEnv;
}

export interface ExperimentOutput {
  result: ExperimentResult;
  manifest: Manifest;
  markdown: string;
  datasets: IftDataset[];
  splits: Splits;
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

async function runParsed(config: ExperimentConfig, deps: ExperimentDeps): Promise<ExperimentOutput> {
  const now = deps.env.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const { model, bank, signal } = deps;
  const emit = (e: ExperimentEvent) => deps.onEvent?.(e);
  const check = () => {
    if (signal?.aborted) throw new CancelledError(`Experiment ${config.name}`);
  };

  emit({ type: 'stage', stage: 'split', message: 'Splitting questions into train / HOMO / ID / OOD' });
  const splits = makeSplits(bank.pool, {
    trainSubjects: config.subjects.train,
    related: config.subjects.related,
    homoFraction: config.splits.homoFraction,
    caps: config.splits.caps,
    seed: config.splits.seed,
  });
  const tests: TestSets = { homo: splits.homo, id: splits.id, ood: splits.ood };

  check();
  emit({ type: 'stage', stage: 'probe', message: `Probing ${splits.train.length} training questions` });
  const probed = await probe(model, splits.train, probeSettingsOf(config), { fewShot: bank.fewShot, signal });
  emit({ type: 'probe', counts: probed.counts, accuracy: probed.accuracy, warnings: probed.warnings });

  check();
  emit({ type: 'stage', stage: 'datasets', message: 'Building the condition datasets' });
  let sets = buildConditions(probed, splits.train, { conditions: config.conditions, ratios: config.ratios, size: config.size, seed: config.dataSeed });
  if (config.responses === 'letter+explanation') {
    emit({ type: 'stage', stage: 'explanations', message: 'Writing explanations with the base model' });
    sets = await writeExplanations(model, sets, { examples: bank.fewShot, seed: config.dataSeed, signal });
  }
  const datasets: IftDataset[] = [];
  for (const s of sets) {
    datasets.push(await buildDataset(s, { style: config.responses, general: deps.general, generalRatio: config.general ? config.general.ratio : 0, seed: config.dataSeed }));
  }
  const byName = new Map(datasets.map((d) => [d.name, d]));

  check();
  emit({ type: 'stage', stage: 'baseline', message: 'Scoring the base model on the test sets' });
  const protocols = protocolsOf(config);
  const baseScores = new Map<string, SetScores>();
  const scoreOpts = { fewShot: bank.fewShot, batchSize: config.evaluation.batchSize, signal };
  for (const p of protocols) baseScores.set(p.name, await scoreTestSets(model, tests, p.base, null, scoreOpts));

  const grid = planGrid(config);
  const runs: RunRecord[] = [];
  emit({ type: 'stage', stage: 'runs', message: `Training and evaluating ${grid.length} runs` });
  for (const [index, run] of grid.entries()) {
    check();
    emit({ type: 'run-start', run, index, total: grid.length });
    const ds = byName.get(run.condition)!;
    const trained = await runTraining({
      runId: `${config.name}/${run.runId}`,
      model,
      examples: trainExamples(model.tokenizer, ds),
      config: trainConfigOf(config, run.seed),
      sink: deps.sink,
      signal,
      onEvent: (event) => emit({ type: 'train', event }),
    });
    const adapter = await model.loadAdapter(trained.state);
    const evals: Record<string, EvalReport> = {};
    try {
      for (const p of protocols) {
        const r = await evaluate(model, tests, {
          ...scoreOpts,
          protocol: p,
          adapter,
          baseScores: baseScores.get(p.name),
          bootstrap: { samples: config.evaluation.bootstrapSamples, seed: config.evaluation.bootstrapSeed },
        });
        evals[p.name] = r.report;
      }
    } finally {
      model.unloadAdapter(adapter);
    }
    const record: RunRecord = {
      ...run,
      datasetHash: ds.hash,
      train: { steps: trained.steps, finalLoss: trained.losses.at(-1) ?? null, seconds: trained.seconds, resumedFromStep: trained.resumedFromStep },
      evals,
    };
    runs.push(record);
    emit({ type: 'run-done', run: record, index, total: grid.length });
  }

  emit({ type: 'stage', stage: 'report', message: 'Writing the report' });
  const sweep: Record<string, SweepCorrelation | null> = {};
  for (const p of protocols) sweep[p.name] = sweepCorrelation(runs, p.name);
  const baseAccuracy: ExperimentResult['baseAccuracy'] = {};
  for (const p of protocols) {
    const s = baseScores.get(p.name)!;
    baseAccuracy[p.name] = Object.fromEntries(
      TEST_SETS.filter((n) => s[n]).map((n) => [n, s[n]!.filter((q) => q.correct).length / s[n]!.length]),
    );
  }
  const result: ExperimentResult = {
    name: config.name,
    config,
    splits: {
      counts: { train: splits.train.length, homo: splits.homo.length, id: splits.id.length, ood: splits.ood.length },
      idSubjects: splits.idSubjects,
      oodSubjects: splits.oodSubjects,
    },
    probe: probed,
    datasets: datasets.map((d) => ({
      name: d.name,
      kind: d.kind,
      ...(d.ratio === undefined ? {} : { ratio: d.ratio }),
      size: d.items.length,
      generalCount: d.generalCount,
      hash: d.hash,
    })),
    baseAccuracy,
    runs,
    sweep,
    startedAt,
    finishedAt: now().toISOString(),
  };
  const manifest = buildManifest(result, deps.env);
  return { result, manifest, markdown: markdownReport(result), datasets, splits };
}

/**
 * Across the runs of the mixture sweep and the three test sets: partial Spearman of C with tuned accuracy,
 * controlling for base accuracy (which differs between test sets). Null with fewer than 4 points.
 */
export function sweepCorrelation(runs: readonly RunRecord[], protocol: string): SweepCorrelation | null {
  const points: SweepCorrelation['points'] = [];
  for (const r of runs) {
    if (r.kind !== 'mixture') continue;
    const ev = r.evals[protocol];
    if (!ev) continue;
    for (const set of TEST_SETS) {
      const s = ev.sets[set];
      if (!s || s.overall.n === 0) continue;
      points.push({
        runId: r.runId,
        set,
        consistency: s.overall.consistency.value,
        tunedAccuracy: s.overall.tunedAccuracy.value,
        baseAccuracy: s.overall.baseAccuracy.value,
      });
    }
  }
  if (points.length < 4) return null;
  const pc = partialSpearman(
    points.map((p) => p.consistency),
    points.map((p) => p.tunedAccuracy),
    points.map((p) => p.baseAccuracy),
  );
  return { ...pc, points };
}
