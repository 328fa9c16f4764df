/**
 * What an experiment records and reports, as types: its runs, its result, its event stream and the
 * environment it ran in. experiment.ts produces them; manifest.ts and estimate.ts read them.
 */
import type { Analysis, ConsistencyContrast } from './analysis';
import type { Contrast } from './contrasts';
import type { EvalReport, SetScores, TestSetName } from './evaluate';
import type { ExperimentConfig } from './experiment-config';
import type { ConditionKind } from './intervene';
import type { PartialCorrelation } from './metrics';
import type { ProbeResult } from './probe';
import type { RunEstimate, Stage } from './estimate';
import type { DrawOverlap } from './overlap';
import type { TeachingBreakdown } from './teaching';
import type { ShareRun, UnknownShareResult } from './unknown-share';
import type { TrainEvent } from './train';

/** Adapter / device description as plain data (the engine's AdapterInfo, whatever the UI shows). */
export type DeviceInfo = Record<string, string | number | boolean | null | readonly string[]>;

export interface GridRun {
  runId: string;
  condition: string;
  kind: ConditionKind;
  ratio?: number;
  seed: number;
  /** Seed of this run's data choices: the training seed (data redrawn per seed) or the config's fixed one. */
  dataSeed: number;
}

/** The base formats every experiment scores the untuned model in: the paper's k-shot and the tuned models' chat. */
export type BaseFormat = 'kshot' | 'chat';

/** How well a run learned its own training items: the share answered with the trained response, before and after. */
export interface RunFit {
  /** Training items (knowledge items; general instruction examples are not multiple choice). */
  n: number;
  before: number;
  after: number;
  /** Mean training loss of each epoch this call ran (empty for a run resumed past its end). */
  lossPerEpoch: number[];
  /** Fit below 0.9, or the loss not halved from the first epoch to the last. */
  underTrained: boolean;
  /** Under the stop-at-fit rule (training.untilFit): the epochs trained and the fit after each (absent otherwise). */
  epochs?: number;
  fitPerEpoch?: { epoch: number; fit: number }[];
  /** Why it counts as under-trained, in words. */
  reason: string | null;
}

export interface RunRecord extends GridRun {
  datasetHash: string;
  /** `losses`: every step's loss, those before a resume included; `lossesFromStep` > 0 only when an older checkpoint kept none. */
  train: { steps: number; finalLoss: number | null; seconds: number; resumedFromStep: number | null; losses: number[]; lossesFromStep?: number };
  fit: RunFit;
  /** Per protocol name: the tuned model against that protocol's base. */
  evals: Record<string, EvalReport>;
  /** The tuned model's per-question scores (chat format, the belief method): the contrasts pair on them. */
  scores: SetScores;
}

export interface SweepCorrelation extends PartialCorrelation {
  status: 'ok';
  /** Distinct mixture ratios among the points. */
  ratios: number;
  /**
   * The unit of analysis is the run: `p` comes from permuting whole runs (their test sets kept together), not
   * from Student's t over runs × sets as if every point were independent. `runs` units, `n` points.
   */
  unit: 'run';
  runs: number;
  permutations: number;
  exact: boolean;
  /** (C, tuned accuracy, base accuracy) per sweep run and test set. */
  points: { runId: string; set: string; ratio: number; consistency: number; tunedAccuracy: number; baseAccuracy: number }[];
}

export type SweepResult = SweepCorrelation | { status: 'not enough ratios'; ratios: number; needed: number };

export interface DatasetSummary {
  name: string;
  kind: ConditionKind;
  ratio?: number;
  dataSeed: number;
  size: number;
  generalCount: number;
  hash: string;
  /** Share of each response letter A–D among the knowledge items. */
  labelLetters: number[];
  /** E.g. one letter holds more than 40 % of the labels. */
  warnings: string[];
}

export interface BaseReport {
  format: BaseFormat;
  accuracy: Partial<Record<TestSetName, number>>;
}

export interface ExperimentResult {
  name: string;
  /**
   * Confirmatory: run under a pre-registered plan whose configuration and seeds it matches (the plan's hash
   * below). Exploratory: every other run — its decisions are previews, whatever its intervals say.
   */
  status: 'confirmatory' | 'exploratory';
  /** The plan the run was registered under: its hash, its configuration's hash, and which arm this run is. */
  plan: { hash: string; configHash: string; arm: 'main' | 'fit'; createdAt: string } | null;
  /** Hash of the parsed configuration (as a plan records it). */
  configHash: string;
  config: ExperimentConfig;
  splits: { counts: Record<'train' | 'homo' | 'id' | 'ood', number>; idSubjects: string[]; oodSubjects: string[] };
  probe: ProbeResult;
  datasets: DatasetSummary[];
  /** Base-model accuracy per protocol (in that protocol's base format). */
  baseAccuracy: Record<string, Partial<Record<TestSetName, number>>>;
  /** The untuned base in each format, and how consistent its two formats are with each other (measured C, KL). */
  base: { kshot: BaseReport; chat: BaseReport; formats: Partial<Record<TestSetName, { consistency: number; kl: number; n: number }>> };
  runs: RunRecord[];
  contrasts: Contrast[];
  /** The primary endpoint (decided by the sign-flip test over seeds), the Holm-corrected secondary family. */
  analysis: Analysis;
  /** Paired differences in consistency C between the conditions, pooled over the test sets, per protocol (descriptive). */
  consistency: ConsistencyContrast[];
  /** How much the per-seed data draws share items (known for Harmonious, unknown for the others). */
  dataOverlap: { known: DrawOverlap | null; unknown: DrawOverlap | null };
  /** Accuracy and the paper's contrasts per teaching group (questions that say how their fact was taught: the toy world). */
  teaching?: TeachingBreakdown;
  /** Partial Spearman of C with tuned accuracy controlling for base accuracy, per protocol. */
  sweep: Record<string, SweepResult | null>;
  /** Run ids whose training did not fit their data (see RunFit). */
  underTrained: string[];
  /** Gekhman et al.'s Unknown-share design (config `unknownShare`): per run and epoch, at early stop and last epoch, paired contrasts. */
  unknownShare?: UnknownShareResult;
  startedAt: string;
  finishedAt: string;
}

export type ExperimentEvent =
  | { type: 'stage'; stage: 'split' | 'probe' | 'datasets' | 'explanations' | 'baseline' | 'runs' | 'report'; message: string }
  /** Stored progress exists but was computed for other inputs: it is not reused, and this says why. */
  | { type: 'stale-progress'; changes: string[] }
  | { type: 'probe'; counts: ProbeResult['counts']; accuracy: number; warnings: string[] }
  | { type: 'progress'; stage: 'probe' | 'baseline' | 'evaluate' | 'fit'; done: number; total: number; runId?: string }
  | { type: 'run-start'; run: GridRun; index: number; total: number }
  | { type: 'train'; run: GridRun; index: number; total: number; event: TrainEvent }
  | { type: 'run-done'; run: RunRecord; index: number; total: number }
  /** The Unknown-share design's runs (share × seed): training steps, and each run once every epoch is evaluated. */
  | { type: 'share-train'; run: { runId: string; share: number; seed: number }; index: number; total: number; event: TrainEvent }
  | { type: 'share-run-done'; run: ShareRun; index: number; total: number };

export interface ExperimentEnv {
  /** Content hash of the model weights, computed by the model layer. */
  weightsHash?: string | null;
  engineVersion: string;
  device?: DeviceInfo | null;
  /** The chat format the tuned models were trained and scored in (recorded in the manifest). */
  chatTemplate?: 'model' | 'vicuna-fallback';
  now?: () => Date;
  /** The estimate made before the run (src/lab/estimate.ts); the manifest sets it against the actual time. */
  estimate?: RunEstimate | null;
  /** Measured seconds per stage, where the runner timed them (manifest: estimate vs actual per stage). */
  stageSeconds?: Partial<Record<Stage, number>>;
  /** The precision the weights were loaded in and why (src/model/precision.ts). */
  precision?: { used: 'f32' | 'f16'; reason: string } | null;
  /** Content hash of each input file the runner read (name: its path), part of the progress fingerprint. */
  inputs?: Readonly<Record<string, string>>;
}
