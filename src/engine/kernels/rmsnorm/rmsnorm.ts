import { ceilDiv, type Op, type Runtime } from '../../runtime';
import { wgsl } from '../wgsl';
import { rmsNormBackwardCpu, rmsNormCpu } from './rmsnorm.cpu';
import type { RmsNormArgs, RmsNormBackwardArgs } from './rmsnorm.types';

export type { RmsNormArgs, RmsNormBackwardArgs } from './rmsnorm.types';

const fwdCode = wgsl('kernels/rmsnorm/rmsnorm.wgsl');
const bwdCode = wgsl('kernels/rmsnorm/rmsnorm_backward.wgsl');

/** One workgroup of 64 per row (enough lanes for D ≤ ~8k; T rows give the parallelism); rows past 65535 fold into y. */
function rowGrid(T: number): [number, number, number] {
  return [Math.min(T, 65535), ceilDiv(T, 65535), 1];
}

export function prepareRmsNorm(rt: Runtime, args: RmsNormArgs): Op {
  const { T, D, eps } = args;
  const label = `rmsnorm ${T}x${D}`;
  const flops = 4 * T * D;
  const bytes = 4 * (2 * T * D + D + T);
  if (rt.kind === 'cpu') return rt.op(label, flops, bytes, rmsNormCpu(args));
  const pipeline = rt.pipeline(label, fwdCode);
  const params = rt.uniform(`${label} params`, [T, D, eps, 0], 'uuf');
  return {
    label,
    pipeline,
    bindGroup: rt.bindGroup(pipeline, [params, args.x, args.weight, args.y, args.rstd], label),
    workgroups: rowGrid(T),
    flops,
    bytes,
  };
}

export function prepareRmsNormBackward(rt: Runtime, args: RmsNormBackwardArgs): Op {
  const { T, D, accumulate = false } = args;
  const label = `rmsnorm_backward ${T}x${D}`;
  const flops = 8 * T * D;
  // x and dy are read twice (the reduction, then the output pass).
  const bytes = 4 * (4 * T * D + 2 * D + T + (accumulate ? 2 : 1) * T * D);
  if (rt.kind === 'cpu') return rt.op(label, flops, bytes, rmsNormBackwardCpu(args));
  const pipeline = rt.pipeline(label, bwdCode, { ACCUMULATE: Number(accumulate) });
  const params = rt.uniform(`${label} params`, [T, D, 0, 0], 'uuf');
  return {
    label,
    pipeline,
    bindGroup: rt.bindGroup(pipeline, [params, args.x, args.weight, args.rstd, args.dy, args.dx], label),
    workgroups: rowGrid(T),
    flops,
    bytes,
  };
}
