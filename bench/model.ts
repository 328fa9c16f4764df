/**
 * The whole model on the engine: prefill and decode tokens/s, LoRA training tokens/s with FLOPs per token
 * and dispatches per step, peak GPU memory, and the fraction of the best matmul GFLOP/s measured in the
 * same run (how far the assembled step is from the engine's best single kernel).
 * Default: the tiny fixture (f32), sized for SwiftShader. `full`: a random-weight model with SmolLM2-135M's
 * exact configuration (or `model: 'Qwen2.5-0.5B'`), packed f16 weights, seq 256 × batch 8, LoRA r=8 on q and v.
 */
import type { LoraConfig } from '../src/lab/model';
import { GEMV_MAX_ROWS, prepareMatmul, MATMUL_VERSIONS, type MatmulVersion } from '../src/engine/kernels/matmul/matmul';
import type { GpuRuntime } from '../src/engine/runtime';
import { createEngineModel } from '../src/model/engine-model';
import { buildPlan } from '../src/model/transformer';
import { makeFixture } from '../src/model/fixtures';
import { randomWeights, realSpec, REAL_CONFIGS } from '../src/model/memory';
import { createTokenizer } from '../src/model/tokenizer';
import { lossRowsOf, packTrainBatch, trainer, trainStep } from '../src/model/train-step';
import { timeOps } from './timing';
import type { BenchEntry } from './types';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Best GFLOP/s over the matmul ladder on the model's largest projection shape ([T, F] ← [T, D]·[F, D]ᵀ). */
async function bestMatmulGflops(rt: GpuRuntime, M: number, N: number, K: number, f16: boolean): Promise<number> {
  const a = rt.tensor('bench a', [M, K]);
  const b32 = rt.tensor('bench b', [N, K]);
  const b16 = f16 ? rt.tensor('bench b16', [N, K], 'f16') : null;
  const c = rt.tensor('bench c', [M, N]);
  let best = 0;
  // f16h and sgmat where the device offers shader-f16 / tensor cores: the best matmul is the device's best.
  const extra: MatmulVersion[] = [...(rt.engine.f16 ? (['f16h'] as const) : []), ...(rt.engine.subgroupMatrix ? (['sgmat'] as const) : [])];
  for (const v of [...(Object.keys(MATMUL_VERSIONS) as MatmulVersion[]), ...extra]) {
    // naive is the slow baseline; gemv is for few rows (it reads the weight once per 4 rows of A).
    if (v === 'naive' || (v === 'gemv' && M > GEMV_MAX_ROWS)) continue;
    const b = v === 'f16w' || v === 'f16h' || v === 'sgmat' ? b16 : b32;
    if (!b) continue;
    const ms = await timeOps(rt, [prepareMatmul(rt, { a, b, out: c, M, N, K }, v)], { samples: 3 });
    best = Math.max(best, (2 * M * N * K) / ms / 1e6);
  }
  for (const t of [a, b32, b16, c]) if (t) rt.release(t);
  return best;
}

export async function benchModel(rt: GpuRuntime, opts: { full?: boolean; model?: keyof typeof REAL_CONFIGS } = {}): Promise<BenchEntry[]> {
  const full = Boolean(opts.full);
  const fx = makeFixture('tiny-llama');
  const tokenizer = createTokenizer(fx.tokenizerJson, fx.tokenizerConfig);
  const real = opts.model ?? 'SmolLM2-135M';
  const spec = full ? realSpec(real) : fx.spec;
  const precision = full ? 'f16' : 'f32';
  const [B, S] = full ? [8, 256] : [2, 16];
  const decodeTokens = full ? 32 : 4;
  const lora: LoraConfig = { rank: 8, alpha: 16, dropout: 0, targets: ['q', 'v'] };
  rt.resetPeak();
  const model = await createEngineModel(rt, { spec, tokenizer, weights: full ? randomWeights(1) : fx.weights }, { precision, maxBatch: B, seqQuantum: S });
  const core = model.core;
  const name = full ? `${real} (random weights)` : 'tiny-llama';
  const shape = `${name} ${precision} B=${B} S=${S}`;
  const out: BenchEntry[] = [];
  const V = spec.vocabSize;
  const rand = (n: number, seed: number) => Array.from({ length: n }, (_, i) => (i * 7919 + seed * 104729) % Math.min(V, 30000));

  // The best matmul of this run on the model's largest projection, the yardstick of every entry's FLOP rate.
  const best = await bestMatmulGflops(rt, B * S, spec.intermediateSize, spec.hiddenSize, precision === 'f16');
  const tensorCores = rt.engine.subgroupMatrix ? `sgmat ${rt.engine.subgroupMatrix.M}x${rt.engine.subgroupMatrix.N}x${rt.engine.subgroupMatrix.K}` : 'none';

  // Prefill: B prompts of S tokens scored (next-token log-probs of 4 candidates) per batch.
  const prompts = Array.from({ length: B }, (_, b) => rand(S, b + 1));
  await model.nextTokenLogProbs({ prompts, candidates: [1, 2, 3, 4] });
  const pre: number[] = [];
  const before = { ...rt.counters };
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await model.nextTokenLogProbs({ prompts, candidates: [1, 2, 3, 4] });
    pre.push(performance.now() - t0);
  }
  const preMs = median(pre);
  const preFlops = (rt.counters.flops - before.flops) / 3;
  out.push({
    kernel: 'model_prefill', shape, ms: preMs, gflops: preFlops / preMs / 1e6,
    extra: {
      tokensPerSecond: (B * S) / (preMs / 1000), flopsPerToken: preFlops / (B * S), dispatches: (rt.counters.dispatches - before.dispatches) / 3,
      allocationsPerCall: (rt.counters.allocations - before.allocations) / 3, peakMiB: rt.counters.peakBytes / 2 ** 20,
      bestMatmulGflops: best, fractionOfBestMatmul: preFlops / preMs / 1e6 / best, tensorCores,
    },
  });

  // Decode: greedy, one token per submit with the KV cache. Dispatches per decoded token = the difference
  // between a long and a short generation (both have one prefill); the unfused count is that of the same
  // decode plan without the gemv fusions (counted, not run): the before/after of the dispatch budget.
  const prompt = rand(Math.min(S, 32), 9);
  await model.generate(prompt, { maxNewTokens: decodeTokens });
  const short = { ...rt.counters };
  const g2 = await model.generate(prompt, { maxNewTokens: 2 });
  const mid = { ...rt.counters };
  const t0 = performance.now();
  const gen = await model.generate(prompt, { maxNewTokens: decodeTokens });
  const decMs = performance.now() - t0;
  const decAllocations = rt.counters.allocations - mid.allocations;
  // Decode steps of a generation: one after each token but the last, unless it ended at end-of-sequence.
  const decodes = (n: number, max: number) => (n === max ? n - 1 : n);
  const decSteps = Math.max(1, decodes(gen.length, decodeTokens) - decodes(g2.length, 2));
  const perToken = (rt.counters.dispatches - mid.dispatches - (mid.dispatches - short.dispatches)) / decSteps;
  const decFlops = (rt.counters.flops - mid.flops - (mid.flops - short.flops)) / decSteps;
  const layers = (fused: boolean) => {
    const plan = buildPlan(rt, core.w, { B: 1, S: 1, L: 64, past: 0, settablePast: true, fuse: fused });
    const n = plan.forward.length;
    plan.release();
    return n;
  };
  const unfused = perToken - layers(true) + layers(false);
  out.push({
    kernel: 'model_decode', shape: `${name} ${precision} prompt ${prompt.length}`, ms: decMs / Math.max(1, gen.length),
    gflops: decFlops / (decMs / Math.max(1, gen.length)) / 1e6,
    extra: {
      tokensPerSecond: gen.length / (decMs / 1000), tokens: gen.length, flopsPerToken: decFlops, dispatchesPerToken: perToken,
      dispatchesPerTokenUnfused: unfused, dispatchesPerLayer: (layers(true) - 1) / spec.numLayers, dispatchesPerLayerUnfused: (layers(false) - 1) / spec.numLayers,
      allocationsPerCall: decAllocations, peakMiB: rt.counters.peakBytes / 2 ** 20,
      fractionOfBestMatmul: decFlops / (decMs / Math.max(1, gen.length)) / 1e6 / best,
    },
  });

  // LoRA training steps: the loss on half of each sequence (an explanation reply), and on a letter reply
  // (its letter and end token: the final norm and LM head then run on those rows alone).
  const slot = core.slot(lora, true);
  rt.write(slot.params, new Float32Array(slot.layout.n));
  for (const reply of [S / 2, 2]) {
    const examples = prompts.map((ids) => ({ ids, lossMask: ids.map((_, i) => (i >= S - reply ? 1 : 0)) }));
    const t = trainer(core, B, S, slot, { maxGradNorm: 1 }, lossRowsOf(examples, B, S));
    const batch = packTrainBatch(examples, B, S);
    await trainStep(core, t, batch, 1e-4, 1);
    const steps: number[] = [];
    const c0 = { ...rt.counters };
    const n = full ? 5 : 2;
    for (let i = 0; i < n; i++) {
      const s0 = performance.now();
      await trainStep(core, t, batch, 1e-4, i + 2);
      steps.push(performance.now() - s0);
    }
    const stepMs = median(steps);
    const flopsPerStep = (rt.counters.flops - c0.flops) / n;
    const achieved = flopsPerStep / stepMs / 1e6;
    const dispatchesPerStep = (rt.counters.dispatches - c0.dispatches) / n;
    const allocationsPerStep = (rt.counters.allocations - c0.allocations) / n;
    const peakMiB = rt.counters.peakBytes / 2 ** 20;
    out.push({
      kernel: 'model_lora_step',
      shape: `${shape} LoRA r8 q,v, loss on ${reply} tokens`,
      ms: stepMs,
      gflops: achieved,
      extra: {
        tokensPerSecond: (B * S) / (stepMs / 1000),
        flopsPerToken: flopsPerStep / (B * S),
        lossRows: t.rows?.R ?? B * S,
        dispatchesPerStep,
        // Before the o/down projections added the residual in their epilogue: one add dispatch each per layer.
        dispatchesPerStepUnfused: dispatchesPerStep + 2 * spec.numLayers,
        allocationsPerStep,
        tensorCores,
        peakMiB,
        bestMatmulGflops: best,
        fractionOfBestMatmul: achieved / best,
      },
    });
  }
  model.dispose();
  return out;
}
