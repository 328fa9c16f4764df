/**
 * Experiments in the Worker: train each condition's LoRA adapter on its dataset (checkpointed, pausable,
 * cancellable), evaluate it against the base model, and store the run: as a `lab-run` record while it
 * trains (so that it can resume after a reload), then as the shared result with the same id. The Session
 * owns the model and the probe and dataset records; this module reaches them through `ExperimentHost`.
 */
import { CancelledError, LabError } from '../lab/errors';
import { evaluate, LIKE_FOR_LIKE_PROTOCOL, scoreTestSets, type EvalProtocol, type SetScores, type TestSets } from '../lab/evaluate';
import { conditionName, trainExamples } from '../lab/intervene';
import type { LoraTarget, TrainConfig as LabTrainConfig } from '../lab/model';
import { makeSplits, type Splits } from '../lab/splits';
import { runTraining } from '../lab/train';
import type { EngineModel } from '../model/engine-model';
import { toRecord } from '../share/records';
import type { Manifest } from '../share/types';
import type { Store, StoredRecord } from '../store/types';
import type { ExperimentOutcome, ModelInfo, QuestionChange, TrainConfig } from './protocol';
import { questionChanges, sharedResult, type ConditionRun } from './result';
import { newId, type Ctx, type DatasetRecord, type ProbeRecord } from './session-records';
import { RunLockedError, withRunLock } from './run-lock';
import { pausable, PauseGate, StoreCheckpointSink, totalSteps } from './training';

/** A run in `runs` while it trains (or after a cut-off); on success it becomes a ResultRecord with the same id. */
interface LabRunRecord extends StoredRecord {
  kind: 'lab-run';
  status: 'running' | 'cancelled' | 'failed';
  modelId: string;
  probeId: string;
  train: TrainConfig;
  protocol: 'paper' | 'likeForLike';
  done: ConditionRun[];
  changes: Record<string, QuestionChange[]>;
  /** The base model's test scores, kept so that a resumed run does not score them again. */
  baseScores?: SetScores;
  error?: string;
}

/** What an experiment needs from the Session. */
export interface ExperimentHost {
  readonly store: Store;
  readonly engineVersion: string;
  probeRecord(id: string): Promise<ProbeRecord>;
  datasetRecord(id: string): Promise<DatasetRecord>;
  /** The model with this id, loaded if it is not (even while a run counts as running: the resume case). */
  ensureModel(ctx: Ctx, id: string): Promise<EngineModel>;
  /** The loaded model's description (revision and precision go into the manifest). */
  loaded(): ModelInfo | null;
}

/** The UI names projections as PEFT does (q_proj…); the lab as q, k, v, o, gate, up, down. */
function loraTargets(names: readonly string[]): LoraTarget[] {
  return names.map((n) => n.replace(/_proj$/, '') as LoraTarget);
}

/** One experiment at a time, with its pause gate and checkpoint sink. */
export class ExperimentRunner {
  private readonly gate = new PauseGate();
  private busy = false;
  private readonly sink: StoreCheckpointSink;

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
    return { paused: this.gate.paused };
  }

  async experiment(train: TrainConfig, protocol: 'paper' | 'likeForLike', ctx: Ctx): Promise<ExperimentOutcome> {
    if (train.datasetIds.length === 0) throw new LabError('no-datasets', 'There are no datasets to train on.', 'Build the datasets first.');
    const ds = await Promise.all(train.datasetIds.map((id) => this.host.datasetRecord(id)));
    const probeIds = [...new Set(ds.map((d) => d.probeId))];
    if (probeIds.length !== 1) throw new LabError('mixed-probes', 'The datasets come from different probes.', 'Build all datasets from one probe.');
    const p = await this.host.probeRecord(probeIds[0]);
    const rec: LabRunRecord = {
      id: newId('run'),
      createdAt: Date.now(),
      kind: 'lab-run',
      status: 'running',
      modelId: p.modelId,
      probeId: p.id,
      train,
      protocol,
      done: [],
      changes: {},
    };
    await this.host.store.put('runs', rec);
    return this.continueRun(rec, ctx);
  }

  async resumeExperiment(runId: string, ctx: Ctx): Promise<ExperimentOutcome> {
    const rec = await this.host.store.get<LabRunRecord>('runs', runId);
    if (!rec || rec.kind !== 'lab-run') throw new LabError('no-run', `Run ${runId} is not an unfinished run in this browser's store.`, 'Open History to see the stored runs.');
    rec.status = 'running';
    delete rec.error;
    await this.host.store.put('runs', rec);
    return this.continueRun(rec, ctx);
  }

  private async continueRun(rec: LabRunRecord, ctx: Ctx): Promise<ExperimentOutcome> {
    if (this.busy) throw new LabError('busy', 'An experiment is already running.', 'Wait for it to finish, or cancel it.');
    this.busy = true;
    this.gate.resume();
    try {
      // One trainer per run across tabs: another tab resuming this run is refused while this one trains.
      return await withRunLock(rec.id, () => this.runConditions(rec, ctx));
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

  private async runConditions(rec: LabRunRecord, ctx: Ctx): Promise<ExperimentOutcome> {
    const p = await this.host.probeRecord(rec.probeId);
    const model = await this.host.ensureModel(ctx, rec.modelId);
    const datasets = await Promise.all(rec.train.datasetIds.map((id) => this.host.datasetRecord(id)));
    const splits: Splits = makeSplits(p.bank.pool, p.split);
    const tests: TestSets = { homo: splits.homo, id: splits.id, ood: splits.ood };
    const k = p.config.k;
    const proto: EvalProtocol = rec.protocol === 'paper' ? { name: 'paper', base: { kind: 'kshot', shots: k }, tuned: { kind: 'chat' } } : LIKE_FOR_LIKE_PROTOCOL;
    const scoreOpts = { fewShot: p.bank.fewShot, batchSize: 8, signal: ctx.signal };
    const nTests = (splits.homo.length + splits.id.length + splits.ood.length) || 1;

    if (!rec.baseScores) {
      ctx.progress({ stage: 'baseline', done: 0, total: nTests, detail: 'scoring the base model on HOMO, ID and OOD' });
      rec.baseScores = await scoreTestSets(model, tests, proto.base, null, scoreOpts);
      await this.host.store.put('runs', rec);
    }
    const baseScores: SetScores = rec.baseScores;

    const cfg = (seed: number): LabTrainConfig => ({
      lora: { rank: rec.train.lora.rank, alpha: rec.train.lora.alpha, dropout: rec.train.lora.dropout, targets: loraTargets(rec.train.lora.targets) },
      learningRate: rec.train.lr,
      weightDecay: 0,
      betas: [0.9, 0.999],
      eps: 1e-8,
      schedule: { kind: rec.train.schedule, warmupFraction: rec.train.warmup },
      epochs: rec.train.epochs,
      batchSize: rec.train.batch,
      maxSeqLen: Math.min(1024, model.spec.maxPositionEmbeddings),
      clipNorm: 1,
      seed,
    });
    const examples = datasets.map((d) => trainExamples(model.tokenizer, d.dataset));
    const steps = examples.map((e) => totalSteps(e.length, cfg(rec.train.seed)));
    const trainer = pausable(model, this.gate);
    let secPerStep: number | null = null;
    let baseReport = null as Awaited<ReturnType<typeof evaluate>>['report'] | null;

    for (const [i, d] of datasets.entries()) {
      const doneBefore = rec.done.find((r) => r.datasetId === d.id);
      if (doneBefore) continue;
      ctx.signal.throwIfAborted();
      const runId = `${rec.id}/${d.id}`;
      const stepsLeftAfter = steps.slice(i + 1).reduce((a, b) => a + b, 0);
      let tStep = performance.now();
      const trained = await runTraining({
        runId,
        model: trainer,
        examples: examples[i],
        config: cfg(rec.train.seed),
        sink: this.sink,
        signal: ctx.signal,
        onEvent: (e) => {
          if (e.type !== 'step') return;
          const now = performance.now();
          const dt = (now - tStep) / 1000;
          tStep = now;
          // Time while paused is not training time.
          if (!this.gate.paused && dt > 0) secPerStep = secPerStep === null ? dt : 0.8 * secPerStep + 0.2 * dt;
          const c = model.counters;
          ctx.progress({
            stage: 'train',
            done: e.step,
            total: e.totalSteps,
            detail: d.label,
            metrics: {
              step: e.step,
              totalSteps: e.totalSteps,
              loss: e.loss,
              lr: e.learningRate,
              tokensPerSec: e.tokensPerSecond,
              etaSec: (secPerStep ?? 0) * (e.totalSteps - e.step + stepsLeftAfter),
              gpuBytes: Math.max(c.peakBytes, c.liveBytes),
              condition: i,
            },
          });
        },
      });
      ctx.progress({ stage: 'evaluate', done: 0, total: nTests, detail: d.label, metrics: { condition: i } });
      const adapter = await model.loadAdapter(trained.state);
      try {
        const r = await evaluate(model, tests, { ...scoreOpts, protocol: proto, adapter, baseScores, bootstrap: { samples: 200, seed: 0 } });
        baseReport ??= r.report;
        rec.done.push({ datasetId: d.id, condition: d.condition, ratio: d.ratio, label: d.label, trainSize: d.dataset.items.length, hash: d.dataset.hash, report: r.report });
        rec.changes[d.label] = questionChanges(tests, baseScores, r.tunedScores);
      } finally {
        model.unloadAdapter(adapter);
      }
      await this.host.store.put('runs', rec);
    }

    const order = new Map(rec.train.datasetIds.map((id, i) => [id, i]));
    const runs = [...rec.done].sort((a, b) => order.get(a.datasetId)! - order.get(b.datasetId)!);
    const manifest: Manifest = {
      model: { id: model.id, revision: this.host.loaded()?.revision ?? 'main' },
      engineVersion: this.host.engineVersion,
      device: this.deviceInfo(model),
      seeds: [rec.train.seed],
      hyper: {
        method: 'LoRA',
        rank: rec.train.lora.rank,
        alpha: rec.train.lora.alpha,
        dropout: rec.train.lora.dropout,
        targets: rec.train.lora.targets.join(','),
        lr: rec.train.lr,
        epochs: rec.train.epochs,
        batch: rec.train.batch,
        schedule: rec.train.schedule,
        warmup: rec.train.warmup,
        k: p.config.k,
        threshold: p.config.threshold,
        strict: p.config.strict,
        questions: p.label.slice(0, 120),
        precision: this.host.loaded()?.precision ?? 'f32',
      },
      datasets: runs.map((r) => ({ name: conditionName(r.condition, r.ratio ?? undefined).slice(0, 120), hash: r.hash })),
      protocol: rec.protocol === 'paper' ? `paper (base ${k}-shot, tuned 0-shot with template)` : 'like-for-like (both 0-shot with template)',
      date: new Date().toISOString(),
    };
    // The base accuracies of the report: the base side of any condition's comparison (the same base scores).
    const result = sharedResult({
      title: `${titleOf(runs.map((r) => r.label))} on ${model.id}`,
      manifest,
      baseReport: runs[0]?.report ?? baseReport,
      counts: { known: p.result.counts.known, unknown: p.result.counts.unknown },
      runs,
    });
    const final = { ...toRecord(result, 'lab', rec.createdAt), id: rec.id, changes: rec.changes, lab: { probeId: rec.probeId, train: rec.train, protocol: rec.protocol } };
    await this.host.store.put('runs', final);
    return { runId: rec.id, result, changes: rec.changes };
  }

  private deviceInfo(model: EngineModel): Manifest['device'] {
    const r = model.core.rt.engine.report;
    return { description: (r.description || [r.vendor, r.architecture].filter(Boolean).join(' ') || 'unknown GPU').slice(0, 400), fallback: r.isFallbackAdapter, shaderF16: r.features.shaderF16 };
  }
}

function titleOf(labels: string[]): string {
  return labels.length <= 3 ? labels.join(', ') : `${labels.length} conditions`;
}
