import type { Op, Runtime } from '../../runtime';
import { wgsl } from '../wgsl';
import { bindAt, grid1d } from '../grid';
import { swigluBackwardCpu, swigluCpu } from './swiglu.cpu';
import type { SwigluArgs, SwigluBackwardArgs } from './swiglu.types';

export type { SwigluArgs, SwigluBackwardArgs } from './swiglu.types';

const code = wgsl('kernels/swiglu/swiglu.wgsl');

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
