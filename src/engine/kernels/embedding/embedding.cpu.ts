/** embedding.wgsl on the CPU: out[t, :] = table[ids[t], :], a zero row for an id ≥ V (f32 tables). */
import { f32v, u32v } from '../../cpu-runtime';
import type { EmbeddingArgs } from './embedding.types';

export function gatherCpu(a: EmbeddingArgs): () => void {
  const { T, D, V } = a;
  if (a.table.dtype !== 'f32') throw new Error(`embedding (CPU): ${a.table.label} is ${a.table.dtype}; the CPU backend keeps f32 tables`);
  const ids = u32v(a.ids, T), table = f32v(a.table, V * D), out = f32v(a.out, T * D);
  return () => {
    for (let t = 0; t < T; t++) {
      const id = ids[t];
      if (id >= V) out.fill(0, t * D, (t + 1) * D);
      else for (let d = 0, s = id * D, o = t * D; d < D; d++) out[o + d] = table[s + d];
    }
  };
}
