/** The arguments of the embedding gather, shared by the WebGPU version (embedding.ts) and the CPU version (embedding.cpu.ts). */
import type { Tensor } from '../../tensor';

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
