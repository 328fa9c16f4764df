/**
 * What training in the Worker needs around the lab's runTraining: checkpoints in the store, and pausing
 * between optimizer steps (the model stops at a step boundary and continues exactly from its state).
 */
import type { AdapterState, LabModel, TrainConfig, TrainExample, TrainHooks } from '../lab/model';
import type { RunFingerprint } from '../lab/fingerprint';
import { stateBytes, type Checkpoint, type CheckpointSink } from '../lab/train';
import { SIZE_PREFIX } from '../store/run-data';
import { StorageFullError, type Store, type StoredRecord } from '../store/types';

interface CheckpointRecord extends StoredRecord {
  runId: string;
  epoch: number;
  step: number;
  state: AdapterState;
  fingerprint?: RunFingerprint;
  /** Every step's loss up to `step` (a resumed run reports its whole history). */
  losses?: number[];
  /** Bytes of the tensors and moments (what deleting the run frees). */
  bytes?: number;
}

/**
 * Checkpoints in the store's `checkpoints` collection: one record per training run (`<runId>#latest`),
 * replaced as the run advances. A put that fails (a full quota) aborts its transaction, so the previous
 * checkpoint stays and the run stays resumable.
 */
export class StoreCheckpointSink implements CheckpointSink {
  constructor(
    private readonly store: Store,
    readonly identity?: CheckpointSink['identity'],
  ) {}

  async save(runId: string, epoch: number, state: AdapterState, fingerprint?: RunFingerprint, losses?: readonly number[]): Promise<void> {
    const id = `${runId}#latest`;
    const rec: CheckpointRecord = { id, createdAt: Date.now(), runId, epoch, step: state.step, state, fingerprint, ...(losses ? { losses: [...losses] } : {}), bytes: stateBytes(state) };
    try {
      await this.store.put('checkpoints', rec);
    } catch (e) {
      if (e instanceof StorageFullError) throw new CheckpointStorageError(e, runId, epoch);
      throw e;
    }
    // Checkpoints an older version kept per epoch (`<runId>#0003`): only the latest one counts.
    for (const k of await this.store.keys('checkpoints', { prefix: `${runId}#` })) if (k !== id) await this.store.delete('checkpoints', k);
    // Its size, for History (a few bytes; if even that does not fit, History just shows less).
    await this.store.put('settings', { id: `${SIZE_PREFIX}${runId}`, createdAt: Date.now(), bytes: rec.bytes }).catch(() => undefined);
  }

  async latest(runId: string): Promise<Checkpoint | undefined> {
    const all = await this.store.list<CheckpointRecord>('checkpoints', { runId });
    const last = all.sort((a, b) => a.step - b.step).at(-1);
    return last && { state: last.state, fingerprint: last.fingerprint, ...(last.losses ? { losses: last.losses } : {}) };
  }

  async delete(runId: string, opts: { prefix?: boolean } = {}): Promise<void> {
    for (const k of await this.store.keys('checkpoints', { prefix: opts.prefix ? runId : `${runId}#` })) await this.store.delete('checkpoints', k);
    for (const k of await this.store.keys('settings', { prefix: `${SIZE_PREFIX}${runId}` })) {
      if (opts.prefix || k === `${SIZE_PREFIX}${runId}`) await this.store.delete('settings', k);
    }
  }

  async bytes(runId: string): Promise<number> {
    const size = await this.store.get<StoredRecord & { bytes?: number }>('settings', `${SIZE_PREFIX}${runId}`);
    if (typeof size?.bytes === 'number') return size.bytes;
    const all = await this.store.list<CheckpointRecord>('checkpoints', { runId });
    return all.reduce((n, r) => n + (r.bytes ?? stateBytes(r.state)), 0);
  }
}

/** A checkpoint that did not fit: the previous one is intact; say what it would take and what to free. */
export class CheckpointStorageError extends StorageFullError {
  constructor(
    cause: StorageFullError,
    readonly runId: string,
    readonly epoch: number,
  ) {
    super(cause.usage, `the checkpoint of ${runId} after epoch ${epoch + 1}`);
  }
  override get advice(): string {
    return 'The previous checkpoint is intact, so the run can resume. Delete old runs in History (each run\'s checkpoints and adapters go with it), then resume this run.';
  }
}

/** Pause/resume between steps. `signal` aborts when a pause is asked, so the model stops at the next step boundary. */
export class PauseGate {
  private ac = new AbortController();
  private waiters: (() => void)[] = [];
  paused = false;

  get signal(): AbortSignal {
    return this.ac.signal;
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.ac.abort();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.ac = new AbortController();
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves when resumed; rejects when `cancel` aborts first. */
  wait(cancel?: AbortSignal): Promise<void> {
    if (!this.paused) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(cancel!.reason);
      cancel?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(() => {
        cancel?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }
}

/** Steps the engine will take for these examples (the same count LabModel.train uses). */
export function totalSteps(examples: number, config: Pick<TrainConfig, 'batchSize' | 'epochs'>): number {
  const B = Math.max(1, Math.min(config.batchSize, examples));
  return Math.ceil(examples / B) * config.epochs;
}

/**
 * `model` with a `train` that honours the gate: when paused, the engine returns its state at the step
 * boundary; this waits for resume and continues from that state (resumeFrom), so a paused run equals an
 * uninterrupted one. A cancel (hooks.signal) throws, so runTraining reports it as cancelled.
 */
export function pausable(model: LabModel, gate: PauseGate): LabModel {
  return {
    get id() {
      return model.id;
    },
    get tokenizer() {
      return model.tokenizer;
    },
    nextTokenLogProbs: (r) => model.nextTokenLogProbs(r),
    continuationLogProbs: (r) => model.continuationLogProbs(r),
    generate: (p, o) => model.generate(p, o),
    loadAdapter: (s) => model.loadAdapter(s),
    unloadAdapter: (r) => model.unloadAdapter(r),
    async train(examples: readonly TrainExample[], config: TrainConfig, hooks: TrainHooks = {}): Promise<AdapterState> {
      const total = totalSteps(examples.length, config);
      let state = hooks.resumeFrom;
      for (;;) {
        const signals = [gate.signal, ...(hooks.signal ? [hooks.signal] : [])];
        state = await model.train(examples, config, { ...hooks, resumeFrom: state, signal: AbortSignal.any(signals) });
        hooks.signal?.throwIfAborted();
        if (state.step >= total) return state;
        await gate.wait(hooks.signal);
      }
    },
  };
}
