import type { Op, Runtime, Tensor } from '../../runtime';
import { wgsl } from '../wgsl';
import { grid1d } from '../grid';

const code = wgsl('kernels/embedding/embedding.wgsl');

/**
 * Embedding gather (forward only: the embeddings are frozen).
 * - `ids`: u32 [T]; `table`: [V, D], f32 or packed f16 (dtype 'f16'); `out`: f32 [T, D].
 * An id ≥ V yields a zero row.
 */
export interface EmbeddingArgs {
  ids: Tensor;
  table: Tensor;
  out: Tensor;
  T: number;
  D: number;
  V: number;
}

export function prepareEmbedding(rt: Runtime, args: EmbeddingArgs): Op {
  const { T, D, V } = args;
  const f16 = args.table.dtype === 'f16';
  const label = `embedding${f16 ? '_f16' : ''} ${T}x${D}`;
  const pipeline = rt.pipeline(label, code, { TABLE_F16: Number(f16) });
  const params = rt.uniform(`${label} params`, [T, D, V, 0]);
  return {
    label,
    pipeline,
    bindGroup: rt.bindGroup(pipeline, [params, args.ids, args.table, args.out], label),
    workgroups: grid1d(T * D),
    flops: 0,
    bytes: 4 * T + (f16 ? 2 : 4) * T * D + 4 * T * D,
  };
}
