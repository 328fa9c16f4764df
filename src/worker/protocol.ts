/**
 * The one message protocol between the page and the lab Worker. Every request kind has a result type in
 * `Results`; the compiler checks both the Worker's handlers and the page's calls against these types.
 * Only plain, structured-cloneable data crosses this boundary (no GPU objects, no class instances).
 */
import type { SlickCategory, SlickTeachingTable } from '../lab/slick';
export type { SlickCategory, SlickTeachingTable } from '../lab/slick';
import type { DeviceChoice } from '../engine/backend';
import type { AdapterReport } from '../engine/device';
import type { CatalogueModel } from '../model/catalogue';
import type { ErrorInfo } from '../util/errors';
import type { SelfTestResult } from '../engine/selftest/types';
import type { RunEstimate } from '../lab/estimate';
import type { SetReport } from '../lab/evaluate';
import type { ExperimentConfigInput } from '../lab/experiment-config';
import type { SharedResult } from '../share/types';

export type { ErrorInfo, ExperimentConfigInput };
/** The toy world's one-click experiment (also the toy world's page defaults). */
export { TOY_EXPERIMENT } from './toy-defaults';

/** Where the lab computes: the Model page's "Run on" setting (src/engine/backend.ts chooses for `auto`). */
export type { DeviceChoice };

/** The backend the Worker runs on under the page's choice. */
export interface BackendInfo {
  choice: DeviceChoice;
  kind: 'webgpu' | 'cpu';
  /** The runtime's own description (what the manifest records). */
  description: string;
  /** Why this backend, in one sentence (src/engine/backend.ts). */
  reason: string;
  /** The page is cross-origin isolated (COOP/COEP): SharedArrayBuffer, so CPU threads, are possible. */
  crossOriginIsolated: boolean;
  /** The CPU's logical cores as the browser reports them. */
  cores: number;
}

export interface Capabilities {
  /** navigator.gpu exists in the Worker. */
  webgpu: boolean;
  /** The WebGPU adapter, when one could be opened (whatever the lab runs on). */
  adapter: AdapterReport | null;
  /** Why WebGPU cannot be used, when it cannot. */
  error: ErrorInfo | null;
  /** What the lab runs on; null only where the choice cannot be met (WebGPU asked for, and missing). */
  backend: BackendInfo | null;
  /** Why the chosen backend could not be opened (with `backend` null). */
  backendError?: ErrorInfo | null;
}

export interface SelfTestReport {
  adapter: AdapterReport;
  results: SelfTestResult[];
  ms: number;
}

/** Requests the page can make, one variant per kind. */
export type Request =
  | { kind: 'capabilities' }
  /** Run on this backend from now on (the Model page's "Run on"); the answer is the new capabilities. */
  | { kind: 'useDevice'; device: DeviceChoice }
  | { kind: 'selftest' }
  | ModelRequest
  | LabRequest;

/** What each request kind resolves to. */
export interface Results extends ModelResults, LabResults {
  capabilities: Capabilities;
  useDevice: Capabilities;
  selftest: SelfTestReport;
}

export type RequestKind = Request['kind'];
export type RequestOf<K extends RequestKind> = Extract<Request, { kind: K }>;

/** Progress of a running request: a stage, a fraction and optional live metrics (loss, tokens/s…). */
export interface Progress {
  stage: string;
  done: number;
  total: number;
  detail?: string;
  metrics?: Record<string, number>;
}

export type ToWorker =
  | { type: 'request'; id: number; request: Request }
  | { type: 'cancel'; id: number };

export type FromWorker =
  | { type: 'progress'; id: number; progress: Progress }
  | { type: 'result'; id: number; kind: RequestKind; result: Results[RequestKind] }
  | { type: 'error'; id: number; error: ErrorInfo }
  | { type: 'cancelled'; id: number }
  | { type: 'device-lost'; error: ErrorInfo };

/** A request's handler in the Worker: reports progress, honours the signal, resolves to its result. */
export type Handler<K extends RequestKind> = (
  request: RequestOf<K>,
  ctx: { progress(p: Progress): void; signal: AbortSignal },
) => Promise<Results[K]>;

export type Handlers = { [K in RequestKind]: Handler<K> };

// ---------------------------------------------------------------------------------------------------------
// The model: load (the built-in toy world, or a Hub id with a Cache Storage copy), the cache, verification.
// Progress of `loadModel` uses `Progress.metrics`: bytes, totalBytes, bytesPerSec, etaSec, filesDone,
// filesTotal (per file; `detail` names the file).
// ---------------------------------------------------------------------------------------------------------

export interface ModelInfo {
  id: string;
  revision: string;
  arch: string;
  layers: number;
  hiddenSize: number;
  vocabSize: number;
  /** Parameters of the base model. */
  params: number;
  precision: 'f32' | 'f16';
  /** Why this precision (e.g. "the built-in model is tiny: exact f32"). */
  precisionReason: string;
  /** Bytes the weights occupy on the GPU. */
  weightBytes: number;
  /** Every file came from the browser's cache (or the app itself): no download. */
  fromCache: boolean;
  builtin: boolean;
  loadSeconds: number;
  /** 'vicuna-fallback': the model ships no chat template (a base model), so the lab uses Vicuna's, as the paper did. */
  chatTemplate: 'model' | 'vicuna-fallback';
  /** Where it came from: the Hub (or the endpoint given), or a folder opened from disk. */
  source: 'builtin' | 'hub' | 'folder';
}

export interface CachedModelInfo {
  id: string;
  revision: string;
  bytes: number;
  files: number;
}

export interface VerifyOutcome {
  /** False when there is nothing to compare against; `message` says why. */
  ran: boolean;
  message: string;
  prompts: number;
  positions: number;
  maxAbsLogitDiff: number | null;
  top1Agreement: number | null;
}

/** A model's files picked from disk (Hugging Face layout: config.json, tokenizer files, safetensors), by file name. */
export type FolderFiles = Record<string, Blob>;

/** One of the lab's curated models (src/model/catalogue.ts), as the Worker's modelCatalogue returns it. */
export type CatalogueEntry = CatalogueModel;

export interface AdapterInfo {
  id: string;
  runId: string;
  gridRun: string;
  baseModel: string;
  rank: number;
  alpha: number;
  targets: string[];
  step: number;
  /** Bytes of the adapter's tensors (f32). */
  bytes: number;
}

/** An imported adapter scored on the probe's test sets against the base, with the lab's own evaluation. */
export interface AdapterEvaluation {
  baseModel: string | null;
  modelId: string;
  rank: number;
  alpha: number;
  targets: string[];
  warnings: string[];
  /** Per protocol (paper: base 5-shot; likeForLike: base in the chat format), per test set: the lab's SetReport. */
  protocols: Record<'paper' | 'likeForLike', Partial<Record<'homo' | 'id' | 'ood', SetReport>>>;
}

export type ModelRequest =
  /** `precision`: the experiment config's `model.precision` (default 'auto', src/model/precision.ts). */
  | { kind: 'loadModel'; id: string; revision?: string; precision?: 'auto' | 'f32' | 'f16'; endpoint?: string; files?: FolderFiles }
  | { kind: 'modelCatalogue' }
  | { kind: 'cachedModels' }
  | { kind: 'deleteCachedModel'; id: string; revision?: string }
  /** The loaded model on our engine vs transformers.js (onnxruntime-web, WebGPU) on a few prompts. */
  | { kind: 'verifyModel' }
  /** The adapters stored for a run (every grid run's final LoRA weights). */
  | { kind: 'adapters'; runId: string }
  /** One stored adapter as a PEFT folder in a zip (adapter_config.json + adapter_model.safetensors). */
  | { kind: 'exportAdapter'; id: string }
  /** Import a PEFT adapter (a zip, or the two files by name) and score it on a probe's test sets against the base. */
  | { kind: 'evaluateAdapter'; probeId: string; zip?: Uint8Array; files?: Record<string, Uint8Array> };

export interface ModelResults {
  loadModel: ModelInfo;
  modelCatalogue: CatalogueEntry[];
  adapters: AdapterInfo[];
  exportAdapter: { filename: string; zip: Uint8Array; tensors: string[] };
  evaluateAdapter: AdapterEvaluation;
  cachedModels: CachedModelInfo[];
  deleteCachedModel: { freedBytes: number };
  verifyModel: VerifyOutcome;
}

// ---------------------------------------------------------------------------------------------------------
// The lab's requests. The UI's one call site is `labCall` in src/ui/state/lab.svelte.ts.
// Payloads are plain data (structured-clone safe).
// ---------------------------------------------------------------------------------------------------------

/** Where the probe's questions come from. */
export type QuestionSource =
  | { type: 'toyworld'; seed: number }
  | { type: 'mmlu'; subjects: string[] }
  /** A user file already validated on the page (the Worker validates again). */
  | { type: 'file'; filename: string; text: string };

export interface ProbeConfig {
  source: QuestionSource;
  /** Solved examples in the prompt (0–5). */
  k: number;
  /** Keep only questions whose top option probability is above this (paper: 0.5). */
  threshold: number;
  /** Strict probe: known only when right under all four cyclic orders of the options (older pages). */
  strict: boolean;
  /** Belief method: letter (the paper), strict, debiased (four orders averaged by content), continuation. */
  method?: ProbeMethod;
  seed: number;
  /** Largest number of questions in each split (train pool, HOMO, ID, OOD): small for a quick look on a slow GPU. */
  maxPerSplit?: number;
  /** Also give each question a SliCK category (Gekhman et al. 2024: 5 exemplar sets, T = 0.5, 16 draws; docs/slick.md). */
  slick?: boolean;
}

export interface ProbeSummary {
  probeId: string;
  questions: number;
  known: number;
  unknown: number;
  /** Below the threshold. */
  dropped: number;
  perSubject: { subject: string; known: number; unknown: number; dropped: number }[];
  /** Base accuracy on the probed pool, for the near-chance warning. */
  accuracy: number;
  /** The belief method the probe used (absent in summaries saved by older pages). */
  method?: ProbeMethod;
  /** Where its questions came from (absent in older summaries). */
  source?: QuestionSource['type'];
  /** Every probed question (absent in older summaries). */
  rows?: ProbeRow[];
  /** Share of each predicted letter A–D, and of each gold letter, over the probed questions. */
  letterBias?: { n: number; predicted: number[]; gold: number[] };
  /** The probe's own warnings (near chance, a condition too small…). */
  warnings?: string[];
  /** SliCK (probed with `slick`): questions per category, and category × teaching group on the toy world. */
  slick?: { counts: Record<SlickCategory, number>; byTeaching: SlickTeachingTable | null };
}

export type ProbeMethod = 'letter' | 'strict' | 'debiased' | 'continuation';

/** One probed question as the Probe page's table shows it. */
export interface ProbeRow {
  id: string;
  subject: string;
  question: string;
  options: string[];
  /** Gold and believed option, 0–3. */
  gold: number;
  belief: number;
  /** Probability of the believed option. */
  confidence: number;
  status: 'known' | 'unknown' | 'discarded';
  /** SliCK category, greedy-right share and exact sampled-right chance (probed with `slick`). */
  category?: SlickCategory;
  greedyRight?: number;
  sampledRight?: number;
  /** How the toy world taught the fact (mc, statement, none, misconception). */
  group?: string;
}

export type ConditionId = 'harmonious' | 'incompatible' | 'selfAligning' | 'randomWrong' | 'mixture';

export interface DatasetConfig {
  probeId: string;
  conditions: ConditionId[];
  /** Mixture ratios r (fraction of Self-aligning items). */
  ratios: number[];
  /** Examples per condition (the same for all). */
  size: number;
  responses: 'letter' | 'explanation';
  /** General instruction data mixed into every condition (the paper mixes Alpaca), or none. */
  general?: GeneralSource | null;
  /** General examples per knowledge item (the paper: 1, an equal share). */
  generalRatio?: number;
  seed: number;
}

/** General instruction data: the toy world's own set, or a file the student chose (its text; the Worker checks it). */
export type GeneralSource = { type: 'toyworld' } | { type: 'file'; filename: string; text: string };

/** What a general-data source holds, as the Datasets page shows it before building. */
export interface GeneralCheck {
  label: string;
  /** Good examples, and how many of each format. */
  examples: number;
  formats: Partial<Record<'alpaca' | 'chat' | 'sharegpt', number>>;
  /** Bad rows (at most 20 listed) and their count. */
  errors: { line: number; field: string; reason: string }[];
  errorCount: number;
  /** The first examples' user turn and reply. */
  preview: { user: string; reply: string }[];
}

export interface DatasetExample {
  question: string;
  response: string;
  /** Whether the response's letter is the gold answer. */
  correct: boolean;
  /** The training text exactly as the model sees it (chat template applied): `context` carries no loss… */
  context: string;
  /** …`target` (the assistant's reply and end of turn) is what the loss is computed on. */
  target: string;
}

export interface DatasetSummary {
  datasets: {
    datasetId: string;
    condition: ConditionId;
    ratio: number | null;
    size: number;
    hash: string;
    preview: DatasetExample[];
    /** How often each letter A–D is the trained answer (absent in older summaries). */
    labelLetters?: { counts: number[]; shares: number[] };
    /** General instruction examples mixed in (absent in older summaries). */
    generalCount?: number;
    /** The dataset's own warnings (e.g. one letter holding most labels). */
    warnings?: string[];
  }[];
  /** Problems the page should show (e.g. "only 37 unknown questions: Incompatible is smaller than asked"). */
  warnings: string[];
}

/**
 * The Train page's settings, in the page's terms (PEFT projection names, `lr`, `batch`): the Worker turns them
 * into the lab's ExperimentConfig (browser-config.ts), whose training part is the model's TrainConfig.
 */
export interface TrainSettings {
  datasetIds: string[];
  lora: { rank: number; alpha: number; dropout: number; targets: string[] };
  lr: number;
  epochs: number;
  batch: number;
  schedule: 'cosine' | 'linear' | 'constant';
  warmup: number;
  seed: number;
  /** Train every condition once per seed (default: `[seed]`). */
  seeds?: number[];
  /** The data's seed: `"per-seed"` redraws the datasets for every training seed; default the Datasets page's seed. */
  dataSeed?: 'per-seed' | number;
}

/**
 * Progress of `train` and `experiment` uses `Progress.metrics` with these names, every step:
 * step, totalSteps, loss, lr, tokensPerSec, etaSec, gpuBytes, condition (index into datasetIds), run (index
 * into the grid of conditions × seeds), runs (its size), seed. When a run is done (stage `evaluate`, done =
 * total, no `step`): condition, run, runs, seed and its training fit — fitBefore, fitAfter (share of its own
 * training items answered as trained) and underTrained (1 or 0).
 */
export type TrainMetric =
  | 'step' | 'totalSteps' | 'loss' | 'lr' | 'tokensPerSec' | 'etaSec' | 'gpuBytes' | 'condition' | 'run' | 'runs' | 'seed'
  | 'fitBefore' | 'fitAfter' | 'underTrained' | 'estimateSec';

export interface QuestionChange {
  question: string;
  subject: string;
  gold: string;
  base: string;
  tuned: string;
  baseP: number;
  tunedP: number;
  /** Known to the base model (probe). */
  known: boolean;
}

/** An estimate, and when this device was timed for it (a kept timing is reused: src/worker/speed-cache.ts). */
export type EstimateOutcome = RunEstimate & { measuredAt: number; cached: boolean };

export interface ExperimentOutcome {
  runId: string;
  /** The share-ready result (src/share SharedResult); the page stores it in `runs` (History). */
  result: SharedResult;
  /** Questions whose answer changed between the base and a tuned model, per condition name. */
  changes: Record<string, QuestionChange[]>;
  /** A one-click run's probe and datasets (stored like the pages' own): the Probe, Datasets and Train pages show them. */
  steps?: { probe: ProbeSummary; datasets: DatasetSummary | null };
}

/**
 * A pre-registered plan kept in this browser (store collection `plans`, one record per plan, under its hash):
 * the frozen plan.json as written — the same file `ift-lab preregister` writes and `ift-lab experiment --plan`
 * reads — and what the pages show of it. Only the Worker writes these records; it checks the text again
 * (src/lab/plan.ts parsePlan) before every run under it.
 */
export interface PlanInfo {
  /** The store id: the plan's hash. */
  planId: string;
  /** SHA-256 of the plan as written: what a confirmatory manifest names. */
  hash: string;
  name: string;
  /** When the plan was frozen (ISO 8601). */
  createdAt: string;
  configHash: string;
  seeds: number[];
  /** The primary endpoint in words ("H − I: accuracy, pooled, paper protocol"). */
  primary: string;
  /** Secondary endpoints by id (Holm-corrected). */
  secondary: string[];
  alpha: number;
  decisionRule: string;
  /** The stop-at-fit sensitivity arm, when the plan has one. */
  fitArm: { threshold: number; maxEpochs: number; configHash: string } | null;
  /** What the plan cannot decide (too few seeds, a condition it does not train…). */
  notes: string[];
  /** Registered on the Train page, or imported from a plan.json file. */
  source: 'browser' | 'file';
  /** The plan.json text (download it to run it with `ift-lab experiment --plan`). */
  json: string;
}

/** A plan's record in the store's `plans` collection. */
export interface PlanRecord {
  id: string;
  createdAt: number;
  kind: 'plan';
  info: PlanInfo;
}

/** A run under a stored plan: its main arm, or its stop-at-fit sensitivity arm. */
export interface UnderPlan {
  planId: string;
  arm: 'main' | 'fit';
}

export type LabRequest =
  | { kind: 'probe'; config: ProbeConfig }
  | { kind: 'buildDatasets'; config: DatasetConfig }
  /**
   * Train, then evaluate, one condition after another; the result is the whole run. Under a plan the run is
   * refused (code 'plan-mismatch', the differences listed) unless its configuration and seeds are the plan's;
   * it is then confirmatory.
   */
  | { kind: 'experiment'; train: TrainSettings; protocol: 'paper' | 'likeForLike'; plan?: UnderPlan }
  /**
   * Freeze a plan for the configuration the Train page's settings make (with the probe's and datasets'), the
   * seeds included, with the CLI's options: the default endpoints and α, and the optional stop-at-fit arm.
   */
  | { kind: 'registerPlan'; train: TrainSettings; fitArm: boolean }
  /**
   * Keep a plan.json (one `ift-lab preregister` wrote, one downloaded here, or one a share link carries): checked,
   * then stored; with `expectHash`, refused unless it is the plan of that hash (code 'plan-not-the-results').
   */
  | { kind: 'importPlan'; filename: string; text: string; expectHash?: string }
  /** Continue a stored run cut off by a reload (or a cancel): from its last checkpoint, same progress. */
  | { kind: 'resumeExperiment'; runId: string }
  /** Pause or resume a running `experiment` (cancel is the protocol's own `cancel`). */
  | { kind: 'trainControl'; action: 'pause' | 'resume' }
  /**
   * Expected time per stage of an experiment configuration (ExperimentConfigInput) on this device, before it
   * runs; `source` carries a user's question file (the browser cannot read the configuration's paths).
   * `keepLoaded`: refuse (code 'estimate-other-model') rather than replace another loaded model (the front page).
   */
  | { kind: 'estimate'; config: unknown; source?: QuestionSource; keepLoaded?: boolean }
  /**
   * The whole experiment from one configuration (the front page's one click: TOY_EXPERIMENT): probe,
   * datasets, every condition × seed, evaluation; stored and resumable like `experiment`. Toy world only.
   */
  | { kind: 'runConfig'; config: ExperimentConfigInput; protocol?: 'paper' | 'likeForLike' }
  /** Check a question file with the lab's reader, as the probe will read it. */
  | { kind: 'validateQuestions'; filename: string; text: string }
  | { kind: 'checkGeneral'; source: GeneralSource };

/** What the lab's question reader made of a file. */
export interface QuestionCheck {
  valid: number;
  subjects: string[];
  /** Every bad row (the probe refuses a file that has any). */
  errors: { line: number; field: string; reason: string }[];
  /** About the file as a whole (its encoding, a guessed format). */
  warnings: string[];
  /** The file cannot be read at all (size, format). */
  fatal: string | null;
}

export interface LabResults {
  probe: ProbeSummary;
  buildDatasets: DatasetSummary;
  experiment: ExperimentOutcome;
  registerPlan: PlanInfo;
  importPlan: PlanInfo;
  resumeExperiment: ExperimentOutcome;
  trainControl: { paused: boolean };
  estimate: EstimateOutcome;
  runConfig: ExperimentOutcome;
  validateQuestions: QuestionCheck;
  checkGeneral: GeneralCheck;
}
export type LabRequestKind = LabRequest['kind'];
export type LabRequestOf<K extends LabRequestKind> = Extract<LabRequest, { kind: K }>;
