/**
 * Our engine against transformers.js on the same weights, the same token ids and the same protocol.
 *  - prefill: B prompts × S tokens in one forward; tokens/s = B·S / median ms. Like for like, both sides
 *    compute the logits at every position and read them back ([B, S, V]: what transformers.js's forward
 *    returns). The engine's scoring path (LM head at the last position only, what the lab uses) is reported
 *    beside it as `extra.tokensPerSecondLastPositionHead`.
 *  - decode: greedy from one prompt with the KV cache; tokens/s = (n − 1) / (t(n tokens) − t(1 token)), so the
 *    prompt's prefill and the first token cancel out and only cache decoding is timed.
 *  - ratio: engine tokens/s ÷ transformers.js tokens/s, on each transformers.js row.
 * Model: the tiny-llama fixture (f32) by default; `full`: SmolLM2-135M's exact configuration with seeded
 * random weights (the ONNX built in memory, ~540 MB of f32), plus an engine row with packed f16 weights.
 * transformers.js runs fp32 ONNX: in the browser on onnxruntime-web's WebGPU provider, in Node on
 * onnxruntime-node's WebGPU provider (its own Dawn) when it opens, and on its CPU provider.
 */
import type { PreTrainedModel } from '@huggingface/transformers';
import { Tensor } from '@huggingface/transformers';
import type { LabTokenizer } from '../src/lab/model';
import type { GpuRuntime } from '../src/engine/runtime';
import { specToConfig } from '../src/model/config';
import { createEngineModel, type EngineModel } from '../src/model/engine-model';
import { makeFixture } from '../src/model/fixtures';
import { buildOnnxModel } from '../src/model/fixtures-onnx';
import { randomWeights, realSpec } from '../src/model/memory';
import { expectedTensors, type ModelSpec } from '../src/model/spec';
import { createTokenizer } from '../src/model/tokenizer';
import type { Precision } from '../src/model/transformer';
import { backendLabel, IS_NODE, loadReferenceModel, type ReferenceDevice } from './reference-load';
import type { BenchEntry } from './types';

export interface ReferenceOptions {
  full?: boolean;
  log?: (s: string) => void;
  /** transformers.js devices to compare with, in order. Default: Node ['webgpu', 'cpu'], browser ['webgpu']. */
  devices?: ReferenceDevice[];
  /** onnxruntime-web's .wasm folder (browser). */
  wasmPaths?: string;
  /** Override the protocol's sizes (e.g. a quick check of the full model on a slow adapter). */
  sizes?: Partial<Sizes>;
}

export interface Sizes {
  /** Prefill batch and tokens per prompt. */
  B: number;
  S: number;
  /** Decode: prompt length and new tokens. */
  promptLen: number;
  decodeTokens: number;
  /** Timed runs after the warm-up (median). */
  samples: number;
}

/** What the test checks besides the rows: the greedy tokens each side decoded. */
export interface ReferenceRun {
  entries: BenchEntry[];
  greedy: { engine: number[]; reference: Record<string, number[]> };
  /** Devices that could not open, with the reason (the run goes on without them). */
  skipped: Record<string, string>;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Warm up once, then the median of `n` timings (ms). */
async function timed(n: number, fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

/** The model both sides run (weights, the engine's tokenizer, the in-memory Hub files with the ONNX) and the sizes. */
export interface ReferenceSetup extends Sizes {
  name: string;
  spec: ModelSpec;
  weights: Map<string, Float32Array>;
  tokenizer: LabTokenizer;
  files: Map<string, Uint8Array>;
}

export function referenceSetup(full: boolean, sizes: Partial<Sizes> = {}): ReferenceSetup {
  const fx = makeFixture('tiny-llama');
  const text = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
  if (!full) {
    const files = new Map(Object.entries(fx.files));
    files.set('onnx/model.onnx', buildOnnxModel(fx.spec, fx.weights));
    const tokenizer = createTokenizer(fx.tokenizerJson, fx.tokenizerConfig);
    return { name: 'tiny-llama', spec: fx.spec, weights: fx.weights, tokenizer, files, B: 2, S: 16, promptLen: 8, decodeTokens: 8, samples: 3, ...sizes };
  }
  const spec = realSpec('SmolLM2-135M');
  const rand = randomWeights(1);
  const weights = new Map([...expectedTensors(spec)].map(([n, shape]) => [n, rand(n, shape)]));
  // The engine needs a tokenizer object only for its EOS ids: the fixture's, told the real model's EOS, so
  // both sides stop on the same token.
  const base = createTokenizer(fx.tokenizerJson, fx.tokenizerConfig);
  const tokenizer: LabTokenizer = {
    encode: (t) => base.encode(t),
    decode: (ids) => base.decode(ids),
    applyChatTemplate: (m, o) => base.applyChatTemplate(m, o),
    bosTokenId: spec.bosTokenId,
    eosTokenIds: spec.eosTokenIds,
    vocabSize: spec.vocabSize,
  };
  const files = new Map<string, Uint8Array>([['config.json', text(specToConfig(spec))]]);
  files.set('onnx/model.onnx', buildOnnxModel(spec, weights));
  return { name: 'SmolLM2-135M (random weights)', spec, weights, tokenizer, files, B: 4, S: 128, promptLen: 32, decodeTokens: 32, samples: 3, ...sizes };
}

/** Deterministic token ids that avoid the special tokens at the top of the fixture's vocabulary. */
function tokens(n: number, seed: number, V: number): number[] {
  const top = Math.min(V - 8, 30000);
  return Array.from({ length: n }, (_, i) => (i * 7919 + seed * 104729) % top);
}

const i64 = (rows: readonly (readonly number[])[]) =>
  new Tensor('int64', BigInt64Array.from(rows.flat().map((x) => BigInt(x))), [rows.length, rows[0].length]);

/** Engine prefill and decode figures (tokens/s) and its greedy tokens. */
async function engineSide(model: EngineModel, s: ReferenceSetup, prompts: number[][], prompt: number[]) {
  const c0 = { ...model.counters };
  await model.logits(prompts);
  const c1 = { ...model.counters };
  const counted = { dispatches: c1.dispatches - c0.dispatches, flopsPerToken: (c1.flops - c0.flops) / (s.B * s.S) };
  const preMs = await timed(s.samples, () => model.logits(prompts));
  const scoreMs = await timed(s.samples, () => model.nextTokenLogProbs({ prompts, candidates: [1, 2, 3, 4] }));
  const one = await timed(s.samples, () => model.generate(prompt, { maxNewTokens: 1, temperature: 0 }));
  let gen: number[] = [];
  const all = await timed(s.samples, async () => (gen = await model.generate(prompt, { maxNewTokens: s.decodeTokens, temperature: 0 })));
  return { preMs, scoreMs, one, all, gen, counted, peakMiB: model.counters.peakBytes / 2 ** 20 };
}

async function referenceSide(hf: PreTrainedModel, s: ReferenceSetup, prompts: number[][], prompt: number[]) {
  const mask = prompts.map((p) => p.map(() => 1));
  const preMs = await timed(s.samples, () => hf({ input_ids: i64(prompts), attention_mask: i64(mask) }));
  const gen1 = (n: number) =>
    hf.generate({ input_ids: i64([prompt]), attention_mask: i64([prompt.map(() => 1)]), max_new_tokens: n, do_sample: false } as never) as Promise<Tensor>;
  const one = await timed(s.samples, () => gen1(1));
  let out: Tensor | null = null;
  const all = await timed(s.samples, async () => (out = await gen1(s.decodeTokens)));
  // transformers.js keeps the EOS token in its output; ours stops before it.
  const theirs = Array.from((out as unknown as Tensor).data as BigInt64Array, Number).slice(prompt.length);
  const cut = theirs.findIndex((t) => s.spec.eosTokenIds.includes(t));
  return { preMs, one, all, gen: cut < 0 ? theirs : theirs.slice(0, cut) };
}

const decodeRate = (n: number, one: number, all: number) => (n > 1 && all > one ? (n - 1) / ((all - one) / 1000) : NaN);

export async function runReference(rt: GpuRuntime, opts: ReferenceOptions = {}): Promise<ReferenceRun> {
  const full = Boolean(opts.full);
  const log = opts.log ?? (() => {});
  const devices = opts.devices ?? (IS_NODE ? ['webgpu', 'cpu'] : ['webgpu']);
  log(`reference: building ${full ? 'SmolLM2-135M-shaped random weights and their ONNX export' : 'the tiny-llama fixture and its ONNX export'}…`);
  const s = referenceSetup(full, opts.sizes);
  const V = s.spec.vocabSize;
  const prompts = Array.from({ length: s.B }, (_, b) => tokens(s.S, b + 1, V));
  const prompt = tokens(s.promptLen, 9, V);
  const shapePre = `${s.name} B=${s.B} S=${s.S}`;
  const shapeDec = `${s.name} prompt ${s.promptLen} +${s.decodeTokens}`;
  const entries: BenchEntry[] = [];
  const run: ReferenceRun = { entries, greedy: { engine: [], reference: {} }, skipped: {} };

  const engines: { precision: Precision; r: Awaited<ReturnType<typeof engineSide>> }[] = [];
  for (const precision of full ? (['f32', 'f16'] as const) : (['f32'] as const)) {
    log(`reference: engine ${precision}…`);
    const model = await createEngineModel(rt, { spec: s.spec, tokenizer: s.tokenizer, weights: s.weights }, { precision, maxBatch: s.B, seqQuantum: s.S });
    try {
      engines.push({ precision, r: await engineSide(model, s, prompts, prompt) });
    } finally {
      model.dispose();
    }
  }
  const f32 = engines[0].r;
  run.greedy.engine = f32.gen;
  for (const { precision, r } of engines) {
    const backend = 'ift-lab engine (WebGPU)';
    const prec = precision === 'f32' ? 'f32 weights, f32 math' : rt.engine.subgroupMatrix ? 'packed f16 weights, f16 tensor-core products (f32 accumulation)' : 'packed f16 weights, f32 math';
    entries.push({
      kernel: `engine_prefill_${precision}`,
      shape: shapePre,
      ms: r.preMs,
      extra: {
        tokensPerSecond: (s.B * s.S) / (r.preMs / 1000),
        backend,
        precision: prec,
        lmHead: 'all positions',
        tokensPerSecondLastPositionHead: (s.B * s.S) / (r.scoreMs / 1000),
        dispatches: r.counted.dispatches,
        flopsPerToken: r.counted.flopsPerToken,
        peakMiB: r.peakMiB,
      },
    });
    entries.push({
      kernel: `engine_decode_${precision}`,
      shape: shapeDec,
      ms: (r.all - r.one) / Math.max(1, r.gen.length - 1),
      extra: { tokensPerSecond: decodeRate(r.gen.length, r.one, r.all), tokens: r.gen.length, backend, precision: prec, greedyTokens: r.gen.join(',') },
    });
  }

  for (const device of devices) {
    const backend = backendLabel(device);
    log(`reference: transformers.js on ${backend}…`);
    let hf: PreTrainedModel;
    try {
      hf = await loadReferenceModel(full ? 'ift-lab-bench/smollm2-135m-random' : 'ift-lab-bench/tiny-llama', s.files, { device, wasmPaths: opts.wasmPaths });
    } catch (e) {
      run.skipped[backend] = e instanceof Error ? e.message : String(e);
      log(`reference: ${backend} did not open (${run.skipped[backend]}); skipped`);
      continue;
    }
    try {
      const r = await referenceSide(hf, s, prompts, prompt);
      run.greedy.reference[backend] = r.gen;
      const preTps = (s.B * s.S) / (r.preMs / 1000);
      const decTps = decodeRate(r.gen.length, r.one, r.all);
      const ratios = (mine: (e: typeof f32) => number, theirs: number) =>
        Object.fromEntries(engines.map(({ precision, r: e }) => [precision === 'f32' ? 'ratioEngineOverReference' : `ratioEngine${precision.toUpperCase()}OverReference`, mine(e) / theirs]));
      const common = { backend, precision: 'fp32 ONNX (f32 weights, f32 math)' };
      entries.push({
        kernel: 'transformersjs_prefill',
        shape: shapePre,
        ms: r.preMs,
        extra: { tokensPerSecond: preTps, ...ratios((e) => (s.B * s.S) / (e.preMs / 1000), preTps), ...common, lmHead: 'all positions' },
      });
      entries.push({
        kernel: 'transformersjs_decode',
        shape: shapeDec,
        ms: (r.all - r.one) / Math.max(1, r.gen.length - 1),
        extra: {
          tokensPerSecond: decTps,
          ...ratios((e) => decodeRate(e.gen.length, e.one, e.all), decTps),
          tokens: r.gen.length,
          ...common,
          sameGreedyTokens: r.gen.join(',') === f32.gen.join(',') ? 'yes' : 'no',
          greedyTokens: r.gen.join(','),
        },
      });
    } finally {
      await hf.dispose();
    }
  }
  return run;
}

/** The suite's entry point (bench/suite.ts). */
export async function benchReference(rt: GpuRuntime, opts: ReferenceOptions = {}): Promise<BenchEntry[]> {
  return (await runReference(rt, opts)).entries;
}
