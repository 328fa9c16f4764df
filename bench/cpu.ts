/**
 * The CPU backend beside WebGPU, in one process so that the ratio is measured, not assumed: the same
 * prepared work on the bench's GpuRuntime (a hardware GPU, or SwiftShader where there is none) and on a
 * CpuRuntime. Rows come in pairs (`…_webgpu`, `…_cpu`); each CPU row carries `cpuOverWebgpu` (its rate over
 * the WebGPU row's: > 1, the CPU is faster), and a third row per pair (`…_cpu_threads`) runs the CPU backend
 * on every core, with `overOneThread`, its rate over the one-thread row's. Both backends run f32 weights here (the CPU keeps no f16), so the
 * pair compares the same arithmetic.
 *
 * - matmul GFLOP/s at the toy model's projection shapes (public/models/toy-world: D 64, F 172, V 704, 4/2
 *   heads of 16, T = 8 × 48 = 384 rows) and at 512³; WebGPU runs the version the engine picks;
 * - toy forward tokens/s (the decoder layers of a B 8 × S 48 batch, random weights);
 * - toy LoRA step ms (8 × 48 tokens, r 8 on q and v, the loss on a letter reply: 2 rows a sequence,
 *   gathered), with the CPU's per-op-kind milliseconds (CpuRuntime.profile) in the row's `profile`;
 * - a SmolLM2-135M-shaped forward (random weights, f32) tokens/s.
 *
 * `npm run bench -- --only cpu` runs just these (about 5 minutes on a loaded 2-core box with SwiftShader,
 * nearly all of it SwiftShader's; seconds on a GPU).
 */
import toyConfig from '../public/models/toy-world/config.json';
import { CpuRuntime } from '../src/engine/cpu-runtime';
import { prepareMatmul } from '../src/engine/kernels/matmul/matmul';
import { uniformArray } from '../src/engine/random';
import type { GpuRuntime, Runtime, Tensor } from '../src/engine/runtime';
import type { LoraConfig } from '../src/lab/model';
import { parseConfig } from '../src/model/config';
import { ModelCore } from '../src/model/engine-model';
import { randomWeights, realSpec } from '../src/model/memory';
import type { ModelSpec } from '../src/model/spec';
import { lossRowsOf, packTrainBatch, trainer, trainStep } from '../src/model/train-step';
import { uploadWeights } from '../src/model/transformer';
import { timeOps } from './timing';
import type { BenchEntry } from './types';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

type Backend = { name: 'webgpu' | 'cpu' | 'cpu_threads'; rt: Runtime };

const rate = (e: BenchEntry) => e.gflops ?? (e.extra?.tokensPerSecond as number | undefined) ?? 1000 / e.ms;

/**
 * The CPU rows get the ratio of their rate (GFLOP/s or tokens/s) to the WebGPU row's; the threaded row also
 * its ratio to the one-thread row, and its thread count.
 */
function pair(gpu: BenchEntry, cpu: BenchEntry, threaded: BenchEntry | undefined, threads: number): BenchEntry[] {
  cpu.extra = { ...cpu.extra, cpuOverWebgpu: rate(cpu) / rate(gpu) };
  if (!threaded) return [gpu, cpu];
  threaded.extra = { ...threaded.extra, threads, cpuOverWebgpu: rate(threaded) / rate(gpu), overOneThread: rate(threaded) / rate(cpu) };
  return [gpu, cpu, threaded];
}

async function matmulRow(b: Backend, M: number, N: number, K: number, what: string, samples: number): Promise<BenchEntry> {
  const made: Tensor[] = [b.rt.upload('a', uniformArray(M * K, 1), [M, K]), b.rt.upload('w', uniformArray(N * K, 2), [N, K]), b.rt.tensor('c', [M, N])];
  try {
    const op = prepareMatmul(b.rt, { a: made[0], b: made[1], out: made[2], M, N, K });
    const ms = await timeOps(b.rt, [op], { samples, inner: M * N * K < 1e7 ? 5 : 1 });
    return { kernel: `matmul_${b.name}`, shape: `${what} M=${M} N=${N} K=${K}`, ms, gflops: (2 * M * N * K) / ms / 1e6, extra: { version: op.label.split(' ')[0] } };
  } finally {
    for (const t of made) b.rt.release(t);
  }
}

/** Decoder-layer forward of a B × S batch (embedding and every layer, no LM head). */
async function forwardRow(b: Backend, core: ModelCore, name: string, B: number, S: number, samples: number): Promise<BenchEntry> {
  const plan = core.plan({ B, S, L: S, past: 0 }, null);
  const V = core.spec.vocabSize;
  b.rt.write(plan.ids, Uint32Array.from({ length: B * S }, (_, i) => (i * 7919 + 13) % V));
  b.rt.write(plan.positions, Uint32Array.from({ length: B * S }, (_, i) => i % S));
  const ms = await timeOps(b.rt, plan.forward, { samples });
  const flops = plan.forward.reduce((a, o) => a + o.flops, 0);
  return {
    kernel: `forward_${b.name}`, shape: `${name} f32 B=${B} S=${S} (layers, no LM head)`, ms, gflops: flops / ms / 1e6,
    extra: { tokensPerSecond: (B * S) / (ms / 1000), dispatches: plan.forward.filter((o) => !('copy' in o)).length },
  };
}

/**
 * A LoRA step on synthetic tokens, ready to run: r 8 on q and v (dropout 0.05), the adapter's parameters
 * written (`params`), the loss on the last `lossTokens` tokens of each sequence (a letter and its end).
 */
export function syntheticLoraStep(core: ModelCore, B: number, S: number, lossTokens = 2) {
  const lora: LoraConfig = { rank: 8, alpha: 16, dropout: 0.05, targets: ['q', 'v'] };
  const slot = core.slot(lora, true);
  const params = uniformArray(slot.layout.n, 5, 0.02);
  core.rt.write(slot.params, params);
  const V = core.spec.vocabSize;
  const examples = Array.from({ length: B }, (_, e) => {
    const ids = Array.from({ length: S }, (_, i) => (i * 104729 + e * 7919 + 3) % V);
    return { ids, lossMask: ids.map((_, i) => (i >= S - lossTokens ? 1 : 0)) };
  });
  return { slot, params, t: trainer(core, B, S, slot, { maxGradNorm: 1 }, lossRowsOf(examples, B, S)), batch: packTrainBatch(examples, B, S) };
}

/** One LoRA step (r 8 on q, v) with the loss on the last two tokens of each sequence (a letter and its end). */
async function loraStepRow(b: Backend, core: ModelCore, name: string, B: number, S: number, steps: number): Promise<BenchEntry> {
  const { slot, params, t, batch } = syntheticLoraStep(core, B, S);
  await trainStep(core, t, batch, 1e-4, 1);
  const cpu = b.rt.kind === 'cpu' ? b.rt : null;
  if (cpu) cpu.profile = new Map();
  const c0 = { ...b.rt.counters };
  const ms: number[] = [];
  for (let i = 0; i < steps; i++) {
    const s0 = performance.now();
    await trainStep(core, t, batch, 1e-4, i + 2);
    ms.push(performance.now() - s0);
  }
  const stepMs = median(ms);
  const flops = (b.rt.counters.flops - c0.flops) / steps;
  const extra: Record<string, number | string> = {
    tokensPerSecond: (B * S) / (stepMs / 1000), lossRows: t.rows?.R ?? B * S,
    dispatchesPerStep: (b.rt.counters.dispatches - c0.dispatches) / steps, allocationsPerStep: (b.rt.counters.allocations - c0.allocations) / steps,
  };
  if (cpu?.profile) {
    // Milliseconds per step by op kind (the label's first word), the largest first.
    const total = [...cpu.profile.values()].reduce((a, x) => a + x, 0) / steps;
    extra.profile = [...cpu.profile].sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k}:${(v / steps).toFixed(1)}`).join(',');
    extra.profiledMs = total;
    cpu.profile = null;
  }
  b.rt.write(slot.params, params);
  return { kernel: `lora_step_${b.name}`, shape: `${name} f32 B=${B} S=${S} LoRA r8 q,v, loss on 2 tokens/seq`, ms: stepMs, gflops: flops / stepMs / 1e6, extra };
}

async function withModel<T>(rt: Runtime, spec: ModelSpec, maxBatch: number, fn: (core: ModelCore) => Promise<T>): Promise<T> {
  const core = new ModelCore(rt, await uploadWeights(rt, spec, randomWeights(1), 'f32'), { maxBatch, seqQuantum: 16 });
  try {
    return await fn(core);
  } finally {
    core.dispose();
  }
}

export async function benchCpu(gpu: GpuRuntime, opts: { full?: boolean; log?: (s: string) => void; threadedCpu?: () => CpuRuntime }): Promise<BenchEntry[]> {
  const full = Boolean(opts.full);
  const samples = full ? 7 : 3;
  const cpuRt = new CpuRuntime();
  const threadedRt = opts.threadedCpu?.();
  const threads = threadedRt?.threads ?? 1;
  const backends: Backend[] = [
    { name: 'webgpu', rt: gpu },
    { name: 'cpu', rt: cpuRt },
    ...(threadedRt ? [{ name: 'cpu_threads' as const, rt: threadedRt }] : []),
  ];
  const out: BenchEntry[] = [];
  const both = async (fn: (b: Backend) => Promise<BenchEntry>) => {
    const [g, c] = [await fn(backends[0]), await fn(backends[1])];
    const t = backends[2] ? await fn(backends[2]) : undefined;
    out.push(...pair(g, c, t, threads));
    opts.log?.(`bench cpu: ${c.kernel} ${c.shape}: ${c.ms.toFixed(2)} ms${t ? `, ${threads} threads ${t.ms.toFixed(2)} ms` : ''} (webgpu ${g.ms.toFixed(2)} ms)`);
  };

  const toy = parseConfig(toyConfig);
  const [B, S] = [8, 48];
  const T = B * S;
  const { hiddenSize: D, intermediateSize: F, vocabSize: V, numHeads: H, numKvHeads: KVH, headDim: Dh } = toy;
  const shapes: [string, number, number, number][] = [
    ['toy q/o', T, H * Dh, D],
    ['toy k/v', T, KVH * Dh, D],
    ['toy gate|up', T, 2 * F, D],
    ['toy down', T, D, F],
    ['toy LM head', T, V, D],
    ['cube', 512, 512, 512],
  ];
  for (const [what, M, N, K] of shapes) await both((b) => matmulRow(b, M, N, K, what, samples));

  const toyRows: BenchEntry[][] = backends.map(() => []);
  for (const [i, b] of backends.entries())
    await withModel(b.rt, toy, B, async (core) => {
      toyRows[i].push(await forwardRow(b, core, 'toy-world shapes', B, S, samples));
      toyRows[i].push(await loraStepRow(b, core, 'toy-world shapes', B, S, full ? 5 : 3));
    });
  for (let k = 0; k < toyRows[0].length; k++) out.push(...pair(toyRows[0][k], toyRows[1][k], toyRows[2]?.[k], threads));

  // SmolLM2-135M's configuration with random f32 weights: the forward of a short batch (one sequence of 32
  // tokens by default: SwiftShader and the CPU both take seconds a run at this size).
  // On SwiftShader one such run takes over a minute on a small machine: one timed run after the warm-up there.
  const smol = realSpec('SmolLM2-135M');
  const [sb, ss] = full ? [4, 64] : [1, 32];
  const software = gpu.engine.report.isFallbackAdapter || /swiftshader/i.test(`${gpu.engine.report.vendor} ${gpu.engine.report.description}`);
  const smolRows: BenchEntry[] = [];
  for (const b of backends) {
    opts.log?.(`bench cpu: SmolLM2-135M-shaped forward on ${b.name}…`);
    const runs = full ? 3 : b.name === 'webgpu' && software ? 1 : 2;
    await withModel(b.rt, smol, sb, async (core) => smolRows.push(await forwardRow(b, core, 'SmolLM2-135M shapes (random)', sb, ss, runs)));
  }
  out.push(...pair(smolRows[0], smolRows[1], smolRows[2], threads));
  cpuRt.destroy();
  threadedRt?.destroy();
  return out;
}
