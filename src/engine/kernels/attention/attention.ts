import { ceilDiv, type GpuRuntime, type Op, type Runtime } from '../../runtime';
import { attentionBackwardCpu, attentionForwardCpu } from './attention.cpu';
import { wgsl } from '../wgsl';
import { cpuPastSetter, pastSetter } from '../grid';
import type { AttentionDims, AttentionForwardArgs, AttentionBackwardArgs } from './attention.types';

export type { AttentionDims, AttentionForwardArgs, AttentionBackwardArgs } from './attention.types';

const forwardCode = wgsl('kernels/attention/attention_forward.wgsl');
const forwardTiledCode = wgsl('kernels/attention/attention_forward_tiled.wgsl');
const prepCode = wgsl('kernels/attention/attention_backward_prep.wgsl');
const backwardCode = wgsl('kernels/attention/attention_backward.wgsl');
const backwardTiledCode = wgsl('kernels/attention/attention_backward_tiled.wgsl');

/** A prepared op whose `past` can change between submits (decode) without re-preparing. */
export type AttentionOp = Op & {
  /** Rewrites `past` (on WebGPU in the op's uniform: a writeBuffer that takes effect for work submitted afterwards). */
  setPast(past: number): void;
};

const MAX_DH = 128;

function checkDims(a: AttentionDims): void {
  if (a.Dh > MAX_DH || a.Dh < 1) throw new Error(`attention: head dim ${a.Dh} is outside 1…${MAX_DH}`);
  if (a.H % a.KVH !== 0) throw new Error(`attention: H=${a.H} is not a multiple of KVH=${a.KVH}`);
  if (a.past + a.S > a.L) throw new Error(`attention: past ${a.past} + S ${a.S} exceeds the cache (${a.L} rows)`);
  if (a.S > 65535 || a.L > 65535 || a.B > 65535) throw new Error('attention: more than 65535 rows per grid dimension');
}

function paramsWords(a: AttentionDims): number[] {
  return [a.B, a.S, a.H, a.KVH, a.Dh, a.L, a.past, 1 / Math.sqrt(a.Dh)];
}
const PARAM_KINDS = 'uuuuuuuf';


/** Query rows per workgroup of the tiled kernels (one per thread). */
const TILE_ROWS = 32;

/**
 * Tile sizes of the tiled kernels: BR rows per workgroup, and the largest key (or query) tile BC whose
 * `arrays` tiles of BC × Dh floats fit the device's workgroup memory (16 KiB by default, 48 KiB on many GPUs).
 */
function tileSizes(rt: GpuRuntime, Dh: number, arrays: number): { BR: number; BC: number } {
  const limit = rt.device.limits.maxComputeWorkgroupStorageSize;
  let BC = 32;
  while (BC > 4 && arrays * BC * Dh * 4 + 64 > limit) BC /= 2;
  return { BR: TILE_ROWS, BC };
}

/** The constants the tiled kernels are written against (prepended, so private arrays have fixed sizes). */
function tileConsts(Dh: number, t: { BR: number; BC: number }): string {
  return `const DH = ${Dh}u;\nconst BR = ${t.BR}u;\nconst BC = ${t.BC}u;\n`;
}

/** Keys seen in total by all query rows (ignoring kvStart, which only the GPU knows). */
function keysSeen(a: AttentionDims): number {
  let n = 0;
  for (let s = 0; s < a.S; s++) n += Math.min(a.past + s + 1, a.L);
  return n * a.B * a.H;
}

/**
 * Prepare the causal flash-attention forward. One workgroup per (query row, head, sequence); dispatch
 * grid [S, H, B]; `setPast` serves decode step after step. FLOPs: 4·Dh per (row, visible key) for QKᵀ and PV.
 */
export function prepareAttentionForward(rt: Runtime, args: AttentionForwardArgs): AttentionOp {
  checkDims(args);
  const seen = keysSeen(args);
  const rows = args.B * args.S * args.H;
  const flops = seen * 4 * args.Dh + seen * 4;
  // Each row reads its visible K and V rows once (caches aside), Q, and writes O and LSE.
  const bytes = 4 * (seen * 2 * args.Dh + rows * (2 * args.Dh + 1));
  if (rt.kind === 'cpu') {
    const at = { value: args.past };
    const label = `attention_forward_cpu B${args.B} S${args.S} H${args.H}/${args.KVH} Dh${args.Dh}`;
    return { ...rt.op(label, flops, bytes, attentionForwardCpu(rt, args, at)), setPast: cpuPastSetter(at, args.S, args.L, 'attention') };
  }
  const tiled = (args.tiled ?? (args.split === undefined && args.S >= 8)) && args.Dh % 4 === 0;
  const label = `attention_forward${tiled ? '_tiled' : ''} B${args.B} S${args.S} H${args.H}/${args.KVH} Dh${args.Dh}`;
  const split = args.split ?? (args.S <= 4 ? 4 : 1);
  const tiles = tiled ? tileSizes(rt, args.Dh, 2) : null;
  const pipeline = tiles
    ? rt.pipeline(`attention_forward_tiled Dh${args.Dh}`, tileConsts(args.Dh, tiles) + forwardTiledCode)
    : rt.pipeline('attention_forward', forwardCode, { SPLIT: split });
  const params = rt.uniform(`${label} params`, paramsWords(args), PARAM_KINDS);
  const bindGroup = rt.bindGroup(pipeline, [params, args.q, args.k, args.v, args.kvStart, args.out, args.lse], label);
  return {
    label,
    pipeline,
    bindGroup,
    workgroups: tiles ? [ceilDiv(args.S, tiles.BR), args.H, args.B] : [args.S, args.H, args.B],
    flops,
    bytes,
    setPast: pastSetter(rt, params, 6, args.S, args.L, 'attention'),
  };
}

/**
 * Prepare the attention backward: three dispatches (stats, dQ, dK/dV), deterministic (no atomics).
 * FLOPs: dQ recomputes QKᵀ and dO·Vᵀ and forms dS·K (6·Dh per pair); dK/dV does the same for Q, dO
 * and adds dSᵀ·Q and Pᵀ·dO (8·Dh per pair).
 */
export function prepareAttentionBackward(rt: Runtime, args: AttentionBackwardArgs): Op[] {
  checkDims(args);
  const { B, S, H, KVH, Dh } = args;
  const tag = `B${B} S${S} H${H}/${KVH} Dh${Dh}`;
  const rows = B * H * S;
  const stats = args.stats ?? rt.tensor(`attention_backward stats ${tag}`, [rows, 2]);
  const seen = keysSeen(args);
  const keys = args.past + S;
  const cost = {
    prep: [2 * rows * Dh, 4 * (2 * rows * Dh + 3 * rows)],
    dq: [seen * (6 * Dh + 4), 4 * (seen * 3 * Dh + B * S * H * (3 * Dh + 2))],
    // Each key row reads the Q and dO rows of its group twice (scores, then accumulation).
    dkv: [seen * (8 * Dh + 4), 4 * (seen * (4 * Dh + 2) + B * keys * KVH * 4 * Dh)],
  };
  if (rt.kind === 'cpu') {
    const [prep, dq, dkv] = attentionBackwardCpu(rt, args, stats);
    return [
      rt.op(`attention_backward_prep_cpu ${tag}`, cost.prep[0], cost.prep[1], prep),
      rt.op(`attention_backward_dq_cpu ${tag}`, cost.dq[0], cost.dq[1], dq),
      rt.op(`attention_backward_dkv_cpu ${tag}`, cost.dkv[0], cost.dkv[1], dkv),
    ];
  }
  const params = rt.uniform(`attention_backward ${tag} params`, paramsWords(args), PARAM_KINDS);

  const prepPipe = rt.pipeline('attention_backward_prep', prepCode);
  const groups = ceilDiv(rows, 64);
  const prep: Op = {
    label: `attention_backward_prep ${tag}`,
    pipeline: prepPipe,
    bindGroup: rt.bindGroup(prepPipe, [params, args.out, args.dOut, args.lse, stats]),
    workgroups: [Math.min(groups, 65535), ceilDiv(groups, 65535), 1],
    flops: cost.prep[0],
    bytes: cost.prep[1],
  };

  const tiles = (args.tiled ?? true) && Dh % 4 === 0 ? tileSizes(rt, Dh, 2) : null;
  const code = tiles ? tileConsts(Dh, tiles) + backwardTiledCode : backwardCode;
  const kind = tiles ? '_tiled' : '';
  const dqPipe = rt.pipeline(`attention_backward_dq${kind} Dh${Dh}`, code, {}, 'dq');
  const dq: Op = {
    label: `attention_backward_dq${kind} ${tag}`,
    pipeline: dqPipe,
    bindGroup: rt.bindGroup(dqPipe, [params, args.q, args.k, args.v, args.dOut, stats, args.kvStart, args.dq]),
    workgroups: tiles ? [ceilDiv(S, tiles.BR), H, B] : [S, H, B],
    flops: cost.dq[0],
    bytes: cost.dq[1],
  };

  const dkvPipe = rt.pipeline(`attention_backward_dkv${kind} Dh${Dh}`, code, {}, 'dkv');
  const dkv: Op = {
    label: `attention_backward_dkv${kind} ${tag}`,
    pipeline: dkvPipe,
    bindGroup: rt.bindGroup(dkvPipe, [params, args.q, args.k, args.v, args.dOut, stats, args.kvStart, args.dk, args.dv]),
    workgroups: tiles ? [ceilDiv(keys, tiles.BR), KVH, B] : [keys, KVH, B],
    flops: cost.dkv[0],
    bytes: cost.dkv[1],
  };
  return [prep, dq, dkv];
}
