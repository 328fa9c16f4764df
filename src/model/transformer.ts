/**
 * The decoder (HF Llama / Qwen2) on the engine: weights uploaded once, buffers planned once per shape,
 * every op prepared once. A `Plan` is the forward (and, for training, the backward) of one
 * (batch, seqLen, cache, LoRA layout) as prepared `Op[]`; running it only encodes.
 */
import type { LoraConfig, LoraTarget } from '../lab/model';
import { f32ToF16Array } from '../engine/convert';
import { prepareAttentionBackward, prepareAttentionForward, type AttentionOp } from '../engine/kernels/attention/attention';
import { crossEntropyScratch, DEFAULT_CHUNK, type CrossEntropyScratch, type LmHeadWeight } from '../engine/kernels/cross_entropy/cross_entropy';
import { prepareEmbedding } from '../engine/kernels/embedding/embedding';
import { prepareLoraBackward, prepareLoraForward, type LoraDropout } from '../engine/kernels/lora/lora';
import { GEMV_MAX_ROWS, prepareGemvFused, prepareMatmul } from '../engine/kernels/matmul/matmul';
import { prepareRmsNorm, prepareRmsNormBackward } from '../engine/kernels/rmsnorm/rmsnorm';
import { prepareRope, prepareRopeQkv, ropeInvFreq } from '../engine/kernels/rope/rope';
import { prepareSwiglu, prepareSwigluBackward } from '../engine/kernels/swiglu/swiglu';
import { alignElems, DTYPE_BYTES, numel, type DType, type Op, type Runtime, type Tensor } from '../engine/runtime';
import { KVCache, prepareRopeAppend } from './kv-cache';
import { loraDims, loraShapes, LORA_TARGETS, peftTensorName } from './lora';
import type { TensorReader } from './safetensors';
import { expectedTensors, type ModelSpec } from './spec';

export type Precision = 'f32' | 'f16';

/** Where weights come from: a checkpoint, a map of f32 arrays (fixtures), or a generator (random real shapes). */
export type WeightSource =
  | TensorReader
  | Map<string, Float32Array>
  | ((name: string, shape: readonly number[]) => Float32Array)
  /** Zero-filled buffers with no CPU copy (memory planning, throughput benchmarks). */
  | 'zeros';

export interface LayerWeights {
  inputNorm: Tensor;
  postNorm: Tensor;
  /** Each projection's weight; q, k, v (and gate, up) are views into one buffer, `qkv` (`gateUp`). */
  proj: Record<LoraTarget, Tensor>;
  bias: Partial<Record<LoraTarget, Tensor>>;
  qkv: WeightGroup;
  gateUp: WeightGroup;
}

/**
 * Weights that read the same input, back to back in one buffer (each part 256-byte aligned, so that its
 * view binds on its own), so that decode runs them as one dispatch (prepareGemvFused).
 */
export interface WeightGroup {
  weight: Tensor;
  /** First element of each part in `weight`. */
  starts: number[];
  /** The parts' biases, back to back the same way (Qwen2's q, k, v). */
  bias?: Tensor;
  biasStarts?: number[];
}

export interface GpuWeights {
  spec: ModelSpec;
  precision: Precision;
  embed: Tensor;
  lmHead: LmHeadWeight;
  finalNorm: Tensor;
  layers: LayerWeights[];
  invFreq: Tensor;
  /** Bytes the weights occupy on the GPU. */
  bytes: number;
  all: Tensor[];
}

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

/**
 * The LoRA tensors of one configuration as flat f32 buffers (params, and for training grads, m, v), every
 * tensor a 256-byte aligned view, in PEFT canonical order (loraParamNames).
 */
export interface LoraLayout {
  config: LoraConfig;
  names: string[];
  shapes: number[][];
  offsets: number[];
  /** Elements of each flat buffer (views padded to 256 bytes; padding stays 0). */
  n: number;
}

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

export interface LoraBuffers {
  layout: LoraLayout;
  params: Tensor;
  grads?: Tensor;
  m?: Tensor;
  v?: Tensor;
  /** u32 [2] = [seed, step] read by the dropout masks. */
  dropoutState: Tensor;
}

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
  tr.uniform = (label: string, words: ArrayLike<number>, kinds?: string) => {
    const b = rt.uniform(label, words, kinds);
    owned.push(b);
    return b;
  };
  return { rt: tr, owned };
}

// ---------------------------------------------------------------- plans

export interface PlanShape {
  /** Sequences. */
  B: number;
  /** Tokens per sequence in this call (right padded). */
  S: number;
  /** Cache capacity (≥ past + S); training: S. */
  L: number;
  /** Cache rows already filled (fixed unless `settablePast`). */
  past: number;
  settablePast?: boolean;
  /** Keep the activations the backward needs and prepare the backward. */
  train?: boolean;
  lora?: LoraBuffers | null;
  /** Share an existing cache (decode after prefill); otherwise the plan allocates its own [B, L]. */
  kv?: KVCache;
  /** false: no decode fusions (the bench counts the unfused plan beside the fused one). Default true. */
  fuse?: boolean;
}

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

interface LinearCtx {
  l: number;
  target: LoraTarget;
  x: Tensor;
  inDim: number;
  outDim: number;
}

export function buildPlan(rt0: Runtime, w: GpuWeights, shape: PlanShape): Plan {
  const { rt, owned } = trackingRuntime(rt0);
  const spec = w.spec;
  const { B, S, L, past } = shape;
  const train = Boolean(shape.train);
  if (train && (L !== S || past !== 0)) throw new Error('training plans have L = S and past = 0');
  const T = B * S;
  const D = spec.hiddenSize;
  const F = spec.intermediateSize;
  const H = spec.numHeads;
  const KVH = spec.numKvHeads;
  const Dh = spec.headDim;
  const QD = H * Dh;
  const KD = KVH * Dh;
  const eps = spec.rmsNormEps;
  const lora = shape.lora ?? null;
  const cfg = lora?.layout.config;
  const rank = cfg?.rank ?? 0;
  const scale = cfg ? cfg.alpha / cfg.rank : 0;
  const viewOf = new Map<string, Tensor>();
  const loraView = (buf: Tensor, l: number, t: LoraTarget, ab: 'A' | 'B'): Tensor => {
    const name = peftTensorName(l, t, ab);
    const key = `${buf.label}|${name}`;
    let v = viewOf.get(key);
    if (!v) {
      const i = lora!.layout.names.indexOf(name);
      v = rt.view(buf, lora!.layout.offsets[i], lora!.layout.shapes[i], name);
      viewOf.set(key, v);
    }
    return v;
  };
  const hasLora = (t: LoraTarget) => Boolean(cfg && cfg.targets.includes(t));
  const dropout = (l: number, t: LoraTarget): LoraDropout | undefined =>
    train && cfg && cfg.dropout > 0 ? { p: cfg.dropout, state: lora!.dropoutState, salt: l * 8 + LORA_TARGETS.indexOf(t) } : undefined;

  // Activations: one per layer when the backward needs them (`keep`), otherwise shared by all layers.
  // Training keeps only the residual stream (res, mid), the attention output and its LSE, the LoRA
  // down-projections u and the KV cache; the normed inputs, q and the MLP's gate/up/h are recomputed
  // layer by layer in the backward (a few cheap dispatches instead of ~5·T·D floats per layer: what
  // keeps SmolLM2-135M at seq 256 × batch 8 under 1 GB).
  const shared = new Map<string, Tensor>();
  const act = (l: number, name: string, shp: number[], keep = false, dtype: DType = 'f32'): Tensor => {
    if (train && keep) return rt.tensor(`${name}.${l}`, shp, dtype);
    let t = shared.get(name);
    if (!t) shared.set(name, (t = rt.tensor(name, shp, dtype)));
    return t;
  };
  const scratch = (name: string, shp: number[]): Tensor => {
    let t = shared.get(name);
    if (!t) shared.set(name, (t = rt.tensor(name, shp)));
    return t;
  };

  const ids = rt.tensor('ids', [T], 'u32');
  const positions = rt.tensor('positions', [T], 'u32');
  const kvStart = rt.tensor('kvStart', [B], 'u32');
  const kv = shape.kv ?? new KVCache(rt, spec.numLayers, B, L, KVH, Dh);
  if (kv.B !== B || kv.L !== L) throw new Error('plan: the shared KV cache has another shape');

  const fwd: Op[] = [];
  const bwd: Op[] = [];
  const pastOps: { setPast(p: number): void }[] = [];
  const us = new Map<string, Tensor>();

  /**
   * y = x·Wᵀ (+ bias) (+ LoRA); with `accumulate`, y += … (inference adds o/down straight into the residual);
   * with `residual`, y = residual + … (training, whose backward keeps both streams).
   */
  const linear = (c: LinearCtx, y: Tensor, accumulate = false, residual?: Tensor): Op[] => {
    const W = w.layers[c.l].proj[c.target];
    const bias = w.layers[c.l].bias[c.target];
    if (hasLora(c.target)) {
      const u = act(c.l, `u_${c.target}`, [T, rank], true);
      us.set(`${c.l}.${c.target}`, u);
      return prepareLoraForward(rt, {
          T, inDim: c.inDim, outDim: c.outDim, rank, scale, dropout: dropout(c.l, c.target),
          x: c.x, weight: W, bias, loraA: loraView(lora!.params, c.l, c.target, 'A'), loraB: loraView(lora!.params, c.l, c.target, 'B'), u, y, accumulate, residual,
        });
    }
    return [prepareMatmul(rt, { a: c.x, b: W, bias, residual, out: y, M: T, N: c.outDim, K: c.inDim, accumulate })];
  };
  /** Backward of a frozen linear (+ LoRA): dx (+)= dy·W (+ LoRA term), LoRA grads written. */
  const linearBack = (c: LinearCtx, dy: Tensor, dx: Tensor | undefined, accumulateDx: boolean): Op[] => {
    const W = w.layers[c.l].proj[c.target];
    if (hasLora(c.target)) {
      return prepareLoraBackward(rt, {
        T, inDim: c.inDim, outDim: c.outDim, rank, scale, dropout: dropout(c.l, c.target),
        x: c.x, weight: W, loraA: loraView(lora!.params, c.l, c.target, 'A'), loraB: loraView(lora!.params, c.l, c.target, 'B'),
        u: us.get(`${c.l}.${c.target}`)!, dy, g: scratch('lora g', [T, rank]), dx, accumulateDx,
        dA: loraView(lora!.grads!, c.l, c.target, 'A'), dB: loraView(lora!.grads!, c.l, c.target, 'B'),
      });
    }
    if (!dx) return [];
    return [prepareMatmul(rt, { a: dy, b: W, out: dx, M: T, N: c.inDim, K: c.outDim, transB: false, accumulate: accumulateDx })];
  };

  // Residual streams: training keeps res[l] (layer input) and mid[l] (after attention) per layer;
  // inference keeps one stream that the o and down projections add into in place.
  const res: Tensor[] = [];
  const mid: Tensor[] = [];
  const resBuf = (l: number) => (train ? rt.tensor(`res.${l}`, [T, D]) : scratch('res', [T, D]));
  /** Forward ops the backward re-encodes: [norm1, q, rope q] and [norm2, gate, up, swiglu] per layer. */
  const recomputeAttn: Op[][] = [];
  const recomputeMlp: Op[][] = [];
  res.push(resBuf(0));
  fwd.push(prepareEmbedding(rt, { ids, table: w.embed, out: res[0], T, D, V: spec.vocabSize }));

  interface Saved {
    xn1: Tensor; rstd1: Tensor; q: Tensor; kraw: Tensor; vraw: Tensor; ao: Tensor; lse: Tensor;
    xn2: Tensor; rstd2: Tensor; gu: Tensor; gate: Tensor; up: Tensor; h: Tensor; upOffset: number;
  }
  const saved: Saved[] = [];
  const attnOps: AttentionOp[] = [];
  const upOffset = alignElems(T * F);

  // Decode-sized inference (few rows, gemv): q|k|v and gate|up run as one dispatch each with the RMSNorm
  // before them folded in, and SwiGLU folds into down's A loads, where no LoRA factor reads the normed
  // input or h (a LoRA target keeps the separate ops; training always does, its backward re-runs them).
  const fusable = (K: number) => shape.fuse !== false && !train && T <= GEMV_MAX_ROWS && K % (w.precision === 'f16' ? 8 : 4) === 0;
  const noLora = (...ts: LoraTarget[]) => ts.every((t) => !hasLora(t));
  for (let l = 0; l < spec.numLayers; l++) {
    const lw = w.layers[l];
    const x = res[l];
    const q = act(l, 'q', [T, QD]);
    const kraw = act(l, 'kraw', [T, KD]);
    // Training: values go straight into the cache (L = S, past = 0: the same layout).
    const vraw = train ? kv.v[l] : act(l, 'vraw', [T, KD]);
    const xn1 = act(l, 'xn1', [T, D]);
    const rstd1 = act(l, 'rstd1', [T]);
    // Prepared only where they run (preparing compiles pipelines and allocates uniforms).
    let norm1: Op | undefined;
    let qOps: Op[] = [];
    if (fusable(D) && noLora('q', 'k', 'v')) {
      const g = lw.qkv;
      fwd.push(prepareGemvFused(rt, {
        a: x, b: g.weight, outs: [q, kraw, vraw], M: T, K: D, bias: g.bias, prologue: { kind: 'rmsnorm', weight: lw.inputNorm, eps },
        parts: [QD, KD, KD].map((cols, i) => ({ cols, wStart: g.starts[i], biasStart: g.biasStarts?.[i] })),
      }));
    } else {
      norm1 = prepareRmsNorm(rt, { x, weight: lw.inputNorm, y: xn1, rstd: rstd1, T, D, eps });
      qOps = linear({ l, target: 'q', x: xn1, inDim: D, outDim: QD }, q);
      fwd.push(norm1, ...qOps);
      fwd.push(...linear({ l, target: 'k', x: xn1, inDim: D, outDim: KD }, kraw));
      fwd.push(...linear({ l, target: 'v', x: xn1, inDim: D, outDim: KD }, vraw));
    }
    if (train) {
      // The backward recomputes q (norm, projection, RoPE), so its RoPE stays a separate op.
      const ropeQ = prepareRope(rt, { out: q, positions, invFreq: w.invFreq, B, S, H, Dh });
      recomputeAttn.push([norm1!, ...qOps, ropeQ]);
      const appendK = prepareRopeAppend(rt, { x: kraw, out: kv.k[l], positions, invFreq: w.invFreq, B, S, H: KVH, Dh, L, past });
      fwd.push(ropeQ, appendK);
      pastOps.push(appendK);
    } else {
      // Inference: queries roped in place, keys roped and values copied into the cache, in one dispatch.
      const rope = prepareRopeQkv(rt, { q, k: kraw, kCache: kv.k[l], v: vraw, vCache: kv.v[l], positions, invFreq: w.invFreq, B, S, H, KVH, Dh, L, past });
      fwd.push(rope);
      pastOps.push(rope);
    }
    const ao = act(l, 'ao', [T, QD], true);
    const lse = act(l, 'lse', [B * H * S], true);
    const att = prepareAttentionForward(rt, { B, S, H, KVH, Dh, L, past, q, k: kv.k[l], v: kv.v[l], kvStart, out: ao, lse });
    fwd.push(att);
    attnOps.push(att);
    pastOps.push(att);
    // Training keeps each residual (the backward reads them); inference adds o and down into one stream in
    // place (the matmul's accumulate epilogue), two dispatches fewer per layer.
    const m = train ? rt.tensor(`mid.${l}`, [T, D]) : x;
    mid.push(m);
    fwd.push(...linear({ l, target: 'o', x: ao, inDim: QD, outDim: D }, m, !train, train ? x : undefined));
    const xn2 = act(l, 'xn2', [T, D]);
    const rstd2 = act(l, 'rstd2', [T]);
    // gate and up in one buffer [gate | pad | up] so that SwiGLU reads both (rowStride F, upOffset).
    const gu = act(l, 'gu', [upOffset + T * F]);
    const gate = rt.view(gu, 0, [T, F], `gate.${l}`);
    const up = rt.view(gu, upOffset, [T, F], `up.${l}`);
    const h = act(l, 'h', [T, F]);
    const swiglu = () => prepareSwiglu(rt, { gu, h, T, F, rowStride: F, upOffset });
    const mlpIn = () => [
      prepareRmsNorm(rt, { x: m, weight: lw.postNorm, y: xn2, rstd: rstd2, T, D, eps }),
      ...linear({ l, target: 'gate', x: xn2, inDim: D, outDim: F }, gate),
      ...linear({ l, target: 'up', x: xn2, inDim: D, outDim: F }, up),
    ];
    const fuseDown = fusable(F) && noLora('down');
    if (fusable(D) && noLora('gate', 'up')) {
      const g = lw.gateUp;
      fwd.push(prepareGemvFused(rt, {
        a: m, b: g.weight, outs: [gu], M: T, K: D, prologue: { kind: 'rmsnorm', weight: lw.postNorm, eps },
        parts: [{ cols: F, wStart: g.starts[0], outStart: 0 }, { cols: F, wStart: g.starts[1], outStart: upOffset }],
      }));
      if (!fuseDown) fwd.push(swiglu());
    } else {
      const ops = [...mlpIn(), ...(fuseDown ? [] : [swiglu()])];
      if (train) recomputeMlp.push(ops);
      fwd.push(...ops);
    }
    const next = train ? resBuf(l + 1) : m;
    res.push(next);
    if (fuseDown) {
      fwd.push(prepareGemvFused(rt, {
        a: gu, b: w.layers[l].proj.down, outs: [next], M: T, K: F, accumulate: true, prologue: { kind: 'swiglu', upOffset },
        parts: [{ cols: D, wStart: 0 }],
      }));
    } else fwd.push(...linear({ l, target: 'down', x: h, inDim: F, outDim: D }, next, !train, train ? m : undefined));
    saved.push({ xn1, rstd1, q, kraw, vraw, ao, lse, xn2, rstd2, gu, gate, up, h, upOffset });
  }
  const hidden = res[spec.numLayers];

  let dHidden: Tensor | undefined;
  if (train) {
    if (!lora?.grads) throw new Error('training plans need LoRA gradient buffers');
    // d_res: the running gradient of the residual stream (the caller's loss head writes it first).
    const dres = rt.tensor('d_res', [T, D]);
    dHidden = dres;
    const dxn = scratch('d_xn', [T, D]);
    const dh = scratch('d_h', [T, F]);
    const dgu = scratch('d_gu', [upOffset + T * F]);
    const dgate = rt.view(dgu, 0, [T, F], 'd_gate');
    const dup = rt.view(dgu, upOffset, [T, F], 'd_up');
    const dao = scratch('d_ao', [T, QD]);
    const dq = scratch('d_q', [T, QD]);
    const dk = scratch('d_k', [T, KD]);
    const dv = scratch('d_v', [T, KD]);
    const stats = scratch('attn bwd stats', [2 * B * H * S]);
    for (let l = spec.numLayers - 1; l >= 0; l--) {
      const lw = w.layers[l];
      const s = saved[l];
      const first = l === 0; // nothing upstream of layer 0's input needs a gradient
      // MLP: res[l+1] = mid + down(swiglu(gate(xn2), up(xn2))); xn2, gate|up and h recomputed first.
      bwd.push(...recomputeMlp[l]);
      bwd.push(...linearBack({ l, target: 'down', x: s.h, inDim: F, outDim: D }, dres, dh, false));
      bwd.push(prepareSwigluBackward(rt, { gu: s.gu, dh, dgu, T, F, rowStride: F, upOffset }));
      bwd.push(...linearBack({ l, target: 'gate', x: s.xn2, inDim: D, outDim: F }, dgate, dxn, false));
      bwd.push(...linearBack({ l, target: 'up', x: s.xn2, inDim: D, outDim: F }, dup, dxn, true));
      bwd.push(prepareRmsNormBackward(rt, { x: mid[l], weight: lw.postNorm, rstd: s.rstd2, dy: dxn, dx: dres, T, D, accumulate: true }));
      // Attention: mid = res[l] + o(attn(rope(q), rope(k), v)).
      bwd.push(...linearBack({ l, target: 'o', x: s.ao, inDim: QD, outDim: D }, dres, dao, false));
      bwd.push(...recomputeAttn[l]);
      bwd.push(
        ...prepareAttentionBackward(rt, {
          B, S, H, KVH, Dh, L, past: 0, q: s.q, k: kv.k[l], v: kv.v[l], kvStart, out: s.ao, lse: s.lse, dOut: dao, dq, dk, dv, stats,
        }),
      );
      const needQK = !first || hasLora('q') || hasLora('k');
      if (needQK) {
        bwd.push(prepareRope(rt, { out: dq, positions, invFreq: w.invFreq, B, S, H, Dh, backward: true }));
        bwd.push(prepareRope(rt, { out: dk, positions, invFreq: w.invFreq, B, S, H: KVH, Dh, backward: true }));
      }
      const dx1 = first ? undefined : dxn;
      let acc = false;
      for (const [t, dy, od] of [['q', dq, QD], ['k', dk, KD], ['v', dv, KD]] as const) {
        const ops = linearBack({ l, target: t, x: s.xn1, inDim: D, outDim: od }, dy, dx1, acc);
        if (dx1 && ops.length) acc = true;
        bwd.push(...ops);
      }
      if (!first) bwd.push(prepareRmsNormBackward(rt, { x: res[l], weight: lw.inputNorm, rstd: s.rstd1, dy: dxn, dx: dres, T, D, accumulate: true }));
    }
  }

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
  void attnOps;
  return plan;
}

/** in/out of each LoRA target (re-exported for callers sizing adapters). */
export { loraDims };
