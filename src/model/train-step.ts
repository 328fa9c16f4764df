/**
 * LoRA training on the engine. A training step is one command buffer: forward (keeping activations),
 * final norm + fused LM-head cross-entropy (its d_hidden), the backward of every layer into every LoRA
 * gradient, the global gradient norm and AdamW with clipping; then one small read-back (loss, norm,
 * non-finite flag). Everything is prepared once per (batch, seqLen, LoRA layout, optimizer settings);
 * steps only write ids/targets/learning rate and encode.
 */
import type { AdapterState, TrainConfig, TrainExample, TrainHooks } from './types';
import { IGNORE_INDEX, prepareCrossEntropy } from '../engine/kernels/cross_entropy/cross_entropy';
import { prepareRmsNorm, prepareRmsNormBackward } from '../engine/kernels/rmsnorm/rmsnorm';
import { prepareAdamW, writeAdamWHyper, type AdamWConfig } from '../engine/optim/adamw';
import { learningRateAt } from '../engine/optim/schedule';
import { readTrainStatus, trainStatus, type StepReport, type TrainStatus } from '../engine/optim/status';
import type { Op, Tensor } from '../engine/runtime';
import type { EngineModel, ModelCore } from './engine-model';
import { initLora } from './lora';
import { uniformPm1 } from './random';
import { packBatch, roundUp } from './score';
import { packLora, unpackLora, type LoraBuffers, type Plan } from './transformer';

export interface Trainer {
  plan: Plan;
  lora: LoraBuffers;
  /** u32 [T]: next-token targets, IGNORE_INDEX where the loss does not count. */
  targets: Tensor;
  status: TrainStatus;
  hyper: Tensor;
  /** Every op of one step, in order. */
  ops: Op[];
  adam: Partial<AdamWConfig>;
}

/** The trainer for a (B, S) batch and a LoRA slot (prepared once; cached on the plan). */
export function trainer(core: ModelCore, B: number, S: number, lora: LoraBuffers, adam: Partial<AdamWConfig>): Trainer {
  const plan = core.plan({ B, S, L: S, past: 0, train: true }, lora);
  const key = `trainer ${JSON.stringify(adam)}`;
  const have = plan.heads.get(key) as Trainer | undefined;
  if (have) return have;
  const rt = plan.rt;
  const w = core.w;
  const { T } = plan;
  const D = w.spec.hiddenSize;
  const normed = rt.tensor('final normed', [T, D]);
  const rstd = rt.tensor('final rstd', [T]);
  const dNormed = rt.tensor('d final normed', [T, D]);
  const targets = rt.tensor('targets', [T], 'u32');
  const lossTok = rt.tensor('loss per token', [T]);
  const status = trainStatus(rt);
  const hyper = rt.tensor('adamw hyper', [4]);
  const ops: Op[] = [
    ...plan.forward,
    prepareRmsNorm(rt, { x: plan.hidden, weight: w.finalNorm, y: normed, rstd, T, D, eps: w.spec.rmsNormEps }),
    ...prepareCrossEntropy(rt, { ...w.lmHead, hidden: normed, targets, T, loss: lossTok, mean: status.loss, dHidden: dNormed, scratch: plan.ceScratch(T) }),
    prepareRmsNormBackward(rt, { x: plan.hidden, weight: w.finalNorm, rstd, dy: dNormed, dx: plan.dHidden!, T, D }),
    ...plan.backward!,
    ...prepareAdamW(rt, { params: lora.params, grads: lora.grads!, m: lora.m!, v: lora.v!, n: lora.layout.n, hyper, status: status.adam, config: adam }),
  ];
  const t: Trainer = { plan, lora, targets, status, hyper, ops, adam };
  plan.heads.set(key, t);
  return t;
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
  rt.write(t.targets, batch.targets);
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
export async function trainLora(model: EngineModel, examples: readonly TrainExample[], config: TrainConfig, hooks: TrainHooks = {}): Promise<AdapterState> {
  const core = model.core;
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
  const t = trainer(core, B, S, lora, adam);
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
