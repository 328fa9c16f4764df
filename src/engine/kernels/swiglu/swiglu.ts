import type { Op, Runtime, Tensor } from '../../runtime';
import { wgsl } from '../wgsl';
import { bindAt, grid1d } from '../grid';
import { swigluBackwardCpu, swigluCpu } from './swiglu.cpu';

const code = wgsl('kernels/swiglu/swiglu.wgsl');

/**
 * SwiGLU over a fused gate|up buffer.
 * - `gu`: f32, gate[t,j] at t·rowStride + j and up[t,j] at t·rowStride + upOffset + j. Defaults
 *   (rowStride 2F, upOffset F) fit the fused projection output [T, 2F] = [gate | up].
 * - forward: `h` f32 [T, F] = silu(gate) ⊙ up.
 */
export interface SwigluArgs {
  gu: Tensor;
  h: Tensor;
  T: number;
  F: number;
  rowStride?: number;
  upOffset?: number;
}

/** Backward: `dh` f32 [T, F] → `dgu` (same layout as `gu`: dgate and dup; a distinct buffer). */
export interface SwigluBackwardArgs {
  gu: Tensor;
  dh: Tensor;
  dgu: Tensor;
  T: number;
  F: number;
  rowStride?: number;
  upOffset?: number;
}

export function prepareSwiglu(rt: Runtime, args: SwigluArgs): Op {
  const { T, F, rowStride = 2 * F, upOffset = F } = args;
  const label = `swiglu ${T}x${F}`;
  // exp, add, divide, two multiplies (exp counted as one).
  if (rt.kind === 'cpu') return rt.op(label, 5 * T * F, 4 * 3 * T * F, swigluCpu(args));
  const pipeline = rt.pipeline(label, code, {}, 'main');
  const params = rt.uniform(`${label} params`, [T, F, rowStride, upOffset]);
  return {
    label,
    pipeline,
    bindGroup: bindAt(rt, pipeline, [[0, params], [1, args.gu], [3, args.h]], label),
    workgroups: grid1d(T * F),
    // exp, add, divide, two multiplies (exp counted as one).
    flops: 5 * T * F,
    bytes: 4 * 3 * T * F,
  };
}

export function prepareSwigluBackward(rt: Runtime, args: SwigluBackwardArgs): Op {
  const { T, F, rowStride = 2 * F, upOffset = F } = args;
  const label = `swiglu_backward ${T}x${F}`;
  if (rt.kind === 'cpu') return rt.op(label, 12 * T * F, 4 * 5 * T * F, swigluBackwardCpu(args));
  const pipeline = rt.pipeline(label, code, {}, 'backward');
  const params = rt.uniform(`${label} params`, [T, F, rowStride, upOffset]);
  return {
    label,
    pipeline,
    bindGroup: rt.bindGroup(pipeline, [params, args.gu, args.dh, args.dgu], label),
    workgroups: grid1d(T * F),
    flops: 12 * T * F,
    bytes: 4 * 5 * T * F,
  };
}
