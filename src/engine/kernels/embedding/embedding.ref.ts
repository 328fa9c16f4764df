/** CPU reference for embedding.wgsl: out[t] = table[ids[t]] (zero row for ids ≥ V). */
export function embeddingRef(ids: ArrayLike<number>, table: ArrayLike<number>, D: number, V: number): Float32Array {
  const out = new Float32Array(ids.length * D);
  for (let t = 0; t < ids.length; t++) {
    const id = ids[t];
    if (id >= V) continue;
    for (let d = 0; d < D; d++) out[t * D + d] = table[id * D + d];
  }
  return out;
}
