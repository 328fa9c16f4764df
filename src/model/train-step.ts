/**
 * LoRA training on the engine. A training step is one command buffer: forward (keeping activations),
 * final norm + fused LM-head cross-entropy (its d_hidden) on the loss positions only (gathered out of the
 * batch when they are fewer: a letter reply is 2 of ~50 tokens, and the LM head is the widest product of
 * the step), the backward of every layer into every LoRA
 * gradient, the global gradient norm and AdamW with clipping; then one small read-back (loss, norm,
 * non-finite flag). Everything is prepared once per (batch, seqLen, LoRA layout, optimizer settings);
 * steps only write ids/targets/learning rate and encode.
 */
import type { AdapterState, TrainConfig, TrainExample, TrainHooks } from './types';
import { IGNORE_INDEX, prepareCrossEntropy } from '../engine/kernels/cross_entropy/cross_entropy';
import { prepareRowGather } from '../engine/kernels/embedding/embedding';
import { prepareRmsNorm, prepareRmsNormBackward } from '../engine/kernels/rmsnorm/rmsnorm';
import { prepareAdamW, writeAdamWHyper, type AdamWConfig } from '../engine/optim/adamw';
import { learningRateAt } from '../engine/optim/schedule';
import { readTrainStatus, trainStatus, type StepReport, type TrainStatus } from '../engine/optim/status';
import type { Op, Tensor } from '../engine/runtime';
import type { ModelCore } from './model-core';
import { initLora } from './lora';
import { uniformPm1 } from './random';
import { packBatch, roundUp } from './score';
import { packLora, unpackLora, type LoraBuffers, type Plan } from './transformer';

export interface Trainer {
  plan: Plan;
  lora: LoraBuffers;
  /** u32 [R]: next-token targets of the loss rows, IGNORE_INDEX where the loss does not count. */
  targets: Tensor;
  /**
   * When the loss rows are gathered (R < T): u32 [R] each loss row's position in the batch, u32 [T] each
   * position's loss row (or none), and their host copies. Absent when every position is a loss row (R = T).
   */
  rows?: { R: number; index: Tensor; rowOf: Tensor; host: { targets: Uint32Array; index: Uint32Array; rowOf: Uint32Array } };
  status: TrainStatus;
  hyper: Tensor;
  /** Every op of one step, in order. */
  ops: Op[];
  adam: Partial<AdamWConfig>;
}

/**
 * The trainer for a (B, S) batch and a LoRA slot (prepared once; cached on the plan). `lossRows`: the most
 * positions of a batch that carry a target (default every one of the B·S); below B·S the final norm and the
 * LM-head cross-entropy run on those rows alone, gathered out of the batch and their gradient put back.
 */
export function trainer(core: ModelCore, B: number, S: number, lora: LoraBuffers, adam: Partial<AdamWConfig>, lossRows?: number): Trainer {
  const plan = core.plan({ B, S, L: S, past: 0, train: true }, lora);
  const T = plan.T;
  const R = Math.max(1, Math.min(T, lossRows ?? T));
  const key = `trainer ${JSON.stringify(adam)} rows ${R}`;
  const have = plan.heads.get(key) as Trainer | undefined;
  if (have) return have;
  const rt = plan.rt;
  const w = core.w;
  const D = w.spec.hiddenSize;
  const gather = R < T;
  const rows = gather
    ? { R, index: rt.tensor('loss rows', [R], 'u32'), rowOf: rt.tensor('loss row of position', [T], 'u32'), host: { targets: new Uint32Array(R), index: new Uint32Array(R), rowOf: new Uint32Array(T) } }
    : undefined;
  const picked = rows ? rt.tensor('loss rows hidden', [R, D]) : plan.hidden;
  const dPicked = rows ? rt.tensor('d loss rows hidden', [R, D]) : plan.dHidden!;
  const normed = rt.tensor('final normed', [R, D]);
  const rstd = rt.tensor('final rstd', [R]);
  const dNormed = rt.tensor('d final normed', [R, D]);
  const targets = rt.tensor('targets', [R], 'u32');
  const lossTok = rt.tensor('loss per token', [R]);
  const status = trainStatus(rt);
  const hyper = rt.tensor('adamw hyper', [4]);
  const ops: Op[] = [
    ...plan.forward,
    ...(rows ? [prepareRowGather(rt, { rows: rows.index, x: plan.hidden, out: picked, R, n: T, D })] : []),
    prepareRmsNorm(rt, { x: picked, weight: w.finalNorm, y: normed, rstd, T: R, D, eps: w.spec.rmsNormEps }),
    ...prepareCrossEntropy(rt, { ...w.lmHead, hidden: normed, targets, T: R, loss: lossTok, mean: status.loss, dHidden: dNormed, scratch: plan.ceScratch(R) }),
    prepareRmsNormBackward(rt, { x: picked, weight: w.finalNorm, rstd, dy: dNormed, dx: dPicked, T: R, D }),
    // Every position's gradient: its loss row's, zero where it has none.
    ...(rows ? [prepareRowGather(rt, { rows: rows.rowOf, x: dPicked, out: plan.dHidden!, R: T, n: R, D })] : []),
    ...plan.backward!,
    ...prepareAdamW(rt, { params: lora.params, grads: lora.grads!, m: lora.m!, v: lora.v!, n: lora.layout.n, hyper, status: status.adam, config: adam }),
  ];
  const t: Trainer = { plan, lora, targets, rows, status, hyper, ops, adam };
  plan.heads.set(key, t);
  return t;
}

/** The most loss positions a batch of `B` of these examples can hold (the B with the most), at most B·S. */
export function lossRowsOf(examples: readonly TrainExample[], B: number, S: number): number {
  const counts = examples.map((e) => e.lossMask.reduce((a: number, m, i) => a + (i > 0 && m === 1 ? 1 : 0), 0)).sort((a, b) => b - a);
  const most = counts.slice(0, B).reduce((a, b) => a + b, 0);
  return Math.min(B * S, roundUp(most, 8)); // roundUp gives at least 8
}

/** Ids, positions and targets (next token where the next token's mask is 1) of a right-padded batch. */
export function packTrainBatch(examples: readonly TrainExample[], B: number, S: number): { ids: Uint32Array; positions: Uint32Array; targets: Uint32Array; tokens: number } {
  const { ids, positions } = packBatch(examples.map((e) => e.ids), B, S, 0);
  const targets = new Uint32Array(B * S).fill(IGNORE_INDEX);
  let tokens = 0;
  examples.forEach((e, b) => {
    tokens += e.ids.length;
    for (let s = 0; s + 1 < e.ids.length; s++) if (e.lossMask[s + 1] === 1) targets[b * S + s] = e.ids[s + 1];
  });
  return { ids, positions, targets, tokens };
}

/** One optimizer step (1-based `step`) on a packed batch; throws NonFiniteError when the loss or a gradient is not finite. */
export async function trainStep(
  core: ModelCore,
  t: Trainer,
  batch: { ids: Uint32Array; positions: Uint32Array; targets: Uint32Array },
  lr: number,
  step: number,
  dropoutSeed = 0,
): Promise<StepReport> {
  const rt = core.rt;
  rt.write(t.plan.ids, batch.ids);
  rt.write(t.plan.positions, batch.positions);
  if (t.rows) {
    // Compact the targets to the loss rows; the rest of the rows stay IGNORE_INDEX (loss and gradient 0).
    const { R, host } = t.rows;
    host.targets.fill(IGNORE_INDEX);
    host.index.fill(0);
    host.rowOf.fill(IGNORE_INDEX);
    let r = 0;
    batch.targets.forEach((y, i) => {
      if (y === IGNORE_INDEX) return;
      if (r === R) throw new Error(`train: a batch holds more than the ${R} loss positions its trainer was prepared for`);
      host.targets[r] = y;
      host.index[r] = i;
      host.rowOf[i] = r++;
    });
    rt.write(t.targets, host.targets);
    rt.write(t.rows.index, host.index);
    rt.write(t.rows.rowOf, host.rowOf);
  } else rt.write(t.targets, batch.targets);
  rt.write(t.lora.dropoutState, Uint32Array.of(dropoutSeed >>> 0, step));
  writeAdamWHyper(rt, t.hyper, step, lr, t.adam);
  rt.run(t.ops, 'train step');
  return readTrainStatus(rt, t.status, step);
}

/** Truncate from the left (the answer is at the end) to at most `max` tokens. */
export function truncateLeft(e: TrainExample, max: number): TrainExample {
  if (e.ids.length <= max) return e;
  return { ids: e.ids.slice(-max), lossMask: e.lossMask.slice(-max) };
}

/** The example order of one epoch (the exported recipe's labmath.py epoch_order reproduces it). */
export function epochOrder(n: number, seed: number, epoch: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  const r = uniformPm1((seed * 1000003 + epoch * 7919) >>> 0);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(((r() + 1) / 2) * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

async function readState(core: ModelCore, lora: LoraBuffers, config: TrainConfig, step: number): Promise<AdapterState> {
  const [p, m, v] = [await core.rt.readF32(lora.params), await core.rt.readF32(lora.m!), await core.rt.readF32(lora.v!)];
  return {
    config: { ...config.lora, targets: [...config.lora.targets] },
    tensors: unpackLora(lora.layout, p),
    step,
    optimizer: { m: unpackLora(lora.layout, m), v: unpackLora(lora.layout, v) },
  };
}

/** Batch size, steps and warm-up steps of a run on n examples (the recipe's labmath.py plan_steps mirrors it). */
export function trainPlan(n: number, config: Pick<TrainConfig, 'batchSize' | 'epochs' | 'schedule'>): { batch: number; perEpoch: number; totalSteps: number; warmupSteps: number } {
  const batch = Math.max(1, Math.min(config.batchSize, n));
  const perEpoch = Math.ceil(n / batch);
  const totalSteps = perEpoch * config.epochs;
  return { batch, perEpoch, totalSteps, warmupSteps: Math.round(config.schedule.warmupFraction * totalSteps) };
}

/** LabModel.train: batches, schedule, hooks, resume, cancellation. */
export async function trainLora(core: ModelCore, examples: readonly TrainExample[], config: TrainConfig, hooks: TrainHooks = {}): Promise<AdapterState> {
  if (examples.length === 0) throw new Error('train: no examples');
  const data = examples.map((e) => {
    if (e.ids.length !== e.lossMask.length) throw new Error('train: ids and lossMask differ in length');
    return truncateLeft(e, config.maxSeqLen);
  });
  const longest = Math.max(...data.map((e) => e.ids.length));
  const S = Math.min(roundUp(longest, core.quantum), Math.max(longest, config.maxSeqLen));
  const { batch: B, perEpoch, totalSteps, warmupSteps } = trainPlan(data.length, config);
  const schedule = { kind: config.schedule.kind, warmupSteps, peak: config.learningRate };
  const adam: Partial<AdamWConfig> = { beta1: config.betas[0], beta2: config.betas[1], eps: config.eps, weightDecay: config.weightDecay, maxGradNorm: config.clipNorm };
  const lora = core.slot(config.lora, true);
  const t = trainer(core, B, S, lora, adam, lossRowsOf(data, B, S));
  const layout = lora.layout;
  const resume = hooks.resumeFrom;
  const start = resume?.step ?? 0;
  const tensors = resume?.tensors ?? initLora(core.spec, config.lora, config.seed);
  core.rt.write(lora.params, packLora(layout, tensors));
  core.rt.write(lora.m!, resume?.optimizer ? packLora(layout, resume.optimizer.m) : new Float32Array(layout.n));
  core.rt.write(lora.v!, resume?.optimizer ? packLora(layout, resume.optimizer.v) : new Float32Array(layout.n));

  let step = start;
  for (let epoch = Math.floor(start / perEpoch); epoch < config.epochs; epoch++) {
    const order = epochOrder(data.length, config.seed, epoch);
    for (let k = step - epoch * perEpoch; k < perEpoch; k++) {
      if (hooks.signal?.aborted) return readState(core, lora, config, step);
      const batch = packTrainBatch(order.slice(k * B, (k + 1) * B).map((i) => data[i]), B, S);
      const lr = learningRateAt(step, totalSteps, schedule);
      const t0 = performance.now();
      const r = await trainStep(core, t, batch, lr, step + 1, config.seed);
      const dt = (performance.now() - t0) / 1000;
      step++;
      hooks.onStep?.({ step, totalSteps, epoch, loss: r.loss, learningRate: lr, gradNorm: r.gradNorm, tokensPerSecond: batch.tokens / Math.max(dt, 1e-9) });
    }
    if (hooks.onEpoch) await hooks.onEpoch(epoch, await readState(core, lora, config, step));
  }
  return readState(core, lora, config, step);
}
