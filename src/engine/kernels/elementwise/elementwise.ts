import type { Op, Runtime, Tensor } from '../../runtime';
import { wgsl } from '../wgsl';
import { bindAt, grid1d } from '../grid';
import { addCpu, copyCpu, scaleCpu } from './elementwise.cpu';

const code = wgsl('kernels/elementwise/elementwise.wgsl');

/** `y = beta·y + alpha·x` over n f32 elements (residual add: defaults alpha = beta = 1). x and y distinct. */
export interface AddArgs {
  x: Tensor;
  y: Tensor;
  n: number;
  alpha?: number;
  beta?: number;
}

export function prepareAdd(rt: Runtime, args: AddArgs): Op {
  const { n, alpha = 1, beta = 1 } = args;
  const label = `add ${n}`;
  if (rt.kind === 'cpu') return rt.op(label, 3 * n, 12 * n, addCpu(args));
  const pipeline = rt.pipeline(label, code, {}, 'add');
  const params = rt.uniform(`${label} params`, [n, alpha, beta, 0], 'uff');
  return {
    label,
    pipeline,
    bindGroup: bindAt(rt, pipeline, [[0, params], [1, args.x], [2, args.y]], label),
    workgroups: grid1d(n),
    flops: 3 * n,
    bytes: 12 * n,
  };
}

/** `dst = src` over n f32 elements (distinct buffers or non-overlapping views). */
export function prepareCopy(rt: Runtime, args: { src: Tensor; dst: Tensor; n: number }): Op {
  const { n } = args;
  const label = `copy ${n}`;
  if (rt.kind === 'cpu') return rt.op(label, 0, 8 * n, copyCpu(args));
  const pipeline = rt.pipeline(label, code, {}, 'copy');
  const params = rt.uniform(`${label} params`, [n, 0, 0, 0], 'uff');
  return {
    label,
    pipeline,
    bindGroup: bindAt(rt, pipeline, [[0, params], [1, args.src], [2, args.dst]], label),
    workgroups: grid1d(n),
    flops: 0,
    bytes: 8 * n,
  };
}

/** `x = alpha·x` in place over n f32 elements. */
export function prepareScale(rt: Runtime, args: { x: Tensor; n: number; alpha: number }): Op {
  const { n, alpha } = args;
  const label = `scale ${n}`;
  if (rt.kind === 'cpu') return rt.op(label, n, 8 * n, scaleCpu(args));
  const pipeline = rt.pipeline(label, code, {}, 'scale');
  const params = rt.uniform(`${label} params`, [n, alpha, 0, 0], 'uff');
  return {
    label,
    pipeline,
    bindGroup: bindAt(rt, pipeline, [[0, params], [2, args.x]], label),
    workgroups: grid1d(n),
    flops: n,
    bytes: 8 * n,
  };
}
