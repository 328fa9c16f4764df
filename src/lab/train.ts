/**
 * A training run over `LabModel.train`: validated settings, progress events, a checkpoint each epoch,
 * resumption from the latest checkpoint, cancellation, and a clear stop when the loss stops being finite.
 */
import { CancelledError, ConfigError, TrainingDivergedError } from './errors';
import type { AdapterState, LabModel, LoraTarget, StepEvent, TrainConfig, TrainExample } from './model';

/** Where checkpoints go: IndexedDB in the browser, files in Node (the store layer implements it). */
export interface CheckpointSink {
  save(runId: string, epoch: number, state: AdapterState): Promise<void>;
  latest(runId: string): Promise<AdapterState | undefined>;
}

/** Checkpoints in memory (tests, and a browser with storage denied). */
export class MemoryCheckpointSink implements CheckpointSink {
  readonly saved = new Map<string, { epoch: number; state: AdapterState }[]>();
  async save(runId: string, epoch: number, state: AdapterState): Promise<void> {
    this.saved.set(runId, [...(this.saved.get(runId) ?? []), { epoch, state }]);
  }
  async latest(runId: string): Promise<AdapterState | undefined> {
    return this.saved.get(runId)?.at(-1)?.state;
  }
}

export type TrainEvent =
  | { type: 'start'; runId: string; totalSteps: number; examples: number; resumedFromStep: number | null }
  | ({ type: 'step'; runId: string } & StepEvent)
  | { type: 'checkpoint'; runId: string; epoch: number; step: number }
  | { type: 'done'; runId: string; steps: number; seconds: number };

const TARGETS: readonly LoraTarget[] = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'];

/** Every problem with a training configuration (and its examples), in words; empty when valid. */
export function validateTrainConfig(c: TrainConfig, examples?: readonly TrainExample[]): string[] {
  const issues: string[] = [];
  const int = (v: number, min: number, name: string) => {
    if (!Number.isInteger(v) || v < min) issues.push(`${name} must be a whole number ≥ ${min} (it is ${v})`);
  };
  const within = (v: number, lo: number, hi: number, name: string, hiOpen = true) => {
    if (!Number.isFinite(v) || v < lo || (hiOpen ? v >= hi : v > hi)) issues.push(`${name} must be in [${lo}, ${hi}${hiOpen ? ')' : ']'} (it is ${v})`);
  };
  int(c.lora.rank, 1, 'lora.rank');
  if (!(c.lora.alpha > 0)) issues.push(`lora.alpha must be > 0 (it is ${c.lora.alpha})`);
  within(c.lora.dropout, 0, 1, 'lora.dropout');
  if (c.lora.targets.length === 0) issues.push('lora.targets must name at least one projection');
  for (const t of c.lora.targets) if (!TARGETS.includes(t)) issues.push(`lora.targets has ${JSON.stringify(t)}; use ${TARGETS.join(', ')}`);
  if (!(c.learningRate > 0 && Number.isFinite(c.learningRate))) issues.push(`learningRate must be a positive number (it is ${c.learningRate})`);
  if (!(c.weightDecay >= 0)) issues.push(`weightDecay must be ≥ 0 (it is ${c.weightDecay})`);
  within(c.betas[0], 0, 1, 'betas[0]');
  within(c.betas[1], 0, 1, 'betas[1]');
  if (!(c.eps > 0)) issues.push(`eps must be > 0 (it is ${c.eps})`);
  if (!['constant', 'linear', 'cosine'].includes(c.schedule.kind)) issues.push(`schedule.kind must be constant, linear or cosine (it is ${c.schedule.kind})`);
  within(c.schedule.warmupFraction, 0, 1, 'schedule.warmupFraction');
  int(c.epochs, 1, 'epochs');
  int(c.batchSize, 1, 'batchSize');
  int(c.maxSeqLen, 8, 'maxSeqLen');
  if (!(c.clipNorm >= 0)) issues.push(`clipNorm must be ≥ 0 (0 disables; it is ${c.clipNorm})`);
  if (!Number.isInteger(c.seed)) issues.push(`seed must be a whole number (it is ${c.seed})`);
  if (examples) {
    if (examples.length === 0) issues.push('there are no training examples');
    examples.forEach((e, i) => {
      if (e.ids.length !== e.lossMask.length) issues.push(`example ${i}: ${e.ids.length} tokens but ${e.lossMask.length} mask entries`);
      else if (!e.lossMask.some((m) => m === 1)) issues.push(`example ${i}: no token is a target of the loss`);
    });
  }
  return issues;
}

export function stepsPerEpoch(examples: number, batchSize: number): number {
  return Math.ceil(examples / batchSize);
}

function finiteState(s: AdapterState): boolean {
  for (const t of Object.values(s.tensors)) for (let i = 0; i < t.length; i++) if (!Number.isFinite(t[i])) return false;
  return true;
}

export interface TrainRunOptions {
  runId: string;
  model: LabModel;
  examples: readonly TrainExample[];
  config: TrainConfig;
  sink?: CheckpointSink;
  /** Continue from the sink's latest checkpoint of this run when there is one (default true). */
  resume?: boolean;
  signal?: AbortSignal;
  onEvent?(e: TrainEvent): void;
}

export interface TrainRunResult {
  runId: string;
  state: AdapterState;
  resumedFromStep: number | null;
  /** Loss of every step this call ran. */
  losses: number[];
  steps: number;
  seconds: number;
}

export async function runTraining(o: TrainRunOptions): Promise<TrainRunResult> {
  const issues = validateTrainConfig(o.config, o.examples);
  if (issues.length) throw new ConfigError('training configuration', issues);
  const totalSteps = stepsPerEpoch(o.examples.length, o.config.batchSize) * o.config.epochs;
  const t0 = performance.now();
  const from = o.sink && o.resume !== false ? await o.sink.latest(o.runId) : undefined;
  const resumedFromStep = from ? from.step : null;
  o.onEvent?.({ type: 'start', runId: o.runId, totalSteps, examples: o.examples.length, resumedFromStep });
  if (from && from.step >= totalSteps) {
    o.onEvent?.({ type: 'done', runId: o.runId, steps: from.step, seconds: 0 });
    return { runId: o.runId, state: from, resumedFromStep, losses: [], steps: from.step, seconds: 0 };
  }
  const losses: number[] = [];
  let lastStep: number | undefined;
  const cancelled = () => new CancelledError(`Training run ${o.runId}`);
  try {
    o.signal?.throwIfAborted();
    const state = await o.model.train(o.examples, o.config, {
      signal: o.signal,
      resumeFrom: from,
      onStep: (e) => {
        lastStep = e.step;
        if (!Number.isFinite(e.loss) || !Number.isFinite(e.gradNorm)) {
          throw new TrainingDivergedError(o.runId, e.step, `loss ${e.loss}, gradient norm ${e.gradNorm}`);
        }
        losses.push(e.loss);
        o.onEvent?.({ type: 'step', runId: o.runId, ...e });
        if (o.signal?.aborted) throw cancelled();
      },
      onEpoch: async (epoch, s) => {
        // A non-finite checkpoint would poison a resume: keep the last good one instead.
        if (!finiteState(s)) throw new TrainingDivergedError(o.runId, s.step, `the adapter weights after epoch ${epoch + 1} are not finite`);
        if (o.sink) {
          await o.sink.save(o.runId, epoch, s);
          o.onEvent?.({ type: 'checkpoint', runId: o.runId, epoch, step: s.step });
        }
      },
    });
    // A model stops cleanly at a step boundary when the signal fires and returns its state: that is a cancel.
    if (o.signal?.aborted) throw cancelled();
    if (!finiteState(state)) throw new TrainingDivergedError(o.runId, state.step, 'the final adapter weights are not finite');
    const seconds = (performance.now() - t0) / 1000;
    o.onEvent?.({ type: 'done', runId: o.runId, steps: state.step, seconds });
    return { runId: o.runId, state, resumedFromStep, losses, steps: state.step, seconds };
  } catch (e) {
    if (e instanceof TrainingDivergedError || e instanceof CancelledError) throw e;
    if (o.signal?.aborted) throw cancelled();
    // The engine signals divergence with code "non-finite" (NonFiniteError); the lab does not import it.
    if (e && typeof e === 'object' && (e as { code?: unknown }).code === 'non-finite') {
      throw new TrainingDivergedError(o.runId, lastStep, (e as Error).message);
    }
    throw e;
  }
}
