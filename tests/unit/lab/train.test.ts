import { beforeAll, describe, expect, it } from 'vitest';
import { CancelledError, ConfigError, TrainingDivergedError } from '../../../src/lab/errors';
import { buildDataset, trainExamples } from '../../../src/lab/intervene';
import type { TrainExample } from '../../../src/lab/model';
import { MemoryCheckpointSink, runTraining, StaleCheckpointError, validateTrainConfig, type TrainEvent } from '../../../src/lab/train';
import { BowModel, WordTokenizer, bowTrainConfig } from '../../helpers/bow-model';
import { tinyWorld } from '../../helpers/tiny-world';
import { chatUserText } from '../../../src/lab/prompts';

const { questions } = tinyWorld(3, 6);
let examples: TrainExample[];
let tok: WordTokenizer;
const fresh = () => new BowModel(tok, { buckets: 64, window: 24 });

beforeAll(async () => {
  tok = new WordTokenizer(questions.map(chatUserText).concat(['<|user|>\n<|assistant|>\n']));
  const ds = await buildDataset(
    { name: 'incompatible', kind: 'incompatible', items: questions.slice(0, 12).map((q) => ({ question: q, response: q.answer, source: 'gold' })) },
    { style: 'letter', seed: 1 },
  );
  examples = trainExamples(tok, ds);
});

describe('runTraining', () => {
  it('fits the assistant tokens, reports every step and checkpoints each epoch', async () => {
    const sink = new MemoryCheckpointSink();
    const events: TrainEvent[] = [];
    const res = await runTraining({ runId: 'r1', model: fresh(), examples, config: bowTrainConfig({ epochs: 3, batchSize: 4 }), sink, onEvent: (e) => events.push(e) });
    expect(res.steps).toBe(9);
    expect(res.losses).toHaveLength(9);
    expect(res.losses.at(-1)!).toBeLessThan(res.losses[0] / 2);
    expect(events[0]).toMatchObject({ type: 'start', totalSteps: 9, examples: 12, resumedFromStep: null });
    const steps = events.filter((e) => e.type === 'step');
    expect(steps).toHaveLength(9);
    for (const s of steps) {
      if (s.type !== 'step') continue;
      expect(s.learningRate).toBeGreaterThan(0);
      expect(s.gradNorm).toBeGreaterThan(0);
      expect(s.tokensPerSecond).toBeGreaterThan(0);
    }
    expect(events.filter((e) => e.type === 'checkpoint').map((e) => (e as { epoch: number }).epoch)).toEqual([0, 1, 2]);
    expect(events.at(-1)!.type).toBe('done');
    expect(sink.history.filter((c) => c.runId === 'r1').map((c) => c.step)).toEqual([3, 6, 9]);
    // Only the latest checkpoint is kept.
    expect(sink.saved.get('r1')!.state.step).toBe(9);
  });

  it('resumes from the latest checkpoint after a cancel and ends where an uninterrupted run ends', async () => {
    const config = bowTrainConfig({ epochs: 3, batchSize: 4 });
    const straight = await runTraining({ runId: 's', model: fresh(), examples, config });

    const sink = new MemoryCheckpointSink();
    const ctl = new AbortController();
    const first = runTraining({
      runId: 'r2',
      model: fresh(),
      examples,
      config,
      sink,
      signal: ctl.signal,
      onEvent: (e) => {
        if (e.type === 'checkpoint' && e.epoch === 0) ctl.abort();
      },
    });
    await expect(first).rejects.toBeInstanceOf(CancelledError);
    expect(sink.history.filter((c) => c.runId === 'r2').map((c) => c.step)).toEqual([3]);

    const events: TrainEvent[] = [];
    const second = await runTraining({ runId: 'r2', model: fresh(), examples, config, sink, onEvent: (e) => events.push(e) });
    expect(second.resumedFromStep).toBe(3);
    // The whole history (3 steps from the checkpoint, 6 after the resume), equal to the uninterrupted run's.
    expect(second.losses).toEqual(straight.losses);
    for (const [name, t] of Object.entries(straight.state.tensors)) expect(second.state.tensors[name]).toEqual(t);

    // A finished run resumes to its end without training again.
    const third = await runTraining({ runId: 'r2', model: fresh(), examples, config, sink, onEvent: (e) => events.push(e) });
    expect(events.filter((e) => e.type === 'step')).toHaveLength(6);
    expect(third.losses).toEqual(straight.losses);
    expect(third.steps).toBe(9);
  });

  it('reports a cancel when the model stops cleanly on the signal and returns its state (as the engine does)', async () => {
    const ctl = new AbortController();
    const inner = fresh();
    const model = Object.create(inner) as typeof inner;
    model.train = async (ex, cfg, hooks) => {
      const state = await inner.train(ex, { ...cfg, epochs: 1 }, { ...hooks, signal: undefined });
      ctl.abort(); // the signal fires; the model has stopped at a step boundary and returns normally
      return state;
    };
    await expect(runTraining({ runId: 'clean', model, examples, config: bowTrainConfig(), signal: ctl.signal })).rejects.toThrow(/was cancelled/);
  });

  it('cancels before starting when the signal is already aborted', async () => {
    const ctl = new AbortController();
    ctl.abort();
    await expect(runTraining({ runId: 'c', model: fresh(), examples, config: bowTrainConfig(), signal: ctl.signal })).rejects.toThrow(/was cancelled/);
  });

  it('stops with a clear message when the loss becomes non-finite, keeping stored checkpoints', async () => {
    const sink = new MemoryCheckpointSink();
    // The learning rate is bounded (≤ 1), so the loss is made to overflow in the second epoch instead.
    const inner = fresh();
    const model = Object.create(inner) as typeof inner;
    model.train = (ex, cfg, hooks = {}) => inner.train(ex, cfg, { ...hooks, onStep: (e) => hooks.onStep?.(e.step > 4 ? { ...e, loss: Infinity } : e) });
    const err = await runTraining({ runId: 'nan', model, examples, config: bowTrainConfig({ epochs: 4, batchSize: 4 }), sink }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TrainingDivergedError);
    expect((err as TrainingDivergedError).message).toMatch(/Run nan stopped: the loss or a gradient became non-finite/);
    expect((err as TrainingDivergedError).advice).toMatch(/Lower the learning rate/);
    const kept = sink.saved.get('nan');
    expect(kept).toBeDefined();
    for (const t of Object.values(kept!.state.tensors)) expect(t.every(Number.isFinite)).toBe(true);
  });

  it('validates the configuration and the examples, listing every problem', async () => {
    const bad = bowTrainConfig({ learningRate: -1, epochs: 0, batchSize: 2.5, betas: [0.9, 1], lora: { rank: 0, alpha: 8, dropout: 1, targets: ['q', 'x' as 'q'] } });
    const issues = validateTrainConfig(bad, [{ ids: [1, 2], lossMask: [0, 0] }, { ids: [1], lossMask: [] }]);
    expect(issues).toEqual([
      'lora.rank must be a whole number ≥ 1 (it is 0)',
      'lora.dropout must be in [0, 1) (it is 1)',
      'lora.targets has "x"; use q, k, v, o, gate, up, down',
      'learningRate must be a positive number (it is -1)',
      'betas[1] must be in [0, 1) (it is 1)',
      'epochs must be a whole number ≥ 1 (it is 0)',
      'batchSize must be a whole number ≥ 1 (it is 2.5)',
      'example 0: no token is a target of the loss',
      'example 1: 1 tokens but 0 mask entries',
    ]);
    await expect(runTraining({ runId: 'v', model: fresh(), examples: [], config: bowTrainConfig() })).rejects.toBeInstanceOf(ConfigError);
    await expect(runTraining({ runId: 'v', model: fresh(), examples: [], config: bowTrainConfig() })).rejects.toThrow(/there are no training examples/);
  });
});

describe('runTraining resumes only the run that wrote the checkpoint', () => {
  const config = bowTrainConfig({ epochs: 3, batchSize: 4, learningRate: 1e-4 });
  /** A run cancelled after its first epoch: a checkpoint at step 3 in `sink`. */
  async function interrupted(sink: MemoryCheckpointSink, runId: string) {
    const ctl = new AbortController();
    const first = runTraining({ runId, model: fresh(), examples, config, sink, signal: ctl.signal, onEvent: (e) => e.type === 'checkpoint' && ctl.abort() });
    await expect(first).rejects.toBeInstanceOf(CancelledError);
    expect(sink.saved.get(runId)!.state.step).toBe(3);
  }
  const stale = (events: TrainEvent[]) => events.filter((e) => e.type === 'stale-checkpoint').map((e) => (e as { changes: string[] }).changes);

  it('a changed learning rate runs fresh with the new rate, and says what changed', async () => {
    const sink = new MemoryCheckpointSink();
    await interrupted(sink, 'lr');
    // The same command with lr 5e-3: the old checkpoint must not be resumed (it would return old weights).
    const changed = { ...config, learningRate: 5e-3 };
    const events: TrainEvent[] = [];
    const r = await runTraining({ runId: 'lr', model: fresh(), examples, config: changed, sink, onEvent: (e) => events.push(e) });
    expect(r.resumedFromStep).toBeNull();
    expect(r.losses).toHaveLength(9);
    expect(stale(events)).toEqual([['learningRate 0.0001 → 0.005']]);
    const steps = events.filter((e) => e.type === 'step');
    expect(steps.every((e) => e.type === 'step' && e.learningRate === 5e-3)).toBe(true);
    // Bit-identical to a straight run with the new rate.
    const straight = await runTraining({ runId: 'lr-straight', model: fresh(), examples, config: changed });
    for (const [name, t] of Object.entries(straight.state.tensors)) expect(r.state.tensors[name]).toEqual(t);
    // The fresh run's checkpoint replaced the stale one; running again resumes it (nothing left to train).
    const again = await runTraining({ runId: 'lr', model: fresh(), examples, config: changed, sink });
    expect(again.resumedFromStep).toBe(9);
    expect(again.losses).toEqual(r.losses);
  });

  it('a changed LoRA rank, dataset or model identity runs fresh; `require` stops instead', async () => {
    const sink = new MemoryCheckpointSink({ identity: { weightsHash: 'w1', engineVersion: '0.1.0' } });
    await interrupted(sink, 'rank');
    const events: TrainEvent[] = [];
    const rank8 = { ...config, lora: { ...config.lora, rank: 8 } };
    const err = await runTraining({ runId: 'rank', model: fresh(), examples, config: rank8, sink, resume: 'require' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StaleCheckpointError);
    expect((err as Error).message).toMatch(/lora\.rank 4 → 8/);
    expect(sink.saved.get('rank')!.state.step).toBe(3); // a refused resume keeps the checkpoint
    const r = await runTraining({ runId: 'rank', model: fresh(), examples, config: rank8, sink, onEvent: (e) => events.push(e) });
    expect(r.resumedFromStep).toBeNull();
    expect(stale(events)).toEqual([['lora.rank 4 → 8']]);
    expect(r.state.config.rank).toBe(8);

    await interrupted(sink, 'data');
    const other = await runTraining({ runId: 'data', model: fresh(), examples: examples.slice(1), config, sink, onEvent: (e) => events.push(e) });
    expect(other.resumedFromStep).toBeNull();
    expect(stale(events).at(-1)).toEqual(['the training examples (dataset, template or tokenizer) changed']);

    await interrupted(sink, 'weights');
    const moved = await runTraining({ runId: 'weights', model: fresh(), examples, config, sink, identity: { weightsHash: 'w2' }, onEvent: (e) => events.push(e) });
    expect(moved.resumedFromStep).toBeNull();
    expect(stale(events).at(-1)).toEqual(['the model weights w1 → w2']);
  });

  it('an identical run resumes bit-identically; `never` starts fresh', async () => {
    const sink = new MemoryCheckpointSink({ identity: { weightsHash: 'w1' } });
    await interrupted(sink, 'same');
    // Key order and an undefined field do not change the fingerprint.
    const rev = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).reverse()) as T;
    const reordered = { ...rev(config), lora: rev(config.lora) };
    const r = await runTraining({ runId: 'same', model: fresh(), examples, config: reordered, sink, resume: 'require' });
    expect(r.resumedFromStep).toBe(3);
    const straight = await runTraining({ runId: 'same-straight', model: fresh(), examples, config });
    for (const [name, t] of Object.entries(straight.state.tensors)) expect(r.state.tensors[name]).toEqual(t);
    // The whole loss history, the steps before the cut-off included (from the checkpoint), not only those after it.
    expect(r.losses).toHaveLength(straight.losses.length);
    expect(r.losses).toEqual(straight.losses);
    expect(r.lossesFromStep).toBe(0);
    // Resumed past its end: still the whole history.
    const done = await runTraining({ runId: 'same', model: fresh(), examples, config, sink, resume: 'require' });
    expect(done.losses).toEqual(straight.losses);
    const events: TrainEvent[] = [];
    const again = await runTraining({ runId: 'same', model: fresh(), examples, config, sink: new MemoryCheckpointSink({ resume: 'never' }), onEvent: (e) => events.push(e) });
    expect(again.resumedFromStep).toBeNull();
    const neverSink = new MemoryCheckpointSink({ identity: { weightsHash: 'w1' }, resume: 'never' });
    await neverSink.save('same', 0, sink.saved.get('same')!.state, sink.saved.get('same')!.fingerprint);
    const forced = await runTraining({ runId: 'same', model: fresh(), examples, config, sink: neverSink, onEvent: (e) => events.push(e) });
    expect(forced.resumedFromStep).toBeNull();
    expect(stale(events).at(-1)).toEqual(['a fresh start was asked for']);
  });

  it('a checkpoint that kept no losses (an older version) resumes, and says where its losses start', async () => {
    const sink = new MemoryCheckpointSink();
    await interrupted(sink, 'nolosses');
    expect(sink.saved.get('nolosses')!.losses).toHaveLength(3);
    delete sink.saved.get('nolosses')!.losses;
    const r = await runTraining({ runId: 'nolosses', model: fresh(), examples, config, sink });
    expect(r.resumedFromStep).toBe(3);
    expect(r.lossesFromStep).toBe(3);
    expect(r.losses).toHaveLength(r.steps - 3);
  });

  it('a checkpoint with no fingerprint (an older version) is not resumed', async () => {
    const sink = new MemoryCheckpointSink();
    await interrupted(sink, 'old');
    sink.saved.get('old')!.fingerprint = undefined;
    const events: TrainEvent[] = [];
    const r = await runTraining({ runId: 'old', model: fresh(), examples, config, sink, onEvent: (e) => events.push(e) });
    expect(r.resumedFromStep).toBeNull();
    expect(stale(events)).toEqual([['the checkpoint has no fingerprint (an older version of the lab wrote it)']]);
  });
});
