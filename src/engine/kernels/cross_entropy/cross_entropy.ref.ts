/**
 * CPU reference for the fused LM head + cross-entropy (f64 accumulation): logits = hidden·Wᵀ,
 * loss_t = logsumexp(z_t) − z_t[y_t] (0 when y_t is ignored, i.e. ≥ V), mean over counted tokens (0 when
 * none), and d(mean)/d(hidden). Works on Float64Array too (the gradient check).
 */
import { f16BitsToF32 } from '../../convert';

type Arr = Float32Array | Float64Array;

export function logitsRef(hidden: Arr, w: Arr, T: number, D: number, V: number): Float64Array {
  const z = new Float64Array(T * V);
  for (let t = 0; t < T; t++)
    for (let v = 0; v < V; v++) {
      let acc = 0;
      for (let d = 0; d < D; d++) acc += hidden[t * D + d] * w[v * D + d];
      z[t * V + v] = acc;
    }
  return z;
}

export function logSumExpRows(z: Float64Array, T: number, V: number): Float64Array {
  const out = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    let m = -Infinity;
    for (let v = 0; v < V; v++) m = Math.max(m, z[t * V + v]);
    let l = 0;
    for (let v = 0; v < V; v++) l += Math.exp(z[t * V + v] - m);
    out[t] = m + Math.log(l);
  }
  return out;
}

export function crossEntropyRef(
  hidden: Arr,
  w: Arr,
  targets: Uint32Array,
  T: number,
  D: number,
  V: number,
): { loss: Float64Array; mean: number; count: number; dHidden: Float64Array } {
  const z = logitsRef(hidden, w, T, D, V);
  const lse = logSumExpRows(z, T, V);
  const loss = new Float64Array(T);
  let count = 0;
  let sum = 0;
  for (let t = 0; t < T; t++) {
    if (targets[t] >= V) continue;
    loss[t] = lse[t] - z[t * V + targets[t]];
    sum += loss[t];
    count++;
  }
  const dHidden = new Float64Array(T * D);
  for (let t = 0; t < T; t++) {
    if (targets[t] >= V) continue;
    for (let v = 0; v < V; v++) {
      const g = (Math.exp(z[t * V + v] - lse[t]) - (v === targets[t] ? 1 : 0)) / count;
      for (let d = 0; d < D; d++) dHidden[t * D + d] += g * w[v * D + d];
    }
  }
  return { loss, mean: count > 0 ? sum / count : 0, count, dHidden };
}

/** f32 → IEEE half bits, round to nearest even (normals, subnormals flushed to zero, overflow to ∞). */
export function f16Bits(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  let mant = u & 0x7fffff;
  if (exp <= 0) return sign;
  if (exp >= 31) return sign | 0x7c00;
  const round = mant & 0x1fff;
  mant >>>= 13;
  let h = sign | (exp << 10) | mant;
  if (round > 0x1000 || (round === 0x1000 && (mant & 1) === 1)) h++;
  return h;
}

/** Pack f32 values as f16 pairs in u32 words (element 2i in the low half), as the kernels read them. */
export function packF16(x: Float32Array): {
  packed: Uint32Array;
  rounded: Float32Array;
} {
  const packed = new Uint32Array(Math.ceil(x.length / 2));
  const rounded = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const h = f16Bits(x[i]);
    rounded[i] = f16BitsToF32(h);
    packed[i >> 1] |= h << (16 * (i & 1));
  }
  return { packed, rounded };
}
