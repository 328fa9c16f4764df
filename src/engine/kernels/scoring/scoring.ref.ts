import { logitsRef, logSumExpRows } from '../cross_entropy/cross_entropy.ref';

/** CPU reference: log softmax of candidate ids per row (f64). */
export function candidateLogProbsRef(
  hidden: Float32Array,
  w: Float32Array,
  candidates: Uint32Array,
  R: number,
  D: number,
  V: number,
): Float64Array {
  const z = logitsRef(hidden, w, R, D, V);
  const lse = logSumExpRows(z, R, V);
  const out = new Float64Array(R * candidates.length);
  for (let r = 0; r < R; r++)
    candidates.forEach((c, i) => {
      out[r * candidates.length + i] = c < V ? z[r * V + c] - lse[r] : -3.4e38;
    });
  return out;
}
