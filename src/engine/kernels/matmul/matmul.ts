import { ceilDiv, type Op, type Runtime, type Tensor } from '../../runtime';
import naive from './matmul_naive.wgsl?raw';

export interface MatmulArgs {
  a: Tensor;
  b: Tensor;
  out: Tensor;
  M: number;
  N: number;
  K: number;
  /** A stored [K, M] instead of [M, K]. */
  transA?: boolean;
  /** B stored [N, K] (Hugging Face's [out, in]) instead of [K, N]. Default true. */
  transB?: boolean;
  alpha?: number;
  bias?: Tensor;
  /** out += alpha·op(A)·op(B) instead of out = … */
  accumulate?: boolean;
  /** Independent products, each a contiguous [M,K]·[K,N] → [M,N] slice (z of the grid). */
  batch?: number;
}

export const MATMUL_VERSIONS = { naive } as const;
export type MatmulVersion = keyof typeof MATMUL_VERSIONS;

/** Prepare C = alpha·op(A)·op(B) (+bias) (+C). Allocates its uniforms and bind group once. */
export function prepareMatmul(rt: Runtime, args: MatmulArgs, version: MatmulVersion = 'naive'): Op {
  const { M, N, K, transA = false, transB = true, alpha = 1, bias, accumulate = false, batch = 1 } = args;
  const label = `matmul_${version} ${M}x${N}x${K}`;
  const pipeline = rt.pipeline(label, MATMUL_VERSIONS[version], {
    TRANS_A: Number(transA),
    TRANS_B: Number(transB),
    HAS_BIAS: Number(Boolean(bias)),
    ACCUMULATE: Number(accumulate),
  });
  const params = rt.uniform(`${label} params`, [M, N, K, alpha, M * K, K * N, M * N, 0], 'uuuf');
  const bindGroup = rt.bindGroup(pipeline, [params, args.a, args.b, bias ?? rt.empty, args.out], label);
  const elems = batch * (M * K + K * N + M * N * (accumulate ? 2 : 1));
  return {
    label,
    pipeline,
    bindGroup,
    workgroups: [ceilDiv(N, 16), ceilDiv(M, 16), batch],
    flops: 2 * batch * M * N * K,
    bytes: 4 * elems,
  };
}
