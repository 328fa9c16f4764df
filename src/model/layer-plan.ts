/**
 * The decoder's plan, one layer at a time: a context of what every layer shares (shapes, weights, LoRA
 * views, activation buffers, the linear helpers), a layer's forward ops (`buildLayerForward`) and its
 * backward ops (`buildLayerBackward`). transformer.ts's buildPlan composes them into inference and
 * training plans. The inference/training differences live in the few places they matter: which
 * activations are kept, the fused decode projections, and how the residual stream is written.
 */
import type { LoraTarget } from './types';
import { prepareAttentionBackward, prepareAttentionForward } from '../engine/kernels/attention/attention';
import { prepareLoraBackward, prepareLoraForward, type LoraDropout } from '../engine/kernels/lora/lora';
import { GEMV_MAX_ROWS, prepareGemvFused, prepareMatmul } from '../engine/kernels/matmul/matmul';
import { prepareRmsNorm, prepareRmsNormBackward } from '../engine/kernels/rmsnorm/rmsnorm';
import { prepareRope, prepareRopeQkv } from '../engine/kernels/rope/rope';
import { prepareSwiglu, prepareSwigluBackward } from '../engine/kernels/swiglu/swiglu';
import { alignElems, type DType, type Op, type Runtime, type Tensor } from '../engine/runtime';
import { prepareRopeAppend, type KVCache } from './kv-cache';
import { LORA_TARGETS, peftTensorName } from './lora';
import type { ModelSpec } from './spec';
import type { GpuWeights, LoraBuffers, PlanShape } from './transformer.types';

/** One projection of one layer: its input and sizes. */
export interface LinearCtx {
  l: number;
  target: LoraTarget;
  x: Tensor;
  inDim: number;
  outDim: number;
}

/** What every layer of one plan shares. */
export interface PlanCtx {
  rt: Runtime;
  w: GpuWeights;
  spec: ModelSpec;
  shape: PlanShape;
  train: boolean;
  B: number; S: number; L: number; past: number; T: number;
  D: number; F: number; H: number; KVH: number; Dh: number; QD: number; KD: number; eps: number;
  /** Start of up in a [gate | pad | up] buffer. */
  upOffset: number;
  lora: LoraBuffers | null;
  positions: Tensor;
  kvStart: Tensor;
  kv: KVCache;
  hasLora(t: LoraTarget): boolean;
  /** An activation: one per layer when the backward needs it (`keep`, training), else shared by all layers. */
  act(l: number, name: string, shp: number[], keep?: boolean, dtype?: DType): Tensor;
  /** A buffer shared by all layers. */
  scratch(name: string, shp: number[]): Tensor;
  /**
   * y = x·Wᵀ (+ bias) (+ LoRA); with `accumulate`, y += … (inference adds o/down straight into the residual);
   * with `residual`, y = residual + … (training, whose backward keeps both streams).
   */
  linear(c: LinearCtx, y: Tensor, accumulate?: boolean, residual?: Tensor): Op[];
  /** Backward of a frozen linear (+ LoRA): dx (+)= dy·W (+ LoRA term), LoRA grads written. */
  linearBack(c: LinearCtx, dy: Tensor, dx: Tensor | undefined, accumulateDx: boolean): Op[];
  /** The residual stream buffer of layer l's input: one per layer in training, one shared otherwise. */
  resBuf(l: number): Tensor;
}

export function planContext(rt: Runtime, w: GpuWeights, shape: PlanShape, io: { positions: Tensor; kvStart: Tensor; kv: KVCache }): PlanCtx {
  const spec = w.spec;
  const { B, S, L, past } = shape;
  const train = Boolean(shape.train);
  const T = B * S;
  const D = spec.hiddenSize;
  const F = spec.intermediateSize;
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
  // The LoRA down-projections u = dropout(x)·Aᵀ, saved by the forward for the backward.
  const us = new Map<string, Tensor>();
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
  const resBuf = (l: number) => (train ? rt.tensor(`res.${l}`, [T, D]) : scratch('res', [T, D]));
  return {
    rt, w, spec, shape, train, B, S, L, past, T, D, F,
    H: spec.numHeads, KVH: spec.numKvHeads, Dh: spec.headDim, QD: spec.numHeads * spec.headDim, KD: spec.numKvHeads * spec.headDim,
    eps: spec.rmsNormEps, upOffset: alignElems(T * F), lora, ...io,
    hasLora, act, scratch, linear, linearBack, resBuf,
  };
}

/** What a layer's forward leaves for its backward (training) and for the plan. */
export interface LayerForward {
  /** The layer's forward ops, in order. */
  ops: Op[];
  /** Ops that move with `past` (decode): rope appends and attention. */
  pastOps: { setPast(p: number): void }[];
  /** The residual after attention (training: its own buffer; inference: the input stream itself). */
  mid: Tensor;
  /** The layer's output residual. */
  next: Tensor;
  /** Training: forward ops the backward re-encodes, [norm1, q, rope q] and [norm2, gate, up, swiglu]. */
  recomputeAttn?: Op[];
  recomputeMlp?: Op[];
  xn1: Tensor; rstd1: Tensor; q: Tensor; ao: Tensor; lse: Tensor;
  xn2: Tensor; rstd2: Tensor; gu: Tensor; h: Tensor;
}

/**
 * Layer l's forward from the residual x: attention (norm, q|k|v, RoPE into the cache, attention, o) and
 * the MLP (norm, gate|up, SwiGLU, down). Decode-sized inference (few rows, gemv) runs q|k|v and gate|up as
 * one dispatch each with the RMSNorm before them folded in, and folds SwiGLU into down's A loads, where no
 * LoRA factor reads the normed input or h (a LoRA target keeps the separate ops; training always does,
 * its backward re-runs them).
 */
export function buildLayerForward(c: PlanCtx, l: number, x: Tensor): LayerForward {
  const { rt, w, kv, train, T, D, F, B, S, H, KVH, Dh, L, past, QD, KD, eps, upOffset, positions } = c;
  const lw = w.layers[l];
  const fusable = (K: number) => c.shape.fuse !== false && !train && T <= GEMV_MAX_ROWS && K % (w.precision === 'f16' ? 8 : 4) === 0;
  const noLora = (...ts: LoraTarget[]) => ts.every((t) => !c.hasLora(t));
  const ops: Op[] = [];
  const pastOps: { setPast(p: number): void }[] = [];
  const q = c.act(l, 'q', [T, QD]);
  const kraw = c.act(l, 'kraw', [T, KD]);
  // Training: values go straight into the cache (L = S, past = 0: the same layout).
  const vraw = train ? kv.v[l] : c.act(l, 'vraw', [T, KD]);
  const xn1 = c.act(l, 'xn1', [T, D]);
  const rstd1 = c.act(l, 'rstd1', [T]);
  // Prepared only where they run (preparing compiles pipelines and allocates uniforms).
  let norm1: Op | undefined;
  let qOps: Op[] = [];
  if (fusable(D) && noLora('q', 'k', 'v')) {
    const g = lw.qkv;
    ops.push(prepareGemvFused(rt, {
      a: x, b: g.weight, outs: [q, kraw, vraw], M: T, K: D, bias: g.bias, prologue: { kind: 'rmsnorm', weight: lw.inputNorm, eps },
      parts: [QD, KD, KD].map((cols, i) => ({ cols, wStart: g.starts[i], biasStart: g.biasStarts?.[i] })),
    }));
  } else {
    norm1 = prepareRmsNorm(rt, { x, weight: lw.inputNorm, y: xn1, rstd: rstd1, T, D, eps });
    qOps = c.linear({ l, target: 'q', x: xn1, inDim: D, outDim: QD }, q);
    ops.push(norm1, ...qOps);
    ops.push(...c.linear({ l, target: 'k', x: xn1, inDim: D, outDim: KD }, kraw));
    ops.push(...c.linear({ l, target: 'v', x: xn1, inDim: D, outDim: KD }, vraw));
  }
  let recomputeAttn: Op[] | undefined;
  if (train) {
    // The backward recomputes q (norm, projection, RoPE), so its RoPE stays a separate op.
    const ropeQ = prepareRope(rt, { out: q, positions, invFreq: w.invFreq, B, S, H, Dh });
    recomputeAttn = [norm1!, ...qOps, ropeQ];
    const appendK = prepareRopeAppend(rt, { x: kraw, out: kv.k[l], positions, invFreq: w.invFreq, B, S, H: KVH, Dh, L, past });
    ops.push(ropeQ, appendK);
    pastOps.push(appendK);
  } else {
    // Inference: queries roped in place, keys roped and values copied into the cache, in one dispatch.
    const rope = prepareRopeQkv(rt, { q, k: kraw, kCache: kv.k[l], v: vraw, vCache: kv.v[l], positions, invFreq: w.invFreq, B, S, H, KVH, Dh, L, past });
    ops.push(rope);
    pastOps.push(rope);
  }
  const ao = c.act(l, 'ao', [T, QD], true);
  const lse = c.act(l, 'lse', [B * H * S], true);
  const att = prepareAttentionForward(rt, { B, S, H, KVH, Dh, L, past, q, k: kv.k[l], v: kv.v[l], kvStart: c.kvStart, out: ao, lse });
  ops.push(att);
  pastOps.push(att);
  // Training keeps each residual (the backward reads them); inference adds o and down into one stream in
  // place (the matmul's accumulate epilogue), two dispatches fewer per layer.
  const m = train ? rt.tensor(`mid.${l}`, [T, D]) : x;
  ops.push(...c.linear({ l, target: 'o', x: ao, inDim: QD, outDim: D }, m, !train, train ? x : undefined));
  const xn2 = c.act(l, 'xn2', [T, D]);
  const rstd2 = c.act(l, 'rstd2', [T]);
  // gate and up in one buffer [gate | pad | up] so that SwiGLU reads both (rowStride F, upOffset).
  const gu = c.act(l, 'gu', [upOffset + T * F]);
  const gate = rt.view(gu, 0, [T, F], `gate.${l}`);
  const up = rt.view(gu, upOffset, [T, F], `up.${l}`);
  const h = c.act(l, 'h', [T, F]);
  const swiglu = () => prepareSwiglu(rt, { gu, h, T, F, rowStride: F, upOffset });
  const mlpIn = () => [
    prepareRmsNorm(rt, { x: m, weight: lw.postNorm, y: xn2, rstd: rstd2, T, D, eps }),
    ...c.linear({ l, target: 'gate', x: xn2, inDim: D, outDim: F }, gate),
    ...c.linear({ l, target: 'up', x: xn2, inDim: D, outDim: F }, up),
  ];
  const fuseDown = fusable(F) && noLora('down');
  let recomputeMlp: Op[] | undefined;
  if (fusable(D) && noLora('gate', 'up')) {
    const g = lw.gateUp;
    ops.push(prepareGemvFused(rt, {
      a: m, b: g.weight, outs: [gu], M: T, K: D, prologue: { kind: 'rmsnorm', weight: lw.postNorm, eps },
      parts: [{ cols: F, wStart: g.starts[0], outStart: 0 }, { cols: F, wStart: g.starts[1], outStart: upOffset }],
    }));
    if (!fuseDown) ops.push(swiglu());
  } else {
    const mlp = [...mlpIn(), ...(fuseDown ? [] : [swiglu()])];
    if (train) recomputeMlp = mlp;
    ops.push(...mlp);
  }
  const next = train ? c.resBuf(l + 1) : m;
  if (fuseDown) {
    ops.push(prepareGemvFused(rt, {
      a: gu, b: lw.proj.down, outs: [next], M: T, K: F, accumulate: true, prologue: { kind: 'swiglu', upOffset },
      parts: [{ cols: D, wStart: 0 }],
    }));
  } else ops.push(...c.linear({ l, target: 'down', x: h, inDim: F, outDim: D }, next, !train, train ? m : undefined));
  return { ops, pastOps, mid: m, next, recomputeAttn, recomputeMlp, xn1, rstd1, q, ao, lse, xn2, rstd2, gu, h };
}

/** The gradient buffers every layer's backward shares; `dres` is the running gradient of the residual. */
export interface BackwardScratch {
  dres: Tensor; dxn: Tensor; dh: Tensor; dgu: Tensor; dgate: Tensor; dup: Tensor;
  dao: Tensor; dq: Tensor; dk: Tensor; dv: Tensor; stats: Tensor;
}

export function backwardScratch(c: PlanCtx): BackwardScratch {
  const { rt, T, D, F, QD, KD, B, H, S, upOffset } = c;
  // d_res: the running gradient of the residual stream (the caller's loss head writes it first).
  const dres = rt.tensor('d_res', [T, D]);
  const dxn = c.scratch('d_xn', [T, D]);
  const dh = c.scratch('d_h', [T, F]);
  const dgu = c.scratch('d_gu', [upOffset + T * F]);
  const dgate = rt.view(dgu, 0, [T, F], 'd_gate');
  const dup = rt.view(dgu, upOffset, [T, F], 'd_up');
  const dao = c.scratch('d_ao', [T, QD]);
  const dq = c.scratch('d_q', [T, QD]);
  const dk = c.scratch('d_k', [T, KD]);
  const dv = c.scratch('d_v', [T, KD]);
  const stats = c.scratch('attn bwd stats', [2 * B * H * S]);
  return { dres, dxn, dh, dgu, dgate, dup, dao, dq, dk, dv, stats };
}

/**
 * Layer l's backward (training plans): from d_res = d(loss)/d(layer output) to d(layer input) in place,
 * LoRA gradients written. `x` is the layer's input residual, `f` what its forward saved. Layer 0 skips
 * what only its input's gradient needs.
 */
export function buildLayerBackward(c: PlanCtx, l: number, x: Tensor, f: LayerForward, g: BackwardScratch): Op[] {
  const { rt, w, kv, T, D, F, B, S, H, KVH, Dh, L, QD, KD, upOffset, positions } = c;
  const lw = w.layers[l];
  const ops: Op[] = [];
  const first = l === 0; // nothing upstream of layer 0's input needs a gradient
  // MLP: res[l+1] = mid + down(swiglu(gate(xn2), up(xn2))); xn2, gate|up and h recomputed first.
  ops.push(...f.recomputeMlp!);
  ops.push(...c.linearBack({ l, target: 'down', x: f.h, inDim: F, outDim: D }, g.dres, g.dh, false));
  ops.push(prepareSwigluBackward(rt, { gu: f.gu, dh: g.dh, dgu: g.dgu, T, F, rowStride: F, upOffset }));
  ops.push(...c.linearBack({ l, target: 'gate', x: f.xn2, inDim: D, outDim: F }, g.dgate, g.dxn, false));
  ops.push(...c.linearBack({ l, target: 'up', x: f.xn2, inDim: D, outDim: F }, g.dup, g.dxn, true));
  ops.push(prepareRmsNormBackward(rt, { x: f.mid, weight: lw.postNorm, rstd: f.rstd2, dy: g.dxn, dx: g.dres, T, D, accumulate: true }));
  // Attention: mid = res[l] + o(attn(rope(q), rope(k), v)).
  ops.push(...c.linearBack({ l, target: 'o', x: f.ao, inDim: QD, outDim: D }, g.dres, g.dao, false));
  ops.push(...f.recomputeAttn!);
  ops.push(
    ...prepareAttentionBackward(rt, {
      B, S, H, KVH, Dh, L, past: 0, q: f.q, k: kv.k[l], v: kv.v[l], kvStart: c.kvStart, out: f.ao, lse: f.lse,
      dOut: g.dao, dq: g.dq, dk: g.dk, dv: g.dv, stats: g.stats,
    }),
  );
  const needQK = !first || c.hasLora('q') || c.hasLora('k');
  if (needQK) {
    ops.push(prepareRope(rt, { out: g.dq, positions, invFreq: w.invFreq, B, S, H, Dh, backward: true }));
    ops.push(prepareRope(rt, { out: g.dk, positions, invFreq: w.invFreq, B, S, H: KVH, Dh, backward: true }));
  }
  const dx1 = first ? undefined : g.dxn;
  let acc = false;
  for (const [t, dy, od] of [['q', g.dq, QD], ['k', g.dk, KD], ['v', g.dv, KD]] as const) {
    const back = c.linearBack({ l, target: t, x: f.xn1, inDim: D, outDim: od }, dy, dx1, acc);
    if (dx1 && back.length) acc = true;
    ops.push(...back);
  }
  if (!first) ops.push(prepareRmsNormBackward(rt, { x, weight: lw.inputNorm, rstd: f.rstd1, dy: g.dxn, dx: g.dres, T, D, accumulate: true }));
  return ops;
}
