/**
 * A training run over `LabModel.train`: validated settings, progress events, a checkpoint each epoch,
 * resumption from the latest checkpoint, cancellation, and a clear stop when the loss stops being finite.
 */
import { CancelledError, ConfigError, LabError, TrainingDivergedError } from './errors';
import { describeChanges, runFingerprint, type RunFingerprint } from './fingerprint';
import { LIMITS, tooLarge, type LimitName } from './limits';
import type { AdapterState, LabModel, LoraTarget, StepEvent, TrainConfig, TrainExample } from './model';

/** A stored checkpoint: the adapter and optimizer state, and the fingerprint of the run that wrote it. */
export interface Checkpoint {
  state: AdapterState;
  fingerprint?: RunFingerprint;
  /** The loss of every step up to `state.step` (absent in checkpoints older versions wrote): a resumed run reports its whole history. */
  losses?: number[];
}

/**
 * How a run treats a stored checkpoint: `auto` resumes when the fingerprints match and otherwise says what
 * changed and starts fresh; `require` stops instead of starting fresh; `never` always starts fresh.
 */
export type ResumePolicy = 'auto' | 'require' | 'never';

/**
 * Where checkpoints go: IndexedDB in the browser, files in Node (the store layer implements it). A sink
 * keeps only the latest checkpoint of a run (older ones are dropped when a newer one is written), and a
 * failed write leaves the previous checkpoint intact.
 */
export interface CheckpointSink {
  save(runId: string, epoch: number, state: AdapterState, fingerprint?: RunFingerprint, losses?: readonly number[]): Promise<void>;
  latest(runId: string): Promise<Checkpoint | undefined>;
  /** Every checkpoint of this run; with `{ prefix: true }`, of every run whose id starts with `runId`. */
  delete(runId: string, opts?: { prefix?: boolean }): Promise<void>;
  /** Bytes the run's checkpoints take (what deleting it frees). */
  bytes(runId: string): Promise<number>;
  /** What else decides every run kept here (weights hash, engine version): part of each fingerprint. */
  readonly identity?: Readonly<Record<string, string | null | undefined>>;
  /** The default policy for runs kept here (the CLI's --resume / --fresh); `auto` when absent. */
  readonly resume?: ResumePolicy;
}

/** The bytes of an adapter state's tensors and moments. */
export function stateBytes(s: AdapterState): number {
  let n = 0;
  const add = (r: Record<string, Float32Array>) => {
    for (const t of Object.values(r)) n += t.byteLength;
  };
  add(s.tensors);
  if (s.optimizer) {
    add(s.optimizer.m);
    add(s.optimizer.v);
  }
  return n;
}

/** Checkpoints in memory (tests, and a browser with storage denied); keeps the latest per run. */
export class MemoryCheckpointSink implements CheckpointSink {
  readonly saved = new Map<string, { epoch: number; state: AdapterState; fingerprint?: RunFingerprint; losses?: number[] }>();
  /** Every save, in order (tests look at the history; only `saved` is kept). */
  readonly history: { runId: string; epoch: number; step: number }[] = [];
  constructor(readonly opts: { identity?: CheckpointSink['identity']; resume?: ResumePolicy } = {}) {}
  get identity() {
    return this.opts.identity;
  }
  get resume() {
    return this.opts.resume;
  }
  async save(runId: string, epoch: number, state: AdapterState, fingerprint?: RunFingerprint, losses?: readonly number[]): Promise<void> {
    this.saved.set(runId, { epoch, state, fingerprint, ...(losses ? { losses: [...losses] } : {}) });
    this.history.push({ runId, epoch, step: state.step });
  }
  async latest(runId: string): Promise<Checkpoint | undefined> {
    const c = this.saved.get(runId);
    return c && { state: c.state, fingerprint: c.fingerprint, ...(c.losses ? { losses: [...c.losses] } : {}) };
  }
  async delete(runId: string, opts: { prefix?: boolean } = {}): Promise<void> {
    for (const id of [...this.saved.keys()]) if (opts.prefix ? id.startsWith(runId) : id === runId) this.saved.delete(id);
  }
  async bytes(runId: string): Promise<number> {
    const c = this.saved.get(runId);
    return c ? stateBytes(c.state) : 0;
  }
}

/** A stored checkpoint that does not belong to this run, with `resume: 'require'`. */
export class StaleCheckpointError extends LabError {
  constructor(
    readonly runId: string,
    readonly changes: readonly string[],
  ) {
    super(
      'stale-checkpoint',
      `The checkpoint of run ${runId} was written by a different run: ${changes.join('; ')}.`,
      'Start the run fresh (ift-lab: --fresh), or restore the settings it was trained with to resume it.',
    );
  }
}

export type TrainEvent =
  | { type: 'start'; runId: string; totalSteps: number; examples: number; resumedFromStep: number | null }
  /** A stored checkpoint of this run id was written by a different run: it is not resumed (and is dropped). */
  | { type: 'stale-checkpoint'; runId: string; changes: string[] }
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
  const atMost = (v: number, limit: LimitName, name: string) => {
    if (v > LIMITS[limit].max) issues.push(`${name} ${tooLarge(limit)} (it is ${v})`);
  };
  int(c.lora.rank, 1, 'lora.rank');
  atMost(c.lora.rank, 'rank', 'lora.rank');
  if (!Number.isFinite(c.lora.alpha)) issues.push(`lora.alpha must be a finite number (it is ${c.lora.alpha})`);
  atMost(c.lora.alpha, 'alpha', 'lora.alpha');
  atMost(c.learningRate, 'learningRate', 'learningRate');
  atMost(c.epochs, 'epochs', 'epochs');
  atMost(c.batchSize, 'batchSize', 'batchSize');
  atMost(c.maxSeqLen, 'maxSeqLen', 'maxSeqLen');
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
  /**
   * Continue from the sink's latest checkpoint of this run when its fingerprint matches (true / `auto`,
   * the default: the sink's policy, else auto); false / `never` starts fresh; `require` stops on a mismatch.
   */
  resume?: boolean | ResumePolicy;
  /** Whatever else decides the run, for the fingerprint (added to the sink's identity). */
  identity?: Readonly<Record<string, string | null | undefined>>;
  signal?: AbortSignal;
  onEvent?(e: TrainEvent): void;
  /**
   * Stop at fit, one rule for every run that sets it: after each epoch (at least one) `fit` scores the run's
   * own training items with the adapter as it stands, and training stops once the score is at least
   * `threshold`, or after `config.epochs` (the ceiling; the learning-rate schedule is the ceiling's).
   */
  untilFit?: { threshold: number; fit(state: AdapterState): Promise<number> };
  /** After each epoch (0-based), once its checkpoint is written: the adapter then (the Unknown-share design evaluates every epoch). */
  onEpoch?(epoch: number, state: AdapterState): Promise<void> | void;
}

export interface TrainRunResult {
  runId: string;
  state: AdapterState;
  resumedFromStep: number | null;
  /** Loss of every step of the run, the steps before a resume included (from its checkpoint). */
  losses: number[];
  /** The step `losses` starts at: 0, or the resume step when the checkpoint (from an older version) kept no losses. */
  lossesFromStep: number;
  steps: number;
  seconds: number;
  /** With `untilFit`: the fit after each epoch checked (epoch counted from 1), and the epochs trained. */
  fitPerEpoch?: { epoch: number; fit: number }[];
  epochs?: number;
}

export async function runTraining(o: TrainRunOptions): Promise<TrainRunResult> {
  const issues = validateTrainConfig(o.config, o.examples);
  if (issues.length) throw new ConfigError('training configuration', issues);
  const totalSteps = stepsPerEpoch(o.examples.length, o.config.batchSize) * o.config.epochs;
  const t0 = performance.now();
  const policy: ResumePolicy = o.resume === false ? 'never' : o.resume === true || o.resume === undefined ? (o.sink?.resume ?? 'auto') : o.resume;
  const fingerprint = await runFingerprint({ config: o.config, examples: o.examples, modelId: o.model.id, identity: { ...o.sink?.identity, ...o.identity } });
  const stored = o.sink ? await o.sink.latest(o.runId) : undefined;
  let from: AdapterState | undefined;
  if (stored && policy !== 'never' && stored.fingerprint?.hash === fingerprint.hash) from = stored.state;
  else if (stored) {
    const changes = policy === 'never' ? ['a fresh start was asked for'] : describeChanges(stored.fingerprint, fingerprint);
    if (policy === 'require') throw new StaleCheckpointError(o.runId, changes);
    o.onEvent?.({ type: 'stale-checkpoint', runId: o.runId, changes });
    // Dropped now, so that the fresh run's checkpoints are the only ones of this run id.
    await o.sink!.delete(o.runId);
  }
  const resumedFromStep = from ? from.step : null;
  // The losses before the resume, when the checkpoint kept all of them.
  const prior = from && stored?.losses && stored.losses.length === from.step && stored.losses.every((x) => Number.isFinite(x)) ? stored.losses : from ? null : [];
  const lossesFromStep = prior ? 0 : from!.step;
  o.onEvent?.({ type: 'start', runId: o.runId, totalSteps, examples: o.examples.length, resumedFromStep });
  if (from && from.step >= totalSteps) {
    o.onEvent?.({ type: 'done', runId: o.runId, steps: from.step, seconds: 0 });
    return { runId: o.runId, state: from, resumedFromStep, losses: [...(prior ?? [])], lossesFromStep, steps: from.step, seconds: 0 };
  }
  const losses: number[] = [...(prior ?? [])];
  let lastStep: number | undefined;
  const cancelled = () => new CancelledError(`Training run ${o.runId}`);
  try {
    o.signal?.throwIfAborted();
    const hooks = (signal: AbortSignal | undefined, afterEpoch?: (s: AdapterState) => void) => ({
      signal,
      onStep: (e: StepEvent) => {
        lastStep = e.step;
        if (!Number.isFinite(e.loss) || !Number.isFinite(e.gradNorm)) {
          throw new TrainingDivergedError(o.runId, e.step, `loss ${e.loss}, gradient norm ${e.gradNorm}`);
        }
        losses.push(e.loss);
        o.onEvent?.({ type: 'step', runId: o.runId, ...e });
        if (o.signal?.aborted) throw cancelled();
      },
      onEpoch: async (epoch: number, s: AdapterState) => {
        // A non-finite checkpoint would poison a resume: keep the last good one instead.
        if (!finiteState(s)) throw new TrainingDivergedError(o.runId, s.step, `the adapter weights after epoch ${epoch + 1} are not finite`);
        if (o.sink) {
          await o.sink.save(o.runId, epoch, s, fingerprint, prior ? losses : undefined);
          o.onEvent?.({ type: 'checkpoint', runId: o.runId, epoch, step: s.step });
        }
        afterEpoch?.(s);
        await o.onEpoch?.(epoch, s);
      },
    });
    let state: AdapterState;
    let fitPerEpoch: TrainRunResult['fitPerEpoch'];
    if (o.untilFit) {
      // One epoch per call (the epoch's hook keeps the state and fires the call's own signal: the model stops at
      // the next step boundary, returning or throwing), then the fit of the adapter as it stands; the next call
      // resumes from that state (optimizer included), so the steps are those of one uninterrupted run.
      const perEpoch = stepsPerEpoch(o.examples.length, o.config.batchSize);
      fitPerEpoch = [];
      let at: AdapterState | undefined = from;
      for (;;) {
        const done = at ? Math.floor(at.step / perEpoch) : 0;
        if (at && done >= 1) {
          const fit = await o.untilFit.fit(at);
          fitPerEpoch.push({ epoch: done, fit });
          if (fit >= o.untilFit.threshold || done >= o.config.epochs) break;
        }
        const stop = new AbortController();
        const relay = () => stop.abort();
        o.signal?.addEventListener('abort', relay);
        let epochEnd: AdapterState | undefined;
        try {
          const returned = await o.model.train(o.examples, o.config, {
            resumeFrom: at,
            ...hooks(stop.signal, (s) => {
              epochEnd = s;
              stop.abort();
            }),
          });
          at = epochEnd ?? returned;
        } catch (e) {
          if (o.signal?.aborted || !epochEnd || !stop.signal.aborted) throw e;
          at = epochEnd;
        } finally {
          o.signal?.removeEventListener('abort', relay);
        }
        if (o.signal?.aborted) throw cancelled();
      }
      state = at!;
    } else {
      state = await o.model.train(o.examples, o.config, { resumeFrom: from, ...hooks(o.signal) });
    }
    // A model stops cleanly at a step boundary when the signal fires and returns its state: that is a cancel.
    if (o.signal?.aborted) throw cancelled();
    if (!finiteState(state)) throw new TrainingDivergedError(o.runId, state.step, 'the final adapter weights are not finite');
    const seconds = (performance.now() - t0) / 1000;
    o.onEvent?.({ type: 'done', runId: o.runId, steps: state.step, seconds });
    const epochs = Math.round(state.step / stepsPerEpoch(o.examples.length, o.config.batchSize));
    return { runId: o.runId, state, resumedFromStep, losses, lossesFromStep, steps: state.step, seconds, ...(fitPerEpoch ? { fitPerEpoch, epochs } : {}) };
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
