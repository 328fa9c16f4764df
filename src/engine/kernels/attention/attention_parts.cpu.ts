/**
 * The attention kernels a CPU thread runs (cpu-threads.ts), for units u0 … u1−1 of (batch row, KV head),
 * u = b·KVH + kvh. Each unit owns its query heads' outputs and its own dK/dV rows, so the units can run on
 * different threads, and every element is summed in the same order whatever the split. These functions use
 * only their arguments: their source text is the worker's program. attention.cpu.ts prepares them.
 */

/** Forward of units u0 … u1−1 (u = b·KVH + kvh); sc [L] and acc [Dh] are this part's scratch. */
export function attentionForwardPart(
  Q: Float32Array, K: Float32Array, V: Float32Array, kvStart: Uint32Array, O: Float32Array, LSE: Float32Array,
  sc: Float64Array, acc: Float64Array,
  S: number, H: number, KVH: number, Dh: number, L: number, past: number, u0: number, u1: number,
): void {
  const g = H / KVH, scale = 1 / Math.sqrt(Dh);
  for (let u = u0; u < u1; u++) {
    const b = Math.floor(u / KVH), kvh = u % KVH;
    for (let h = kvh * g; h < (kvh + 1) * g; h++)
      for (let s = 0; s < S; s++) {
        const lo = kvStart[b], hi = Math.min(past + s + 1, L);
        const qb = ((b * S + s) * H + h) * Dh;
        const row = (b * H + h) * S + s;
        if (hi <= lo) {
          O.fill(0, qb, qb + Dh);
          LSE[row] = 0;
          continue;
        }
        let m = -Infinity;
        for (let j = lo; j < hi; j++) {
          const kb = ((b * L + j) * KVH + kvh) * Dh;
          let dot = 0;
          for (let d = 0; d < Dh; d++) dot += Q[qb + d] * K[kb + d];
          sc[j] = dot * scale;
          if (sc[j] > m) m = sc[j];
        }
        acc.fill(0);
        let l = 0;
        for (let j = lo; j < hi; j++) {
          const p = Math.exp(sc[j] - m);
          l += p;
          const vb = ((b * L + j) * KVH + kvh) * Dh;
          for (let d = 0; d < Dh; d++) acc[d] += p * V[vb + d];
        }
        for (let d = 0; d < Dh; d++) O[qb + d] = acc[d] / l;
        LSE[row] = m + Math.log(l);
      }
  }
}

/**
 * dQ of units u0 … u1−1 from the stats [B, H, S, 2]: each visible pair's softmax weight p and
 * ds = p·(dO·v − D) recomputed, as the WGSL's dQ kernel does.
 */
export function attentionDqPart(
  Q: Float32Array, K: Float32Array, V: Float32Array, kvStart: Uint32Array, dO: Float32Array, st: Float32Array, dQ: Float32Array,
  S: number, H: number, KVH: number, Dh: number, L: number, past: number, u0: number, u1: number,
): void {
  const g = H / KVH, scale = 1 / Math.sqrt(Dh);
  for (let u = u0; u < u1; u++) {
    const b = Math.floor(u / KVH), kvh = u % KVH;
    for (let h = kvh * g; h < (kvh + 1) * g; h++)
      for (let s = 0; s < S; s++) {
        const lo = kvStart[b], hi = Math.min(past + s + 1, L);
        const qb = ((b * S + s) * H + h) * Dh;
        const row = (b * H + h) * S + s;
        const lse = st[2 * row], D = st[2 * row + 1];
        dQ.fill(0, qb, qb + Dh);
        for (let j = lo; j < hi; j++) {
          const kb = ((b * L + j) * KVH + kvh) * Dh;
          let sc = 0, dp = 0;
          for (let d = 0; d < Dh; d++) {
            sc += Q[qb + d] * K[kb + d];
            dp += dO[qb + d] * V[kb + d];
          }
          const c = scale * Math.exp(sc * scale - lse) * (dp - D);
          for (let d = 0; d < Dh; d++) dQ[qb + d] += c * K[kb + d];
        }
      }
  }
}

/** dK and dV rows 0 … past+S−1 of units u0 … u1−1 (zeroed first; rows past them untouched). */
export function attentionDkvPart(
  Q: Float32Array, K: Float32Array, V: Float32Array, kvStart: Uint32Array, dO: Float32Array, st: Float32Array, dK: Float32Array, dV: Float32Array,
  S: number, H: number, KVH: number, Dh: number, L: number, past: number, u0: number, u1: number,
): void {
  const g = H / KVH, scale = 1 / Math.sqrt(Dh);
  for (let u = u0; u < u1; u++) {
    const b = Math.floor(u / KVH), kvh = u % KVH;
    for (let j = 0; j < past + S; j++) {
      const kb = ((b * L + j) * KVH + kvh) * Dh;
      dK.fill(0, kb, kb + Dh);
      dV.fill(0, kb, kb + Dh);
    }
    for (let h = kvh * g; h < (kvh + 1) * g; h++)
      for (let s = 0; s < S; s++) {
        const lo = kvStart[b], hi = Math.min(past + s + 1, L);
        const qb = ((b * S + s) * H + h) * Dh;
        const row = (b * H + h) * S + s;
        const lse = st[2 * row], D = st[2 * row + 1];
        for (let j = lo; j < hi; j++) {
          const kb = ((b * L + j) * KVH + kvh) * Dh;
          let sc = 0, dp = 0;
          for (let d = 0; d < Dh; d++) {
            sc += Q[qb + d] * K[kb + d];
            dp += dO[qb + d] * V[kb + d];
          }
          const p = Math.exp(sc * scale - lse);
          const c = scale * p * (dp - D);
          for (let d = 0; d < Dh; d++) {
            dK[kb + d] += c * Q[qb + d];
            dV[kb + d] += p * dO[qb + d];
          }
        }
      }
  }
}
