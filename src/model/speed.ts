/**
 * This device's speed on a model's own shapes, for the estimate before a run (src/lab/estimate.ts): a few
 * timed scoring calls at two prompt lengths (a straight line through them gives tokens/s and the fixed cost
 * of a call) and a few LoRA steps at the experiment's batch shape. Takes seconds; the first call of each
 * shape compiles its pipelines and is not timed.
 */
import type { DeviceSpeed, SpeedShapes, TrainConfig } from './types';
import type { EngineModel } from './engine-model';


const now = () => performance.now() / 1000;

/** Deterministic token ids (the speed does not depend on which tokens). */
function ids(n: number, vocab: number, salt: number): number[] {
  return Array.from({ length: n }, (_, i) => (i * 7919 + salt * 104729 + 3) % vocab);
}

async function timeScoring(model: EngineModel, B: number, S: number, repeats: number): Promise<number> {
  const V = model.spec.vocabSize;
  const req = (r: number) => ({ prompts: Array.from({ length: B }, (_, b) => ids(S, V, r * B + b)), candidates: [0, 1, 2, 3].map((x) => x % V) });
  await model.nextTokenLogProbs(req(0));
  let best = Infinity;
  for (let r = 1; r <= repeats; r++) {
    const t0 = now();
    await model.nextTokenLogProbs(req(r));
    best = Math.min(best, now() - t0);
  }
  return best;
}

async function timeStep(model: EngineModel, shape: SpeedShapes, steps: number): Promise<number> {
  const V = model.spec.vocabSize;
  const examples = Array.from({ length: shape.trainBatch * (steps + 1) }, (_, i) => {
    const x = ids(shape.trainSeq, V, 1000 + i);
    const from = shape.trainLoss === undefined ? x.length / 2 : x.length - Math.max(1, Math.min(x.length - 1, shape.trainLoss));
    return { ids: x, lossMask: x.map((_, j) => (j >= from ? 1 : 0)) };
  });
  const config: TrainConfig = {
    lora: shape.lora, learningRate: 1e-6, weightDecay: 0, betas: [0.9, 0.999], eps: 1e-8,
    schedule: { kind: 'constant', warmupFraction: 0 }, epochs: 1, batchSize: shape.trainBatch,
    maxSeqLen: shape.trainSeq, clipNorm: 0, seed: 1,
  };
  // Each onStep comes after the step's loss is read back: the gap between two is one whole step.
  const marks: number[] = [];
  await model.train(examples, config, { onStep: () => void marks.push(now()) });
  // The median step, not the fastest: an estimate should expect a typical step (the fastest made the CPU
  // backend's one-click estimate 1.6 × short once).
  const gaps = marks.slice(1).map((m, i) => m - marks[i]).sort((a, b) => a - b);
  return gaps[Math.floor((gaps.length - 1) / 2)];
}

export async function measureSpeed(model: EngineModel, shape: SpeedShapes, opts: { repeats?: number; steps?: number } = {}): Promise<DeviceSpeed> {
  const t0 = now();
  // Two timed calls per shape and three timed steps: enough for an estimate; on a software GPU each costs seconds.
  const repeats = opts.repeats ?? 2;
  const B = Math.max(1, shape.scoreBatch);
  const S1 = 16;
  const S2 = Math.max(S1 + 48, Math.ceil(shape.scoreSeq / 16) * 16);
  const t1 = await timeScoring(model, B, S1, repeats);
  const t2 = await timeScoring(model, B, S2, repeats);
  // Two points of time(tokens) = call + tokens / rate; if noise makes the slope useless, all time is tokens.
  let rate = (B * (S2 - S1)) / (t2 - t1);
  let call = t1 - (B * S1) / rate;
  if (!(t2 > t1) || !(call >= 0)) {
    rate = (B * S2) / t2;
    call = 0;
  }
  const trainSeq = Math.max(16, Math.ceil(shape.trainSeq / 16) * 16);
  const stepSeconds = await timeStep(model, { ...shape, trainSeq }, opts.steps ?? 3);
  return {
    forwardTokensPerSecond: rate,
    callSeconds: call,
    stepSeconds,
    stepTokens: shape.trainBatch * trainSeq,
    measuredSeconds: now() - t0,
    shapes: `scoring ${B}×${S1} and ${B}×${S2}, LoRA r=${shape.lora.rank} step ${shape.trainBatch}×${trainSeq}`,
  };
}

