/**
 * The lab in the Worker: one loaded model (the built-in toy world unless the page loads another), the
 * probes and datasets by id (kept in the store, so they outlive a reload), and experiments that train,
 * checkpoint, pause, cancel, evaluate and resume (experiment-session.ts). Plain TypeScript over injected dependencies, so that
 * Node tests drive it through Dawn exactly as the Worker does in a browser.
 */
import type { Runtime } from '../engine/runtime';
import { LabError } from '../lab/errors';
import { datasetStage, probeStage, splitsOf, type ExperimentConfig, type ExperimentProgress } from '../lab/experiment';
import { itemMessages, responseText, type ResponseStyle } from '../lab/intervene';
import type { LabTokenizer } from '../lab/model';
import type { SplitConfig } from '../lab/splits';
import { isBuiltin, TOY_WORLD_ID } from '../model/builtin';
import { createEngineModel, type EngineModel } from '../model/engine-model';
import type { PrecisionChoice } from '../model/precision';
import { deleteCachedModel, listCachedModels, loadFolderFiles, type DownloadProgress, type ModelCache, type ModelFiles } from '../model/hub';
import { checkModelFiles } from '../model/load';
import { estimateRequest } from './estimate';
import { loadErrorFor } from './load-errors';
import { checkGeneral, keepGeneral } from './general-source';
import type { Store, StoredRecord } from '../store/types';
import { loadSource, toyWorldBank } from './bank';
import { browserExperimentConfig } from './browser-config';
import { AdapterShelf } from './adapters';
import { ExperimentRunner } from './experiment-session';
import type {
  AdapterEvaluation, AdapterInfo, EstimateOutcome, CachedModelInfo, ConditionId, FolderFiles, DatasetConfig, DatasetExample, DatasetSummary, ExperimentConfigInput, ExperimentOutcome, ModelInfo, ProbeConfig,
  ProbeSummary, QuestionSource, TrainSettings, VerifyOutcome, GeneralCheck, GeneralSource, PlanInfo, UnderPlan,
} from './protocol';
import { importPlan } from './plans';
import { probeSummary } from './probe-summary';
import { newId, type Ctx, type DatasetRecord, type ProbeRecord } from './session-records';

export type { Ctx } from './session-records';

export interface SessionDeps {
  store: Store;
  runtime(): Promise<Runtime>;
  /** Why the runtime is the one it is (src/engine/backend.ts), for the manifest; absent where nobody chose. */
  runtimeReason?(): string | null;
  /** A model's files: built-in ones from the app, Hub ones through the cache. */
  modelFiles(id: string, revision: string, onProgress: (p: DownloadProgress) => void, signal: AbortSignal, opts?: { endpoint?: string }): Promise<ModelFiles>;
  /** The toy world's question bank (models/toy-world/world.json). */
  worldJson(): Promise<unknown>;
  modelCache: ModelCache | null;
  /** Compares the engine with an independent implementation; absent where none is available. */
  verify?(model: EngineModel, info: ModelInfo): Promise<VerifyOutcome>;
  engineVersion: string;
  /** Time the device before each fresh run, for its estimate (default true; tests of other things turn it off). */
  estimate?: boolean;
}

const LABELS: Record<ConditionId, string> = {
  harmonious: 'Harmonious',
  incompatible: 'Incompatible',
  selfAligning: 'Self-aligning',
  randomWrong: 'Random-wrong',
  mixture: 'Mixture',
};
const label = (c: ConditionId, r: number | null) => (c === 'mixture' ? `Mixture r = ${r}` : LABELS[c]);

function capped(caps: SplitConfig['caps'], n: number | undefined): SplitConfig['caps'] {
  if (n === undefined || !(n >= 1)) return caps;
  const min = (x: number | undefined) => Math.min(x ?? Infinity, Math.floor(n));
  return { train: min(caps?.train), homo: min(caps?.homo), id: min(caps?.id), ood: min(caps?.ood) };
}

function paramCount(files: ModelFiles): number {
  let n = 0;
  for (const t of files.weights.tensors.values()) n += t.shape.reduce((a, b) => a * b, 1);
  return n;
}

/** The training text of one conversation as the model sees it: the part without loss, then the target. */
export function templated(tokenizer: LabTokenizer, messages: ReturnType<typeof itemMessages>): { context: string; target: string } {
  const context = tokenizer.applyChatTemplate(messages.slice(0, -1), { addGenerationPrompt: true });
  const full = tokenizer.applyChatTemplate(messages);
  return full.startsWith(context) ? { context, target: full.slice(context.length) } : { context: full, target: '' };
}

export class Session {
  private model: EngineModel | null = null;
  private info: ModelInfo | null = null;
  private loading: Promise<ModelInfo> | null = null;
  private readonly probes = new Map<string, ProbeRecord>();
  private readonly datasets = new Map<string, DatasetRecord>();
  private readonly experiments: ExperimentRunner;
  readonly adapters: AdapterShelf;
  /** Folders opened from disk in this session, by model id, so that a later ensureModel can reload them. */
  private readonly folders = new Map<string, FolderFiles>();
  /** The Hub endpoint of the last load (a mirror), used again when a stored run reloads its model. */
  private endpoint: string | undefined;

  constructor(private readonly deps: SessionDeps) {
    this.experiments = new ExperimentRunner({
      store: deps.store,
      engineVersion: deps.engineVersion,
      runtimeReason: () => deps.runtimeReason?.() ?? null,
      probeRecord: (id) => this.probeRecord(id),
      datasetRecord: (id) => this.datasetRecord(id),
      ensureModel: (ctx, id) => this.ensureModel(ctx, id),
      loaded: () => this.info,
      toyBank: async () => toyWorldBank(await deps.worldJson()),
      worldJson: () => deps.worldJson(),
      estimate: deps.estimate ?? true,
    });
    this.adapters = new AdapterShelf({
      store: deps.store,
      probeRecord: (id) => this.probeRecord(id),
      ensureModel: (ctx, id) => this.ensureModel(ctx, id),
      loaded: () => (this.model && this.info ? { model: this.model, info: this.info } : null),
    });
  }

  /** The `model.precision` the loaded model was loaded with (src/model/precision.ts). */
  private precisionChoice: PrecisionChoice = 'auto';

  get loaded(): ModelInfo | null {
    return this.info;
  }

  /** An experiment is training or evaluating (the backend must not change under it). */
  get running(): boolean {
    return this.experiments.running;
  }

  // ---- the model --------------------------------------------------------------------------------------

  async loadModel(id: string, revision: string, ctx: Ctx, o: { precision?: PrecisionChoice; endpoint?: string; files?: FolderFiles } = {}): Promise<ModelInfo> {
    const precision = o.precision ?? 'auto';
    this.endpoint = o.endpoint?.trim() || undefined;
    if (o.files) {
      if (!id.startsWith('local:')) throw new LabError('bad-folder-id', `A folder opened from disk is named "local:<folder>", not "${id}".`, 'Open the folder again from the Model page.');
      // A different folder under the same name replaces the loaded one.
      if (this.folders.get(id) !== o.files && this.info?.id === id && !this.experiments.running) this.dispose();
      this.folders.set(id, o.files);
    }
    const same = this.info && this.info.id === id && this.info.revision === revision && this.precisionChoice === precision;
    if (this.experiments.running && !same) throw new LabError('busy', 'An experiment is running on the current model.', 'Wait for it to finish, or cancel it, then load another model.');
    return this.loadOnce(id, revision, ctx, precision);
  }

  /** Load unless already loaded; concurrent loads wait for each other. */
  private async loadOnce(id: string, revision: string, ctx: Ctx, precision: PrecisionChoice = this.precisionChoice): Promise<ModelInfo> {
    if (this.info && this.info.id === id && this.info.revision === revision && this.precisionChoice === precision) return this.info;
    const prev = this.loading;
    if (prev) await prev.catch(() => undefined);
    this.loading = this.load(id, revision, ctx, precision);
    try {
      return await this.loading;
    } catch (e) {
      throw loadErrorFor(e, { id, folder: this.folders.has(id), endpoint: this.endpoint });
    } finally {
      this.loading = null;
    }
  }

  private async load(id: string, revision: string, ctx: Ctx, precisionChoice: PrecisionChoice): Promise<ModelInfo> {
    const t0 = performance.now();
    let fromCache = true;
    const folder = this.folders.get(id);
    const files = folder
      ? await loadFolderFiles(id, async (f) => folder[f] ?? null)
      : await this.deps.modelFiles(
      id,
      revision,
      (p) => {
        if (p.done && !p.fromCache) fromCache = false;
        ctx.progress({
          stage: 'download',
          done: p.bytesDone,
          total: p.bytesTotal ?? p.bytesDone,
          detail: p.file,
          metrics: { bytes: p.bytesDone, totalBytes: p.bytesTotal ?? NaN, bytesPerSec: p.bytesPerSecond, etaSec: p.etaSeconds ?? NaN, filesDone: p.filesDone, filesTotal: p.filesTotal },
        });
      },
      ctx.signal,
      { endpoint: this.endpoint },
    );
    ctx.signal.throwIfAborted();
    const checked = checkModelFiles(files);
    ctx.progress({ stage: 'upload', done: 0, total: 1, detail: 'uploading the weights to the GPU (or into memory, on the CPU)' });
    // Replace the model only once the new one is known to be valid.
    this.model?.dispose();
    this.model = null;
    this.info = null;
    const builtin = isBuiltin(id);
    const model = await createEngineModel(await this.deps.runtime(), checked, { precision: precisionChoice, id });
    const precision = model.precision;
    this.precisionChoice = precisionChoice;
    const spec = model.spec;
    this.model = model;
    this.info = {
      id,
      revision,
      arch: spec.arch,
      layers: spec.numLayers,
      hiddenSize: spec.hiddenSize,
      vocabSize: spec.vocabSize,
      params: paramCount(files),
      precision,
      precisionReason: `${model.precisionReason} LoRA weights and optimizer state stay f32.`,
      weightBytes: model.core.w.bytes,
      fromCache: fromCache || Boolean(folder),
      builtin,
      loadSeconds: (performance.now() - t0) / 1000,
      chatTemplate: checked.tokenizer.chatTemplate,
      source: builtin ? 'builtin' : folder ? 'folder' : 'hub',
    };
    ctx.progress({ stage: 'upload', done: 1, total: 1 });
    return this.info;
  }

  /** The loaded model; the built-in toy world on first use. */
  async ensureModel(ctx: Ctx, id = this.info?.id ?? TOY_WORLD_ID): Promise<EngineModel> {
    if (this.loading) await this.loading.catch(() => undefined);
    if (!this.model || this.info?.id !== id) await this.loadOnce(id, 'main', ctx);
    return this.model!;
  }

  async cachedModels(): Promise<CachedModelInfo[]> {
    if (!this.deps.modelCache) return [];
    return (await listCachedModels(this.deps.modelCache)).map((m) => ({ id: m.modelId, revision: m.revision, bytes: m.bytes, files: m.files.length }));
  }

  async deleteCachedModel(id: string, revision?: string): Promise<{ freedBytes: number }> {
    if (!this.deps.modelCache) return { freedBytes: 0 };
    return { freedBytes: await deleteCachedModel(this.deps.modelCache, id, revision) };
  }

  async verifyModel(ctx: Ctx): Promise<VerifyOutcome> {
    const model = await this.ensureModel(ctx);
    const info = this.info!;
    const skip = (message: string): VerifyOutcome => ({ ran: false, message, prompts: 0, positions: 0, maxAbsLogitDiff: null, top1Agreement: null });
    if (info.builtin) return skip('No ONNX export for this model: the built-in toy world ships safetensors only (the test suite checks it against PyTorch).');
    if (!this.deps.verify) return skip('No reference implementation is available here.');
    return this.deps.verify(model, info);
  }

  /** Expected time per stage of an experiment configuration on this device (src/worker/estimate.ts). */
  estimate(req: { config: unknown; source?: QuestionSource; keepLoaded?: boolean }, ctx: Ctx): Promise<EstimateOutcome> {
    const wanted = (req.config as { model?: { id?: string } } | null)?.model?.id;
    if (req.keepLoaded && this.info && wanted && this.info.id !== wanted)
      return Promise.reject(new LabError('estimate-other-model', `${this.info.id} is loaded, not ${wanted}.`, 'The estimate is made when the run starts (the run loads its own model).'));
    return estimateRequest(req, { model: (id, c) => this.ensureModel(c, id), worldJson: () => this.deps.worldJson(), store: this.deps.store }, ctx);
  }

  /** What a general-data source holds (the Datasets page shows it before building). */
  checkGeneral(source: GeneralSource): Promise<GeneralCheck> {
    return checkGeneral(source, () => this.deps.worldJson());
  }

  // ---- probe ------------------------------------------------------------------------------------------

  async probe(config: ProbeConfig, ctx: Ctx): Promise<ProbeSummary> {
    const model = await this.ensureModel(ctx);
    ctx.progress({ stage: 'questions', done: 0, total: 1, detail: 'loading the questions' });
    const src = await loadSource(config.source, config.k, { worldJson: () => this.deps.worldJson(), signal: ctx.signal });
    const split: SplitConfig = { ...src.split, seed: config.seed, caps: capped(src.split.caps, config.maxPerSplit) };
    // What the lab's config names the questions by: the toy world's generator seed, or the file's name.
    const named = config.source.type === 'toyworld' ? { type: 'toyworld' as const, seed: src.worldSeed ?? config.source.seed } : config.source.type === 'file' ? { type: 'file' as const, filename: config.source.filename } : { type: config.source.type };
    const plan = { name: 'probe', modelId: model.id, source: named, probe: config, split, maxPositions: model.spec.maxPositionEmbeddings };
    const cfg = browserExperimentConfig(plan);
    const splits = splitsOf(cfg, src.bank);
    ctx.progress({ stage: 'probe', done: 0, total: splits.train.length });
    const result = await probeStage(cfg, model, splits, src.bank, { signal: ctx.signal, onProgress: (done, total) => ctx.progress({ stage: 'probe', done, total }) });
    const probeId = newId('probe');
    const summary = { ...probeSummary(probeId, result, src.bank), source: config.source.type };
    const { source: _source, ...rest } = config;
    const rec: ProbeRecord = {
      id: probeId,
      createdAt: Date.now(),
      modelId: model.id,
      config: { ...rest, source: named },
      label: src.label,
      bank: src.bank,
      split,
      result,
      summary,
    };
    await this.deps.store.put('probes', rec);
    this.probes.set(probeId, rec);
    return summary;
  }

  private async probeRecord(id: string): Promise<ProbeRecord> {
    const rec = this.probes.get(id) ?? (await this.deps.store.get<ProbeRecord>('probes', id));
    if (!rec) throw new LabError('no-probe', `Probe ${id} is not in this browser's store.`, 'Probe the model again.');
    this.probes.set(id, rec);
    return rec;
  }

  private async datasetRecord(id: string): Promise<DatasetRecord> {
    const rec = this.datasets.get(id) ?? (await this.deps.store.get<DatasetRecord>('datasets', id));
    if (!rec) throw new LabError('no-dataset', `Dataset ${id} is not in this browser's store.`, 'Build the datasets again.');
    this.datasets.set(id, rec);
    return rec;
  }

  // ---- datasets ---------------------------------------------------------------------------------------

  async buildDatasets(config: DatasetConfig, ctx: Ctx): Promise<DatasetSummary> {
    const p = await this.probeRecord(config.probeId);
    const warnings: string[] = [];
    const general = config.general ?? null;
    const generalRatio = config.generalRatio ?? 1;
    if (general?.type === 'toyworld' && p.config.source.type !== 'toyworld') {
      throw new LabError('general-builtin', "The toy world's general set is written in the toy world's words; this probe's questions are not the toy world's.", 'Choose an instruction file, or no general data.');
    }
    const known = p.result.counts.known;
    const unknown = p.result.counts.unknown;
    const needKnown = config.conditions.includes('harmonious');
    const needUnknown = config.conditions.some((c) => c !== 'harmonious');
    const feasible = Math.min(needKnown ? known : Infinity, needUnknown ? unknown : Infinity);
    let size = config.size;
    if (feasible < size && feasible > 0) {
      warnings.push(
        `The probe found ${known} known and ${unknown} unknown questions: every condition has ${feasible} examples instead of ${size} (all conditions keep the same size).`,
      );
      size = feasible;
    }
    // A mixture with r = 0 is Incompatible and one with r = 1 Self-aligning: reuse them when those are built.
    const ratios = config.ratios.filter((r) => !((r === 0 && config.conditions.includes('incompatible')) || (r === 1 && config.conditions.includes('selfAligning'))));
    const conditions = config.conditions.filter((c) => c !== 'mixture' || ratios.length > 0);
    // A bad instruction file is refused before anything is built; a good one is kept for later runs.
    const kept = general ? await keepGeneral(this.deps.store, general, generalRatio, () => this.deps.worldJson()) : null;
    const model = await this.ensureModel(ctx, p.modelId);
    const cfg = browserExperimentConfig({
      name: 'datasets',
      modelId: p.modelId,
      source: p.config.source,
      probe: p.config,
      split: p.split,
      datasets: { conditions, ratios, size, responses: config.responses, seed: config.seed, ...(kept ? { general: kept.ref.config } : {}) },
      maxPositions: model.spec.maxPositionEmbeddings,
    });
    const sets = await datasetStage(cfg, p.result, splitsOf(cfg, p.bank), config.seed, {
      model,
      bank: p.bank,
      general: kept?.examples,
      signal: ctx.signal,
      onProgress: (done, total) => ctx.progress({ stage: 'explanations', done, total }),
    });
    const style = cfg.responses;
    const out: DatasetSummary['datasets'] = [];
    for (const ds of sets) {
      const ratio = ds.ratio ?? null;
      const condition = ds.kind as ConditionId;
      const rec: DatasetRecord = { id: newId('ds'), createdAt: Date.now(), probeId: p.id, condition, ratio, label: label(condition, ratio), dataSeed: config.seed, dataset: ds, ...(kept ? { general: kept.ref } : {}) };
      out.push(await this.keepDataset(rec, model.tokenizer, style));
    }
    return { datasets: out, warnings };
  }

  // ---- experiments ------------------------------------------------------------------------------------

  trainControl(action: 'pause' | 'resume'): { paused: boolean } {
    return this.experiments.trainControl(action);
  }

  experiment(train: TrainSettings, protocol: 'paper' | 'likeForLike', ctx: Ctx, plan?: UnderPlan): Promise<ExperimentOutcome> {
    return this.experiments.experiment(train, protocol, ctx, plan);
  }

  /** Freezes a plan for the Train page's configuration and seeds (src/worker/plans.ts). */
  registerPlan(train: TrainSettings, fitArm: boolean, ctx: Ctx): Promise<PlanInfo> {
    return this.experiments.registerPlan(train, fitArm, ctx);
  }

  /** Keeps a plan.json the student chose, once the lab has checked it. */
  importPlan(filename: string, text: string, expectHash?: string): Promise<PlanInfo> {
    return importPlan(this.deps.store, filename, text, expectHash);
  }

  async resumeExperiment(runId: string, ctx: Ctx): Promise<ExperimentOutcome> {
    return this.withSteps(await this.experiments.resumeExperiment(runId, ctx));
  }

  // ---- adapters ---------------------------------------------------------------------------------------

  listAdapters(runId: string): Promise<AdapterInfo[]> {
    return this.adapters.list(runId);
  }

  exportAdapter(id: string, ctx: Ctx): Promise<{ filename: string; zip: Uint8Array; tensors: string[] }> {
    return this.adapters.exportZip(id, ctx);
  }

  evaluateAdapter(probeId: string, input: { zip?: Uint8Array; files?: Record<string, Uint8Array> }, ctx: Ctx): Promise<AdapterEvaluation> {
    if (this.experiments.running) throw new LabError('busy', 'An experiment is running on the GPU.', 'Wait for it to finish, or cancel it, then evaluate the adapter.');
    return this.adapters.evaluate(probeId, input, ctx);
  }

  async runConfig(config: ExperimentConfigInput, protocol: 'paper' | 'likeForLike', ctx: Ctx): Promise<ExperimentOutcome> {
    return this.withSteps(await this.experiments.runConfig(config, protocol, ctx));
  }

  /**
   * One state (issue 26): a one-click run's probe and datasets become the Probe, Datasets and Train pages'
   * own — stored as probe and dataset records like the pages' (so the pages can build on them), and returned
   * with the outcome. A run from the Train page already has them; its outcome goes back as it is.
   */
  private async withSteps(out: ExperimentOutcome): Promise<ExperimentOutcome> {
    try {
      const steps = await this.publishSteps(out.runId);
      return steps ? { ...out, steps } : out;
    } catch {
      return out;
    }
  }

  private async publishSteps(runId: string): Promise<ExperimentOutcome['steps'] | null> {
    const rec = await this.deps.store.get<StoredRecord & { lab?: { probeId?: string; experiment?: { config: ExperimentConfig } } }>('runs', runId);
    const config = rec?.lab?.experiment?.config;
    if (!rec || rec.lab?.probeId || !config || config.questions.kind !== 'toyworld') return null;
    const progress = (await this.deps.store.get<StoredRecord & { progress: ExperimentProgress }>('checkpoints', `${runId}#progress`))?.progress;
    if (!progress?.probe) return null;
    const model = await this.ensureModel({ progress: () => undefined, signal: new AbortController().signal }, config.model.id);
    const { bank } = toyWorldBank(await this.deps.worldJson());
    const probeId = `${runId}#probe`;
    const method = config.probe.method;
    const summary = { ...probeSummary(probeId, progress.probe, bank), source: 'toyworld' as const };
    const probe: ProbeRecord = {
      id: probeId,
      createdAt: Date.now(),
      modelId: model.id,
      config: { k: config.probe.shots, threshold: config.probe.threshold, strict: method === 'strict', method, seed: config.splits.seed, slick: !!config.probe.slick, source: { type: 'toyworld', seed: config.questions.seed } },
      label: 'The toy world (from the one-click run)',
      bank,
      split: { trainSubjects: [...config.subjects.train], related: config.subjects.related === 'category' ? 'category' : [...config.subjects.related], homoFraction: config.splits.homoFraction, caps: { ...config.splits.caps }, seed: config.splits.seed },
      result: progress.probe,
      summary,
    };
    await this.deps.store.put('probes', probe);
    this.probes.set(probeId, probe);
    // The first seed's datasets (the Ren design; the Unknown-share design builds its sets inside its runs).
    const first = Object.entries(progress.datasets ?? {})[0];
    const out: DatasetSummary['datasets'] = [];
    const style = config.responses;
    for (const ds of first?.[1] ?? []) {
      const condition = ds.kind as ConditionId;
      const ratio = ds.ratio ?? null;
      const drec: DatasetRecord = { id: `${runId}#ds:${ds.name}`, createdAt: Date.now(), probeId, condition, ratio, label: label(condition, ratio), dataSeed: Number(first![0]), dataset: ds };
      out.push(await this.keepDataset(drec, model.tokenizer, style));
    }
    return { probe: summary, datasets: out.length ? { datasets: out, warnings: [] } : null };
  }

  /** Stores a built dataset and gives its summary row, with its first three examples templated for the model. */
  private async keepDataset(rec: DatasetRecord, tokenizer: LabTokenizer, style: ResponseStyle): Promise<DatasetSummary['datasets'][number]> {
    await this.deps.store.put('datasets', rec);
    this.datasets.set(rec.id, rec);
    const ds = rec.dataset;
    const preview: DatasetExample[] = ds.items.slice(0, 3).map((it) => ({
      question: it.question.question,
      response: responseText(it, style),
      correct: it.response === it.question.answer,
      ...templated(tokenizer, itemMessages(it, style)),
    }));
    const labelLetters = { counts: [...ds.labelLetters.counts], shares: [...ds.labelLetters.shares] };
    return { datasetId: rec.id, condition: rec.condition, ratio: rec.ratio, size: ds.items.length, generalCount: ds.generalCount, hash: ds.hash, preview, labelLetters, warnings: [...ds.warnings] };
  }

  dispose(): void {
    this.model?.dispose();
    this.model = null;
    this.info = null;
  }
}
