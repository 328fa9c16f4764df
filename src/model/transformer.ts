/**
 * The decoder (HF Llama / Qwen2) on the engine: weights uploaded once, buffers planned once per shape,
 * every op prepared once. A `Plan` is the forward (and, for training, the backward) of one
 * (batch, seqLen, cache, LoRA layout) as prepared `Op[]`; running it only encodes.
 */
import type { LoraConfig, LoraTarget } from '../lab/model';
import { f32ToF16Array } from '../engine/convert';
import { crossEntropyScratch, DEFAULT_CHUNK, type CrossEntropyScratch } from '../engine/kernels/cross_entropy/cross_entropy';
import { prepareEmbedding } from '../engine/kernels/embedding/embedding';
import { ropeInvFreq } from '../engine/kernels/rope/rope';
import { alignElems, DTYPE_BYTES, numel, type DType, type Op, type Runtime, type Tensor } from '../engine/runtime';
import { KVCache } from './kv-cache';
import { backwardScratch, buildLayerBackward, buildLayerForward, planContext, type LayerForward } from './layer-plan';
import { loraDims, loraShapes, LORA_TARGETS } from './lora';
import type { TensorReader } from './safetensors';
import { expectedTensors, type ModelSpec } from './spec';
import type { Precision, LayerWeights, WeightGroup, GpuWeights, LoraLayout, LoraBuffers, PlanShape } from './transformer.types';

export type { Precision, LayerWeights, WeightGroup, GpuWeights, LoraLayout, LoraBuffers, PlanShape } from './transformer.types';

/** Where weights come from: a checkpoint, a map of f32 arrays (fixtures), or a generator (random real shapes). */
export type WeightSource =
  | TensorReader
  | Map<string, Float32Array>
  | ((name: string, shape: readonly number[]) => Float32Array)
  /** Zero-filled buffers with no CPU copy (memory planning, throughput benchmarks). */
  | 'zeros';

async function readWeight(src: Exclude<WeightSource, 'zeros'>, name: string, shape: readonly number[]): Promise<Float32Array> {
  if (typeof src === 'function') return src(name, shape);
  if (src instanceof Map) {
    const w = src.get(name);
    if (!w) throw new Error(`weights: no tensor ${name}`);
    return w;
  }
  return src.readF32(name);
}

/**
 * Upload every weight once. Frozen linears and the embedding (hence a tied LM head) go to packed f16
 * when `precision` is 'f16' (f32 accumulation in the kernels, `unpack2x16float` works on every device);
 * norms and biases stay f32.
 */
export async function uploadWeights(rt: Runtime, spec: ModelSpec, src: WeightSource, precision: Precision): Promise<GpuWeights> {
  const shapes = expectedTensors(spec);
  const all: Tensor[] = [];
  let bytes = 0;
  const big = async (name: string): Promise<Tensor> => {
    const shape = shapes.get(name)!;
    let t: Tensor;
    if (src === 'zeros') t = rt.tensor(name, shape, precision);
    else {
      const w = await readWeight(src, name, shape);
      t = precision === 'f16' ? rt.upload(name, f32ToF16Array(w), shape, 'f16') : rt.upload(name, w, shape);
    }
    all.push(t);
    bytes += t.bytes;
    return t;
  };
  const small = async (name: string): Promise<Tensor> => {
    const shape = shapes.get(name)!;
    const t = src === 'zeros' ? rt.tensor(name, shape) : rt.upload(name, Float32Array.from(await readWeight(src, name, shape)), shape);
    all.push(t);
    bytes += t.bytes;
    return t;
  };
  /** Tensors that read the same input, in one buffer; returns the group and a view per tensor. */
  const group = async (names: string[], dtype: 'f32' | 'f16', label: string): Promise<[Tensor, number[], Tensor[]]> => {
    const starts: number[] = [];
    let n = 0;
    for (const name of names) {
      starts.push(n);
      n = alignElems(n + numel(shapes.get(name)!), dtype);
    }
    const t = rt.tensor(label, [n], dtype);
    for (const [i, name] of names.entries()) {
      if (src === 'zeros') continue;
      const w = await readWeight(src, name, shapes.get(name)!);
      rt.write(t, dtype === 'f16' ? f32ToF16Array(w) : Float32Array.from(w), starts[i] * DTYPE_BYTES[dtype]);
    }
    all.push(t);
    bytes += t.bytes;
    return [t, starts, names.map((name, i) => rt.view(t, starts[i], shapes.get(name)!, name))];
  };
  const embed = await big('model.embed_tokens.weight');
  const layers: LayerWeights[] = [];
  const mod: Record<LoraTarget, string> = {
    q: 'self_attn.q_proj', k: 'self_attn.k_proj', v: 'self_attn.v_proj', o: 'self_attn.o_proj',
    gate: 'mlp.gate_proj', up: 'mlp.up_proj', down: 'mlp.down_proj',
  };
  for (let i = 0; i < spec.numLayers; i++) {
    const p = `model.layers.${i}.`;
    const proj = {} as Record<LoraTarget, Tensor>;
    const [qkvW, qkvStarts, [qW, kW, vW]] = await group(['q', 'k', 'v'].map((t) => `${p}${mod[t as LoraTarget]}.weight`), precision, `${p}qkv`);
    const [guW, guStarts, [gW, uW]] = await group([`${p}${mod.gate}.weight`, `${p}${mod.up}.weight`], precision, `${p}gate_up`);
    Object.assign(proj, { q: qW, k: kW, v: vW, gate: gW, up: uW });
    for (const t of ['o', 'down'] as const) proj[t] = await big(`${p}${mod[t]}.weight`);
    const bias: Partial<Record<LoraTarget, Tensor>> = {};
    const qkv: WeightGroup = { weight: qkvW, starts: qkvStarts };
    if (spec.attentionBias) {
      const [bq, bStarts, [q, k, v]] = await group(['q', 'k', 'v'].map((t) => `${p}${mod[t as LoraTarget]}.bias`), 'f32', `${p}qkv bias`);
      Object.assign(bias, { q, k, v });
      qkv.bias = bq;
      qkv.biasStarts = bStarts;
    }
    layers.push({
      inputNorm: await small(p + 'input_layernorm.weight'), postNorm: await small(p + 'post_attention_layernorm.weight'), proj, bias,
      qkv, gateUp: { weight: guW, starts: guStarts },
    });
  }
  const finalNorm = await small('model.norm.weight');
  const head = spec.tieWordEmbeddings ? embed : await big('lm_head.weight');
  const invFreq = rt.upload('rope inv_freq', ropeInvFreq(spec), [spec.headDim / 2]);
  all.push(invFreq);
  return {
    spec, precision, embed, finalNorm, layers, invFreq, bytes, all,
    lmHead: { weight: head, V: spec.vocabSize, D: spec.hiddenSize, packedF16: precision === 'f16' },
  };
}

// ---------------------------------------------------------------- LoRA on the GPU

export function loraLayout(spec: ModelSpec, config: LoraConfig): LoraLayout {
  const shapes = loraShapes(spec, config);
  const names: string[] = [];
  const sh: number[][] = [];
  const offsets: number[] = [];
  let n = 0;
  for (const [name, shape] of shapes) {
    names.push(name);
    sh.push(shape);
    offsets.push(n);
    n += alignElems(shape[0] * shape[1]);
  }
  return { config, names, shapes: sh, offsets, n: Math.max(n, 64) };
}

export const loraSignature = (c: LoraConfig): string => `r${c.rank}a${c.alpha}d${c.dropout}:${LORA_TARGETS.filter((t) => c.targets.includes(t)).join(',')}`;

export function allocLora(rt: Runtime, layout: LoraLayout, training: boolean): LoraBuffers {
  const b: LoraBuffers = {
    layout,
    params: rt.tensor('lora params', [layout.n]),
    dropoutState: rt.tensor('lora dropout state', [2], 'u32'),
  };
  if (training) {
    b.grads = rt.tensor('lora grads', [layout.n]);
    b.m = rt.tensor('lora adam m', [layout.n]);
    b.v = rt.tensor('lora adam v', [layout.n]);
  }
  return b;
}

/** Pack named tensors into one flat array in the layout's order. */
export function packLora(layout: LoraLayout, tensors: Record<string, Float32Array>): Float32Array {
  const flat = new Float32Array(layout.n);
  layout.names.forEach((name, i) => {
    const w = tensors[name];
    const want = layout.shapes[i][0] * layout.shapes[i][1];
    if (!w || w.length !== want) throw new Error(`lora: ${name} missing or not ${want} values`);
    flat.set(w, layout.offsets[i]);
  });
  return flat;
}

export function unpackLora(layout: LoraLayout, flat: Float32Array): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  layout.names.forEach((name, i) => {
    const o = layout.offsets[i];
    out[name] = flat.slice(o, o + layout.shapes[i][0] * layout.shapes[i][1]);
  });
  return out;
}

// ---------------------------------------------------------------- allocation tracking

/**
 * A Runtime that records what it allocates, so that a plan (buffers, uniforms) can be released as a
 * whole. Everything else (pipelines, counters) is the wrapped runtime's.
 */
export function trackingRuntime(rt: Runtime): { rt: Runtime; owned: (Tensor | GPUBuffer)[] } {
  void rt.empty; // owned by the runtime, not by a plan
  const owned: (Tensor | GPUBuffer)[] = [];
  const tr = Object.create(rt) as Runtime;
  tr.tensor = (label: string, shape: readonly number[], dtype?: DType) => {
    const t = rt.tensor(label, shape, dtype);
    owned.push(t);
    return t;
  };
  if (rt.kind === 'gpu') {
    (tr as typeof rt).uniform = (label: string, words: ArrayLike<number>, kinds?: string) => {
      const b = rt.uniform(label, words, kinds);
      owned.push(b);
      return b;
    };
  }
  return { rt: tr, owned };
}

// ---------------------------------------------------------------- plans

export interface Plan {
  shape: Required<Pick<PlanShape, 'B' | 'S' | 'L' | 'past'>>;
  T: number;
  /** u32 [T] token ids, u32 [T] positions, u32 [B] kvStart (0: right padding needs no mask). */
  ids: Tensor;
  positions: Tensor;
  kvStart: Tensor;
  kv: KVCache;
  /** Embedding → every layer; leaves the last residual in `hidden` [T, D]. */
  forward: Op[];
  hidden: Tensor;
  /** Present in training plans: d(loss)/d(final hidden before the final norm) goes in `dHidden` [T, D]. */
  backward?: Op[];
  dHidden?: Tensor;
  /** Move `past` (decode): rope appends and attention. */
  setPast(past: number): void;
  /** Runtime that owns the plan's allocations (heads prepared later are released with it). */
  rt: Runtime;
  release(): void;
  /** Heads prepared on demand, cached by key (scoring ops of this plan). */
  heads: Map<string, unknown>;
  /** Scratch shared by this plan's LM-head passes. */
  ceScratch(rows: number): CrossEntropyScratch;
}

/**
 * One plan: the embedding, then each layer's forward (layer-plan.ts), and for training each layer's
 * backward in reverse order, all sharing one context (shapes, buffers, LoRA views).
 */
export function buildPlan(rt0: Runtime, w: GpuWeights, shape: PlanShape): Plan {
  const { rt, owned } = trackingRuntime(rt0);
  const spec = w.spec;
  const { B, S, L, past } = shape;
  const train = Boolean(shape.train);
  if (train && (L !== S || past !== 0)) throw new Error('training plans have L = S and past = 0');
  const T = B * S;
  const D = spec.hiddenSize;

  const ids = rt.tensor('ids', [T], 'u32');
  const positions = rt.tensor('positions', [T], 'u32');
  const kvStart = rt.tensor('kvStart', [B], 'u32');
  const kv = shape.kv ?? new KVCache(rt, spec.numLayers, B, L, spec.numKvHeads, spec.headDim);
  if (kv.B !== B || kv.L !== L) throw new Error('plan: the shared KV cache has another shape');
  const ctx = planContext(rt, w, shape, { positions, kvStart, kv });

  const res = [ctx.resBuf(0)];
  const fwd: Op[] = [prepareEmbedding(rt, { ids, table: w.embed, out: res[0], T, D, V: spec.vocabSize })];
  const layers: LayerForward[] = [];
  for (let l = 0; l < spec.numLayers; l++) {
    const f = buildLayerForward(ctx, l, res[l]);
    layers.push(f);
    fwd.push(...f.ops);
    res.push(f.next);
  }
  const hidden = res[spec.numLayers];

  let dHidden: Tensor | undefined;
  const bwd: Op[] = [];
  if (train) {
    if (!shape.lora?.grads) throw new Error('training plans need LoRA gradient buffers');
    const g = backwardScratch(ctx);
    dHidden = g.dres;
    for (let l = spec.numLayers - 1; l >= 0; l--) bwd.push(...buildLayerBackward(ctx, l, res[l], layers[l], g));
  }

  const pastOps = layers.flatMap((f) => f.pastOps);
  const ceScratches = new Map<number, CrossEntropyScratch>();
  const plan: Plan = {
    shape: { B, S, L, past },
    T, ids, positions, kvStart, kv, forward: fwd, hidden, backward: train ? bwd : undefined, dHidden, rt,
    heads: new Map(),
    setPast(p: number) {
      if (!shape.settablePast) throw new Error('plan: past is fixed');
      for (const op of pastOps) op.setPast(p);
    },
    ceScratch(rows: number) {
      let s = ceScratches.get(rows);
      if (!s) ceScratches.set(rows, (s = crossEntropyScratch(rt, rows, Math.min(DEFAULT_CHUNK, spec.vocabSize))));
      return s;
    },
    release() {
      for (const t of owned) rt0.release(t);
      owned.length = 0;
    },
  };
  return plan;
}

/** in/out of each LoRA target (re-exported for callers sizing adapters). */
export { loraDims };
