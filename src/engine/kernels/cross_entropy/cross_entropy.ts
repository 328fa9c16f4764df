import { ceilDiv, type Op, type Runtime, type Tensor } from '../../runtime';
import { wgsl } from '../wgsl';
import { ceFinalizeCpu, ceGradCpu, lmHeadGradCpu, lmHeadLogitsCpu, softmaxStatsCpu } from './cross_entropy.cpu';
import type { LmHeadWeight, CrossEntropyArgs, CrossEntropyScratch } from './cross_entropy.types';

export type { LmHeadWeight, CrossEntropyArgs, CrossEntropyScratch } from './cross_entropy.types';

const statsCode = wgsl('kernels/cross_entropy/ce_stats.wgsl');
const finalizeCode = wgsl('kernels/cross_entropy/ce_finalize.wgsl');
const gradCode = wgsl('kernels/cross_entropy/ce_grad.wgsl');
const reduceCode = wgsl('kernels/cross_entropy/ce_reduce.wgsl');
const matmulCode = wgsl('kernels/cross_entropy/lm_head_matmul.wgsl');

/** The target id that marks a token the loss ignores (not an assistant token). */
export const IGNORE_INDEX = 0xffffffff;

export const DEFAULT_CHUNK = 4096;

export function crossEntropyScratch(rt: Runtime, T: number, chunk: number): CrossEntropyScratch {
  return {
    logits: rt.tensor(`ce logits chunk ${T}x${chunk}`, [T, chunk]),
    stats: rt.tensor(`ce stats ${T}`, [4 * T + 4]),
  };
}

function checkWeight(w: LmHeadWeight): void {
  if (w.packedF16 && w.D % 2 !== 0) throw new Error(`lm head: packed f16 needs an even D (got ${w.D})`);
  const want = w.packedF16 ? (w.V * w.D) / 2 : w.V * w.D;
  const have = w.weight.shape.reduce((a, b) => a * b, 1);
  if (have < want) throw new Error(`lm head: weight ${w.weight.label} holds ${have} words, needs ${want}`);
}

const wBytes = (w: LmHeadWeight, rows: number) => rows * w.D * (w.packedF16 ? 2 : 4);

/** Rows up to which the logits use the few-rows kernel (bandwidth-bound: no 64-row tiles). */
export const SKINNY_ROWS = 8;

/** Z[t, 0…C) = X[t] · W[v0 … v0+C)ᵀ, Z row stride ldz. Grid [⌈C/64⌉, ⌈T/64⌉], or [⌈C/32⌉] for T ≤ 8. */
export function prepareLmHeadLogits(rt: Runtime, w: LmHeadWeight, x: Tensor, z: Tensor, T: number, v0: number, C: number, ldz: number): Op {
  checkWeight(w);
  const skinny = T <= SKINNY_ROWS;
  const label = `lm_head_logits${skinny ? '_skinny' : ''} T${T} D${w.D} v${v0}+${C}`;
  const flops = 2 * T * C * w.D;
  const bytes = 4 * T * w.D + wBytes(w, C) + 4 * T * C;
  if (rt.kind === 'cpu') return rt.op(label, flops, bytes, lmHeadLogitsCpu(rt, w, x, z, T, v0, C, ldz));
  const entry = skinny ? 'logits_skinny' : 'logits';
  const pipeline = rt.pipeline(`lm_head_${entry}`, matmulCode, { W_F16: Number(Boolean(w.packedF16)) }, entry);
  const params = rt.uniform(`${label} params`, [T, w.D, C, v0, ldz, 0, 0, 0]);
  const workgroups: [number, number, number] = skinny ? [ceilDiv(C, 32), 1, 1] : [ceilDiv(C, 64), ceilDiv(T, 64), 1];
  if (workgroups[0] > 65535 || workgroups[1] > 65535) throw new Error(`${label}: grid too large`);
  return {
    label,
    pipeline,
    bindGroup: rt.bindGroup(pipeline, [params, x, w.weight, z], label),
    workgroups,
    flops,
    bytes,
  };
}

/**
 * How many slices the gradient product's chunk dimension is split into: enough 64×64 output tiles times
 * splits to fill a GPU (~128 workgroups), at most 16, each slice at least 64 columns of the chunk.
 */
export function gradSplits(T: number, D: number, chunk: number): number {
  const tiles = ceilDiv(D, 64) * ceilDiv(T, 64);
  return Math.max(1, Math.min(16, ceilDiv(128, tiles), Math.floor(chunk / 64)));
}

/** dX[z] (+)= G[:, slice z] · W[v0 + slice z]: G [T, ldz], dX [splits, T, D]. Grid [⌈D/64⌉, ⌈T/64⌉, splits]. */
function prepareLmHeadGrad(
  rt: Runtime,
  w: LmHeadWeight,
  g: Tensor,
  dx: Tensor,
  T: number,
  v0: number,
  C: number,
  ldz: number,
  accumulate: boolean,
  splits: number,
): Op {
  const label = `lm_head_grad T${T} D${w.D} v${v0}+${C} splits${splits}`;
  const flops = 2 * T * C * w.D;
  const bytes = 4 * T * C + wBytes(w, C) + 4 * splits * T * w.D * (accumulate ? 2 : 1);
  if (rt.kind === 'cpu') return rt.op(label, flops, bytes, lmHeadGradCpu(rt, w, g, dx, T, v0, C, ldz, accumulate));
  const pipeline = rt.pipeline('lm_head_grad', matmulCode, { W_F16: Number(Boolean(w.packedF16)) }, 'grad');
  const kLen = ceilDiv(ceilDiv(C, splits), 16) * 16;
  const params = rt.uniform(`${label} params`, [T, w.D, C, v0, ldz, Number(accumulate), kLen, 0]);
  return {
    label,
    pipeline,
    bindGroup: rt.bindGroup(pipeline, [params, g, w.weight, dx], label),
    workgroups: [ceilDiv(w.D, 64), ceilDiv(T, 64), splits],
    flops,
    bytes,
  };
}

/** Fold one logits chunk into the running (max, Σexp, z_target) of each row. */
export function prepareSoftmaxStats(
  rt: Runtime,
  z: Tensor,
  targets: Tensor | undefined,
  stats: Tensor,
  T: number,
  v0: number,
  C: number,
  ldz: number,
): Op {
  const label = `ce_stats T${T} v${v0}+${C}`;
  if (rt.kind === 'cpu') return rt.op(label, 4 * T * C, 4 * (T * C + 8 * T), softmaxStatsCpu(z, targets, stats, T, v0, C, ldz));
  const pipeline = rt.pipeline('ce_stats', statsCode, {
    HAS_TARGETS: Number(Boolean(targets)),
  });
  const params = rt.uniform(`${label} params`, [T, C, v0, ldz, Number(v0 === 0), 0, 0, 0]);
  return {
    label,
    pipeline,
    bindGroup: rt.bindGroup(pipeline, [params, z, targets ?? rt.empty, stats], label),
    workgroups: [Math.min(T, 65535), ceilDiv(T, 65535), 1],
    flops: 4 * T * C,
    bytes: 4 * (T * C + 8 * T),
  };
}

/** Pass-1 ops (logits chunk, then fold into stats) for every chunk of the vocabulary. */
export function prepareSoftmaxPass(
  rt: Runtime,
  w: LmHeadWeight,
  x: Tensor,
  targets: Tensor | undefined,
  scratch: CrossEntropyScratch,
  T: number,
  chunk: number,
): Op[] {
  const ops: Op[] = [];
  for (let v0 = 0; v0 < w.V; v0 += chunk) {
    const C = Math.min(chunk, w.V - v0);
    ops.push(prepareLmHeadLogits(rt, w, x, scratch.logits, T, v0, C, chunk));
    ops.push(prepareSoftmaxStats(rt, scratch.logits, targets, scratch.stats, T, v0, C, chunk));
  }
  return ops;
}

/**
 * Prepare the fused LM head + softmax cross-entropy without ever holding [T, V] logits.
 * Pass 1: per vocabulary chunk, logits = hidden·W_chunkᵀ into a [T, chunk] scratch and an online
 * (max, Σexp) per row; then per-token loss, the mean, and 1/count. Pass 2 (when dHidden is given): per
 * chunk, recompute the logits, form (softmax − onehot)/count in place and accumulate into dHidden.
 * The gradient product is split along the chunk when [T, D] alone has too few tiles to fill a GPU
 * (`gradSplits`; then a [splits, T, D] buffer and one fixed-order reduction dispatch).
 * 2·⌈V/chunk⌉ + 1 dispatches forward, 3·⌈V/chunk⌉ (+1 when split) more for the gradient.
 */
export function prepareCrossEntropy(rt: Runtime, args: CrossEntropyArgs): Op[] {
  const { T, V, D } = args;
  checkWeight(args);
  if (T > 65535) throw new Error(`cross entropy: T=${T} exceeds 65535 rows per call`);
  const chunk = Math.min(args.chunk ?? DEFAULT_CHUNK, V);
  const scratch = args.scratch ?? crossEntropyScratch(rt, T, chunk);
  if (scratch.logits.shape.reduce((a, b) => a * b, 1) < T * chunk) throw new Error('cross entropy: logits scratch too small');
  if (scratch.stats.shape.reduce((a, b) => a * b, 1) < 4 * T + 4) throw new Error('cross entropy: stats scratch too small');

  const ops = prepareSoftmaxPass(rt, args, args.hidden, args.targets, scratch, T, chunk);
  if (rt.kind === 'cpu') {
    ops.push(rt.op(`ce_finalize T${T}`, 4 * T, 4 * (T * 5 + 3), ceFinalizeCpu(args.targets, scratch.stats, args.loss, args.mean, T, V)));
    if (!args.dHidden) return ops;
    for (let v0 = 0; v0 < V; v0 += chunk) {
      const C = Math.min(chunk, V - v0);
      ops.push(prepareLmHeadLogits(rt, args, args.hidden, scratch.logits, T, v0, C, chunk));
      ops.push(rt.op(`ce_grad T${T} v${v0}+${C}`, 4 * T * C, 4 * (2 * T * C + 5 * T), ceGradCpu(scratch.logits, args.targets, scratch.stats, T, v0, C, chunk, V)));
      // One slice: the product accumulates straight into dHidden (splitting serves a GPU's occupancy only).
      ops.push(prepareLmHeadGrad(rt, args, scratch.logits, args.dHidden, T, v0, C, chunk, v0 > 0, 1));
    }
    return ops;
  }
  const finPipe = rt.pipeline('ce_finalize', finalizeCode);
  const finParams = rt.uniform(`ce_finalize T${T} params`, [T, V, 0, 0]);
  ops.push({
    label: `ce_finalize T${T}`,
    pipeline: finPipe,
    bindGroup: rt.bindGroup(finPipe, [finParams, args.targets, scratch.stats, args.loss, args.mean]),
    workgroups: [1, 1, 1],
    flops: 4 * T,
    bytes: 4 * (T * 5 + 3),
  });
  if (!args.dHidden) return ops;

  const splits = gradSplits(T, D, chunk);
  const n = T * D;
  // With one split the product accumulates straight into dHidden; otherwise into [splits, T, D] slices.
  const slices = splits === 1 ? args.dHidden : rt.tensor(`ce grad slices ${splits}x${T}x${D}`, [splits, T, D]);
  const gradPipe = rt.pipeline('ce_grad', gradCode);
  for (let v0 = 0; v0 < V; v0 += chunk) {
    const C = Math.min(chunk, V - v0);
    ops.push(prepareLmHeadLogits(rt, args, args.hidden, scratch.logits, T, v0, C, chunk));
    const params = rt.uniform(`ce_grad T${T} v${v0} params`, [T, C, v0, chunk, V, 0, 0, 0]);
    ops.push({
      label: `ce_grad T${T} v${v0}+${C}`,
      pipeline: gradPipe,
      bindGroup: rt.bindGroup(gradPipe, [params, scratch.logits, args.targets, scratch.stats]),
      workgroups: [ceilDiv(C, 256), T, 1],
      flops: 4 * T * C,
      bytes: 4 * (2 * T * C + 5 * T),
    });
    ops.push(prepareLmHeadGrad(rt, args, scratch.logits, slices, T, v0, C, chunk, v0 > 0, splits));
  }
  if (splits > 1) {
    const pipe = rt.pipeline('ce_reduce', reduceCode);
    const groups = ceilDiv(n, 256);
    ops.push({
      label: `ce_reduce ${splits}x${T}x${D}`,
      pipeline: pipe,
      bindGroup: rt.bindGroup(pipe, [rt.uniform(`ce_reduce T${T} params`, [n, splits, 0, 0]), slices, args.dHidden]),
      workgroups: [Math.min(groups, 65535), ceilDiv(groups, 65535), 1],
      flops: splits * n,
      bytes: 4 * (splits + 1) * n,
    });
  }
  return ops;
}
