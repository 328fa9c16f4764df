import type { Op, Runtime, Tensor } from '../../runtime';
import { wgsl } from '../wgsl';
import { grid1d } from '../grid';
import { gatherCpu } from './embedding.cpu';
import type { EmbeddingArgs } from './embedding.types';

export type { EmbeddingArgs } from './embedding.types';

const code = wgsl('kernels/embedding/embedding.wgsl');

export function prepareEmbedding(rt: Runtime, args: EmbeddingArgs): Op {
  const f16 = args.table.dtype === 'f16';
  return gatherOp(rt, `embedding${f16 ? '_f16' : ''} ${args.T}x${args.D}`, args, f16);
}

/**
 * Row gather, the same kernel over any f32 matrix: out[r, :] = x[rows[r], :] for r < R; a row index ≥ n
 * (x's rows) gives a zero row. Training uses it both ways: to pick the loss positions out of the final
 * hidden states, and to put their gradient back (each position's index into the picked rows, or none).
 */
export function prepareRowGather(rt: Runtime, args: { rows: Tensor; x: Tensor; out: Tensor; R: number; n: number; D: number }): Op {
  const { R, n, D } = args;
  return gatherOp(rt, `gather_rows ${R}x${D} of ${n}`, { ids: args.rows, table: args.x, out: args.out, T: R, D, V: n }, false);
}

function gatherOp(rt: Runtime, label: string, a: EmbeddingArgs, f16: boolean): Op {
  const { T, D, V } = a;
  const bytes = 4 * T + (f16 ? 2 : 4) * T * D + 4 * T * D;
  if (rt.kind === 'cpu') return rt.op(label, 0, bytes, gatherCpu(a));
  const pipeline = rt.pipeline(label, code, { TABLE_F16: Number(f16) });
  const params = rt.uniform(`${label} params`, [T, D, V, 0]);
  return {
    label,
    pipeline,
    bindGroup: rt.bindGroup(pipeline, [params, a.ids, a.table, a.out], label),
    workgroups: grid1d(T * D),
    flops: 0,
    bytes,
  };
}
