import type { Op, Runtime, Tensor } from '../../runtime';
import { wgsl } from '../wgsl';
import { bindAt, grid1d } from '../grid';
import { swigluBackwardCpu, swigluCpu } from './swiglu.cpu';
import type { SwigluArgs, SwigluBackwardArgs } from './swiglu.types';

export type { SwigluArgs, SwigluBackwardArgs } from './swiglu.types';

const code = wgsl('kernels/swiglu/swiglu.wgsl');

/**
 * One SwiGLU pass over the T·F elements: entry point `entry` of swiglu.wgsl with the tensors `bound` (binding,
 * tensor) after the uniforms, or the CPU kernel `cpu` makes; `flops` and the f32 tensors touched, per element.
 */
function swigluOp(
  rt: Runtime,
  name: string,
  args: SwigluArgs | SwigluBackwardArgs,
  entry: 'main' | 'backward',
  perElement: { flops: number; tensors: number },
  cpu: () => () => void,
  bound: [number, Tensor][],
): Op {
  const { T, F, rowStride = 2 * F, upOffset = F } = args;
  const label = `${name} ${T}x${F}`;
  const flops = perElement.flops * T * F;
  const bytes = 4 * perElement.tensors * T * F;
  if (rt.kind === 'cpu') return rt.op(label, flops, bytes, cpu());
  const pipeline = rt.pipeline(label, code, {}, entry);
  const params = rt.uniform(`${label} params`, [T, F, rowStride, upOffset]);
  return { label, pipeline, bindGroup: bindAt(rt, pipeline, [[0, params], ...bound], label), workgroups: grid1d(T * F), flops, bytes };
}

export function prepareSwiglu(rt: Runtime, args: SwigluArgs): Op {
  // exp, add, divide, two multiplies (exp counted as one); reads gate and up, writes h.
  return swigluOp(rt, 'swiglu', args, 'main', { flops: 5, tensors: 3 }, () => swigluCpu(args), [[1, args.gu], [3, args.h]]);
}

export function prepareSwigluBackward(rt: Runtime, args: SwigluBackwardArgs): Op {
  return swigluOp(rt, 'swiglu_backward', args, 'backward', { flops: 12, tensors: 5 }, () => swigluBackwardCpu(args), [[1, args.gu], [2, args.dh], [3, args.dgu]]);
}
