/**
 * Experiments in the Worker: the lab's one experiment runner (src/lab/experiment.ts), driven with the page's
 * settings and adapted to the browser — progress as Worker events, the run's progress and checkpoints in
 * IndexedDB (so a reload resumes it), pause between optimizer steps, every run's adapter stored. The stored
 * record holds the lab's full result (the same content `ift-lab experiment` writes) and the share-ready view.
 */
import { CancelledError, LabError } from '../lab/errors';
import { estimateExperiment } from '../lab/estimate';
import { stageClock } from '../lab/stage-clock';
import {
  parseExperimentConfig, planGrid, runExperiment, splitsOf,
  type ExperimentConfig, type ExperimentConfigInput, type ExperimentDeps, type ExperimentEvent, type ExperimentProgress, type ExperimentResult, type ProgressStore, type QuestionBank,
} from '../lab/experiment';
import type { IftDataset } from '../lab/intervene';
import { armOf, fitArmConfig, makePlan, PlanMismatchError, type Plan } from '../lab/plan';
import { conditionLabel } from '../util/condition-names';
import type { AdapterState } from '../lab/model';
import type { EngineModel } from '../model/engine-model';
import { RunClock } from '../lab/time-left';
import { cachedSpeed } from './speed-cache';
import { resultId } from '../share/records';
import type { SharedManifest } from '../share/types';
import { SIZE_PREFIX } from '../store/run-data';
import type { Store, StoredRecord } from '../store/types';
import { browserExperimentConfig } from './browser-config';
import { storedGeneral } from './general-source';
import { planJson, storedPlan, storePlan } from './plans';
import type { ExperimentOutcome, ModelInfo, PlanInfo, QuestionChange, TrainSettings, UnderPlan } from './protocol';
import { questionChanges, sharedResultOf } from './result';
import { newId, type Ctx, type DatasetRecord, type ProbeRecord } from './session-records';
import { RunLockedError, withRunLock } from './run-lock';
import { pausable, PauseGate, StoreCheckpointSink } from './training';

/** A run in `runs` while it trains (or after a cut-off); on success it becomes a result record with the same id. */
interface LabRunRecord extends StoredRecord {
  kind: 'lab-run';
  status: 'running' | 'cancelled' | 'failed';
  modelId: string;
  /** The Probe page's probe ('' for a run from one configuration). */
  probeId: string;
  /** The Train page's settings (absent for a run from one configuration). */
  train?: TrainSettings;
  /** The configuration a `runConfig` run was asked for (the front page's one click). */
  input?: ExperimentConfigInput;
  protocol: 'paper' | 'likeForLike';
  config: ExperimentConfig;
  /** The pre-registered plan the run is under (a resume runs under it again). */
  plan?: UnderPlan;
  error?: string;
}

/** What an experiment needs from the Session. */
export interface ExperimentHost {
  readonly store: Store;
  readonly engineVersion: string;
  /** Why the lab runs on this backend (the manifest records it beside the backend). */
  runtimeReason?(): string | null;
  probeRecord(id: string): Promise<ProbeRecord>;
  datasetRecord(id: string): Promise<DatasetRecord>;
  /** The model with this id, loaded if it is not (even while a run counts as running: the resume case). */
  ensureModel(ctx: Ctx, id: string): Promise<EngineModel>;
  /** The loaded model's description (revision and precision go into the manifest). */
  loaded(): ModelInfo | null;
  /** The toy world's question bank (world.json) and its generator seed. */
  toyBank(): Promise<{ bank: QuestionBank; worldSeed?: number }>;
  /** The toy world itself (world.json): its general instruction set. */
  worldJson(): Promise<unknown>;
  /** Whether to time the device before a fresh run (the estimate the page shows). */
  readonly estimate: boolean;
}

/** The experiment's progress in the store's `checkpoints` collection, beside its training checkpoints. */
class StoreProgress implements ProgressStore {
  constructor(
    private readonly store: Store,
    private readonly runId: string,
  ) {}
  private get id() {
    return `${this.runId}#progress`;
  }
  async load(): Promise<ExperimentProgress | undefined> {
    return (await this.store.get<StoredRecord & { progress: ExperimentProgress }>('checkpoints', this.id))?.progress;
  }
  async save(progress: ExperimentProgress): Promise<void> {
    await this.store.put('checkpoints', { id: this.id, createdAt: Date.now(), runId: this.runId, progress });
  }
}

const PROTOCOL_NAME = { paper: 'paper', likeForLike: 'like-for-like' } as const;

/** One experiment at a time, with its pause gate and checkpoint sink. */
export class ExperimentRunner {
  private readonly gate = new PauseGate();
  private busy = false;
  private readonly sink: StoreCheckpointSink;
  /** The running experiment's clock (a pause stops it). */
  private clock: RunClock | null = null;

  constructor(private readonly host: ExperimentHost) {
    this.sink = new StoreCheckpointSink(host.store);
  }

  /** An experiment is training or evaluating (another model may not be loaded meanwhile). */
  get running(): boolean {
    return this.busy;
  }

  trainControl(action: 'pause' | 'resume'): { paused: boolean } {
    if (action === 'pause' && this.busy) this.gate.pause();
    if (action === 'resume') this.gate.resume();
    this.clock?.pause(this.gate.paused);
    return { paused: this.gate.paused };
  }

  /** The configuration the Train page's settings make with the probe's and the datasets' (named `name`). */
  private async trainConfig(train: TrainSettings, name: string, ctx: Ctx): Promise<{ probe: ProbeRecord; config: ExperimentConfig }> {
    if (train.datasetIds.length === 0) throw new LabError('no-datasets', 'There are no datasets to train on.', 'Build the datasets first.');
    const ds = await Promise.all(train.datasetIds.map((id) => this.host.datasetRecord(id)));
    const probeIds = [...new Set(ds.map((d) => d.probeId))];
    if (probeIds.length !== 1) throw new LabError('mixed-probes', 'The datasets come from different probes.', 'Build all datasets from one probe.');
    const p = await this.host.probeRecord(probeIds[0]);
    const model = await this.host.ensureModel(ctx, p.modelId);
    return { probe: p, config: configOf(name, p, ds, train, model) };
  }

  async experiment(train: TrainSettings, protocol: 'paper' | 'likeForLike', ctx: Ctx, under?: UnderPlan): Promise<ExperimentOutcome> {
    const id = newId('run');
    // Under a plan the run takes the plan's name (the configuration's hash covers it), and its arm's rule.
    const plan = under ? await storedPlan(this.host.store, under.planId) : null;
    const made = await this.trainConfig(train, plan?.config.name ?? id, ctx);
    const config = plan ? await planArm(plan, made.config, under!.arm) : made.config;
    const rec: LabRunRecord = {
      id,
      createdAt: Date.now(),
      kind: 'lab-run',
      status: 'running',
      modelId: made.probe.modelId,
      probeId: made.probe.id,
      train,
      protocol,
      config,
      ...(under ? { plan: { ...under } } : {}),
    };
    await this.host.store.put('runs', rec);
    return this.continueRun(rec, ctx);
  }

  /** Freezes a plan for the Train page's configuration (seeds included), as `ift-lab preregister` does, and keeps it. */
  async registerPlan(train: TrainSettings, fitArm: boolean, ctx: Ctx): Promise<PlanInfo> {
    const { config } = await this.trainConfig(train, newId('plan'), ctx);
    return storePlan(this.host.store, await makePlan(config, { fitArm }), 'browser');
  }

  async resumeExperiment(runId: string, ctx: Ctx): Promise<ExperimentOutcome> {
    const rec = await this.host.store.get<LabRunRecord>('runs', runId);
    if (!rec || rec.kind !== 'lab-run') throw new LabError('no-run', `Run ${runId} is not an unfinished run in this browser's store.`, 'Open History to see the stored runs.');
    if (!rec.config) throw new LabError('old-run', `Run ${runId} was started by an older version of IFT Lab and cannot be resumed.`, 'Start the experiment again from the Train page.');
    rec.status = 'running';
    delete rec.error;
    await this.host.store.put('runs', rec);
    return this.continueRun(rec, ctx, true);
  }

  /** The whole experiment from one configuration (the front page's one click): the runner does every stage. */
  async runConfig(input: ExperimentConfigInput, protocol: 'paper' | 'likeForLike', ctx: Ctx): Promise<ExperimentOutcome> {
    if (input.questions.kind !== 'toyworld') throw new LabError('not-toy-world', 'One-click runs use the toy world only.', 'For other questions, walk the steps: Probe, Datasets, Train.');
    const model = await this.host.ensureModel(ctx, input.model.id);
    const src = await this.host.toyBank();
    const id = newId('run');
    const config = parseExperimentConfig({
      ...input,
      name: id,
      questions: { ...input.questions, seed: src.worldSeed ?? input.questions.seed },
      training: { ...input.training, maxSeqLen: Math.max(8, Math.min(input.training.maxSeqLen ?? 512, model.spec.maxPositionEmbeddings)) },
    });
    const rec: LabRunRecord = { id, createdAt: Date.now(), kind: 'lab-run', status: 'running', modelId: model.id, probeId: '', input, protocol, config };
    await this.host.store.put('runs', rec);
    return this.continueRun(rec, ctx);
  }

  private async continueRun(rec: LabRunRecord, ctx: Ctx, resuming = false): Promise<ExperimentOutcome> {
    if (this.busy) throw new LabError('busy', 'An experiment is already running.', 'Wait for it to finish, or cancel it.');
    this.busy = true;
    this.gate.resume();
    try {
      // One trainer per run across tabs: another tab resuming this run is refused while this one trains.
      // A resume waits a little for the lock: right after a reload the old page's Worker may still hold it.
      if (resuming) ctx.progress({ stage: 'resume', done: 0, total: 0, detail: 'waiting for the reloaded page to let go of the run' });
      return await withRunLock(rec.id, () => this.run(rec, ctx), resuming ? 20_000 : 0);
    } catch (e) {
      // The run trains in another tab: its record is that tab's to write.
      if (e instanceof RunLockedError) throw e;
      const cancelled = ctx.signal.aborted || e instanceof CancelledError;
      rec.status = cancelled ? 'cancelled' : 'failed';
      if (!cancelled) rec.error = e instanceof Error ? e.message : String(e);
      await this.host.store.put('runs', rec).catch(() => undefined);
      throw cancelled && !(e instanceof CancelledError) ? new CancelledError('The experiment') : e;
    } finally {
      this.busy = false;
      this.gate.resume();
    }
  }

  private async run(rec: LabRunRecord, ctx: Ctx): Promise<ExperimentOutcome> {
    const model = await this.host.ensureModel(ctx, rec.modelId);
    if (rec.input) {
      // A run from one configuration: the runner probes and builds the datasets itself.
      const names = [...new Set(planGrid(rec.config).map((r) => r.condition))];
      const g = rec.config.general;
      if (g && !('builtin' in g)) throw new LabError('general-file', 'A one-click run mixes in no instruction file.', 'Use "general": {"builtin": "toyworld"}, or walk the steps and choose the file on the Datasets page.');
      const general = g ? await storedGeneral(this.host.store, { config: g }, () => this.host.worldJson()) : undefined;
      return this.drive(rec, model, (await this.host.toyBank()).bank, undefined, names, general, ctx);
    }
    const p = await this.host.probeRecord(rec.probeId);
    const datasets = await Promise.all((rec.train?.datasetIds ?? []).map((id) => this.host.datasetRecord(id)));
    // The Datasets page's datasets stand for their data seed (written explanations are not redrawn).
    const given: Record<string, IftDataset[]> = {};
    for (const d of datasets) (given[String(d.dataSeed ?? -1)] ??= []).push(d.dataset);
    const general = await storedGeneral(this.host.store, datasets[0]?.general, () => this.host.worldJson());
    return this.drive(rec, model, p.bank, { probe: p.result, datasets: given }, datasets.map((d) => d.dataset.name), general, ctx);
  }

  /** Runs the lab's runner with the browser's progress events, checkpoints and storage; stores one record. */
  private async drive(
    rec: LabRunRecord,
    model: EngineModel,
    bank: QuestionBank,
    seed: ExperimentDeps['seed'],
    names: readonly string[],
    general: ExperimentDeps['general'],
    ctx: Ctx,
  ): Promise<ExperimentOutcome> {
    const config = rec.config;
    const conditionIndex = new Map(names.map((n, i) => [n, i]));
    const shareIndex = (share: number) => Math.max(0, config.unknownShare?.shares.indexOf(share) ?? 0);
    // The estimate before the run (this device's timing, kept from the front page's or measured now), set
    // against the actual time in the manifest; the run clock turns it and the events into a time left.
    const progressStore = new StoreProgress(this.host.store, rec.id);
    if (this.host.estimate) ctx.progress({ stage: 'estimate', done: 0, total: 1, detail: 'timing this device on the model’s shapes (kept from an earlier timing when there is one)' });
    const estimate = this.host.estimate ? await estimateExperiment(model, config, bank, async (shapes) => (await cachedSpeed(this.host.store, model, shapes)).speed) : null;
    if (estimate) ctx.progress({ stage: 'estimate', done: 1, total: 1, metrics: { estimateSec: estimate.totalSeconds } });
    const runClock = new RunClock(estimate);
    this.clock = runClock;
    /** The clock's reading, on every progress message: fraction done and time left (with its range). */
    const timing = (): Record<string, number> => {
      const r = runClock.read();
      return {
        fraction: r.fraction,
        ...(r.etaSec !== null ? { etaSec: r.etaSec, etaLo: r.lo!, etaHi: r.hi! } : {}),
        ...(estimate ? { estimateSec: estimate.totalSeconds } : {}),
      };
    };
    const onEvent = (e: ExperimentEvent) => {
      runClock.onEvent(e);
      if (e.type === 'progress') {
        // The Unknown-share design evaluates after every epoch: its count is epochs, not questions.
        const stage = e.stage === 'fit' ? 'evaluate' : e.stage === 'evaluate' && config.unknownShare ? 'evaluate-epoch' : e.stage;
        ctx.progress({ stage, done: e.done, total: e.total, ...(e.runId ? { detail: e.runId } : {}), metrics: timing() });
      } else if (e.type === 'stage' && (e.stage === 'probe' || e.stage === 'datasets' || e.stage === 'explanations' || e.stage === 'report')) {
        ctx.progress({ stage: e.stage, done: 0, total: 0, detail: e.message, metrics: timing() });
      } else if ((e.type === 'train' || e.type === 'share-train') && e.event.type === 'step') {
        const c = model.counters;
        ctx.progress({
          stage: 'train',
          done: e.event.step,
          total: e.event.totalSteps,
          detail: e.run.runId,
          metrics: {
            step: e.event.step,
            totalSteps: e.event.totalSteps,
            loss: e.event.loss,
            lr: e.event.learningRate,
            tokensPerSec: e.event.tokensPerSecond,
            ...timing(),
            gpuBytes: Math.max(c.peakBytes, c.liveBytes),
            // The Unknown-share design's "condition" is its share (the page names shares in config order).
            condition: e.type === 'train' ? (conditionIndex.get(e.run.condition) ?? 0) : shareIndex(e.run.share),
            run: e.index,
            runs: e.total,
            seed: e.run.seed,
          },
        });
      } else if (e.type === 'share-run-done') {
        const last = e.run.epochs.at(-1)!;
        ctx.progress({
          stage: 'evaluate-epoch',
          done: 0,
          total: 0,
          detail: e.run.runId,
          metrics: { ...timing(), condition: shareIndex(e.run.share), run: e.index, runs: e.total, seed: e.run.seed, fitAfter: last.fit.overall, earlyStopEpoch: e.run.earlyStopEpoch },
        });
      } else if (e.type === 'run-done') {
        const fit = e.run.fit;
        ctx.progress({
          stage: 'evaluate',
          done: 0,
          total: 0,
          detail: e.run.runId,
          metrics: { ...timing(), condition: conditionIndex.get(e.run.condition) ?? 0, run: e.index, runs: e.total, seed: e.run.seed, fitBefore: fit.before, fitAfter: fit.after, underTrained: fit.underTrained ? 1 : 0 },
        });
      }
    };
    const clock = stageClock();
    // The lab's runner checks the plan again and makes the result confirmatory (src/lab/experiment.ts).
    const plan = rec.plan ? await storedPlan(this.host.store, rec.plan.planId) : null;
    const out = await runExperiment(config, {
      plan,
      model: pausable(model, this.gate),
      bank,
      ...(general ? { general } : {}),
      sink: this.sink,
      progress: progressStore,
      ...(seed ? { seed } : {}),
      onAdapter: (run, state) => this.storeAdapter(rec.id, run.runId, state, model),
      signal: ctx.signal,
      onEvent: (e) => {
        clock.onEvent(e);
        onEvent(e);
      },
      env: {
        engineVersion: this.host.engineVersion,
        weightsHash: null,
        device: { ...this.deviceInfo(model), backend: model.core.rt.summary().backend, ...(this.host.runtimeReason?.() ? { reason: this.host.runtimeReason()! } : {}) },
        estimate,
        stageSeconds: clock.seconds,
        precision: { used: model.precision, reason: model.precisionReason },
      },
    });

    const protocol = PROTOCOL_NAME[rec.protocol];
    const manifest = shareManifest(out.result, protocol, model, this.host.loaded(), this.host.engineVersion, this.deviceInfo(model));
    const result = sharedResultOf(out.result, { protocol, title: `${titleOf(out.result)} on ${model.id}`, manifest, ...(plan ? { planJson: planJson(plan) } : {}) });
    const splits = splitsOf(config, bank);
    const tests = { homo: splits.homo, id: splits.id, ood: splits.ood };
    const progress = await new StoreProgress(this.host.store, rec.id).load();
    const baseScores = progress?.base?.[rec.protocol === 'paper' ? 'kshot' : 'chat'] ?? {};
    const changes: Record<string, QuestionChange[]> = {};
    for (const c of result.conditions) {
      const run = out.result.runs.find((r) => conditionLabel(r.condition) === c.name);
      if (run) changes[c.name] = questionChanges(tests, baseScores, run.scores);
    }
    // One record per run: the lab's whole result, the report and the share-ready view, under the run's id.
    const final = {
      id: rec.id,
      createdAt: rec.createdAt,
      kind: 'result' as const,
      source: 'lab' as const,
      result,
      resultId: resultId(result),
      changes,
      lab: { probeId: rec.probeId, train: rec.train, protocol: rec.protocol, experiment: out.result, manifest: out.manifest, markdown: out.markdown },
    };
    await this.host.store.put('runs', final);
    return { runId: rec.id, result, changes };
  }

  private async storeAdapter(runId: string, gridRun: string, state: AdapterState, model: EngineModel): Promise<void> {
    const id = `${runId}/${gridRun}`;
    // The spec travels with the adapter, so that its PEFT export needs no model load (History, later).
    await this.host.store.put('adapters', { id, createdAt: Date.now(), runId, gridRun, baseModel: model.id, spec: model.spec, state: { config: state.config, tensors: state.tensors, step: state.step } });
    // Its size beside the checkpoints' (History's storage per run reads these, not the tensors).
    const bytes = Object.values(state.tensors).reduce((a, t) => a + t.byteLength, 0);
    await this.host.store.put('settings', { id: `${SIZE_PREFIX}${runId}#adapter:${gridRun}`, createdAt: Date.now(), bytes });
  }

  private deviceInfo(model: EngineModel): SharedManifest['device'] {
    const r = model.core.rt.summary();
    return { description: r.description.slice(0, 400), fallback: r.fallback, shaderF16: r.shaderF16 };
  }
}


/**
 * The configuration of a run under a plan: the page's, for the arm asked for (the fit arm trains every condition
 * until it fits, by the plan's rule). Refused before anything trains when it is not the plan's (as the CLI does).
 */
async function planArm(plan: Plan, config: ExperimentConfig, arm: UnderPlan['arm']): Promise<ExperimentConfig> {
  if (arm === 'fit' && !plan.fitArm) throw new LabError('no-fit-arm', 'This plan has no stop-at-fit arm.', 'Run its main arm, or register a plan with the stop-at-fit arm.');
  const c = arm === 'fit' ? fitArmConfig(config, plan.fitArm!) : config;
  const a = await armOf(plan, c);
  if (a.arm === null) throw new PlanMismatchError(a.differences, 'Set the Train page back to the plan’s settings (its seeds included), or register a new plan before running the changed ones; “Train and evaluate” runs them as an exploratory run.');
  return c;
}

/** The lab's configuration of a browser run: the probe's, the datasets' and the Train page's settings. */
function configOf(id: string, p: ProbeRecord, ds: readonly DatasetRecord[], train: TrainSettings, model: EngineModel): ExperimentConfig {
  const mixtures = ds.filter((d) => d.condition === 'mixture' && d.ratio !== null).map((d) => d.ratio!);
  const seeds = [...new Set(ds.map((d) => d.dataSeed ?? 0))];
  if (seeds.length > 1) throw new LabError('mixed-datasets', 'The datasets were built with different seeds.', 'Build all datasets again in one go.');
  return browserExperimentConfig({
    name: id,
    modelId: p.modelId,
    source: p.config.source,
    probe: p.config,
    split: p.split,
    datasets: {
      conditions: ds.map((d) => d.condition),
      ratios: mixtures,
      size: ds[0].dataset.items.length,
      responses: ds[0].dataset.style === 'letter+explanation' ? 'explanation' : 'letter',
      seed: seeds[0],
      ...(ds[0].general ? { general: ds[0].general.config } : {}),
    },
    train,
    maxPositions: model.spec.maxPositionEmbeddings,
  });
}

function shareManifest(r: ExperimentResult, protocol: string, model: EngineModel, info: ModelInfo | null, engineVersion: string, device: SharedManifest['device']): SharedManifest {
  const c = r.config;
  const t = c.training;
  return {
    model: { id: model.id, revision: info?.revision ?? c.model.revision },
    engineVersion,
    device,
    seeds: [...c.seeds],
    hyper: {
      method: 'LoRA',
      rank: t.lora.rank,
      alpha: t.lora.alpha,
      dropout: t.lora.dropout,
      targets: t.lora.targets.join(','),
      lr: t.learningRate,
      epochs: t.epochs,
      batch: t.batchSize,
      schedule: t.schedule.kind,
      warmup: t.schedule.warmupFraction,
      k: c.probe.shots,
      threshold: c.probe.threshold,
      probe: c.probe.method,
      dataSeed: String(c.dataSeed),
      ...(c.unknownShare ? { design: 'unknown share (Gekhman et al. 2024)', devFraction: c.unknownShare.devFraction, rest: c.unknownShare.rest.join(',') } : {}),
      precision: info?.precision ?? 'f32',
      ...(model.tokenizer.chatTemplate === 'vicuna-fallback' ? { chatTemplate: 'Vicuna v1.1 (fallback: the model ships none)' } : {}),
    },
    datasets: r.unknownShare
      ? r.unknownShare.runs.slice(0, 64).map((x) => ({ name: `${x.runId} (data seed ${x.dataSeed})`.slice(0, 120), hash: x.datasetHash }))
      : r.datasets.slice(0, 64).map((d) => ({ name: `${conditionLabel(d.name)} (data seed ${d.dataSeed})`.slice(0, 120), hash: d.hash })),
    protocol: protocol === 'paper' ? `paper (base ${c.probe.shots}-shot, tuned 0-shot with template)` : 'like-for-like (both 0-shot with template)',
    date: r.finishedAt,
  };
}

function titleOf(r: ExperimentResult): string {
  if (r.unknownShare) return `Unknown share ${r.unknownShare.settings.shares.map((x) => `${Math.round(100 * x)} %`).join(', ')} × ${r.config.seeds.length} seed${r.config.seeds.length === 1 ? '' : 's'}`;
  const conditions = [...new Set(r.runs.map((x) => conditionLabel(x.condition)))];
  const seeds = r.config.seeds.length;
  return `${conditions.length <= 3 ? conditions.join(', ') : `${conditions.length} conditions`}${seeds > 1 ? ` × ${seeds} seeds` : ''}`;
}
