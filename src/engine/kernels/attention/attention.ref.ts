/**
 * CPU reference for attention_forward.wgsl and attention_backward.wgsl (f64 accumulation).
 * Layouts as the kernels: Q, O, dO [B,S,H,Dh]; K, V [B,L,KVH,Dh]; LSE [B,H,S]. Query s sits at position
 * past + s and sees keys kvStart[b] ≤ j ≤ past + s. Works on Float64Array too (the gradient check).
 */
import type { AttentionDims } from './attention.types';

/** The kernels' dimensions (attention.types.ts), with each sequence's first visible key as numbers. */
export interface AttentionShape extends AttentionDims {
  kvStart: ArrayLike<number>;
}

type Arr = Float32Array | Float64Array;

const qIdx = (a: AttentionShape, b: number, s: number, h: number) => ((b * a.S + s) * a.H + h) * a.Dh;
const kIdx = (a: AttentionShape, b: number, j: number, kvh: number) => ((b * a.L + j) * a.KVH + kvh) * a.Dh;

function keyRange(a: AttentionShape, b: number, s: number): [number, number] {
  return [a.kvStart[b], Math.min(a.past + s + 1, a.L)];
}

export function attentionForwardRef(q: Arr, k: Arr, v: Arr, a: AttentionShape): { out: Float64Array; lse: Float64Array } {
  const { B, S, H, KVH, Dh } = a;
  const g = H / KVH;
  const scale = 1 / Math.sqrt(Dh);
  const out = new Float64Array(B * S * H * Dh);
  const lse = new Float64Array(B * H * S);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let s = 0; s < S; s++) {
        const [lo, hi] = keyRange(a, b, s);
        if (hi <= lo) continue;
        const qb = qIdx(a, b, s, h);
        const sc: number[] = [];
        for (let j = lo; j < hi; j++) {
          const kb = kIdx(a, b, j, Math.floor(h / g));
          let dot = 0;
          for (let d = 0; d < Dh; d++) dot += q[qb + d] * k[kb + d];
          sc.push(dot * scale);
        }
        const m = Math.max(...sc);
        let l = 0;
        for (const x of sc) l += Math.exp(x - m);
        for (let j = lo; j < hi; j++) {
          const pj = Math.exp(sc[j - lo] - m) / l;
          const kb = kIdx(a, b, j, Math.floor(h / g));
          for (let d = 0; d < Dh; d++) out[qb + d] += pj * v[kb + d];
        }
        lse[(b * H + h) * S + s] = m + Math.log(l);
      }
  return { out, lse };
}

/** Analytic gradients of Σ dO ⊙ O with respect to Q, K and V (dK, dV over the whole cache [B,L,KVH,Dh]). */
export function attentionBackwardRef(
  q: Arr,
  k: Arr,
  v: Arr,
  dO: Arr,
  a: AttentionShape,
): { dq: Float64Array; dk: Float64Array; dv: Float64Array } {
  const { B, S, H, KVH, Dh } = a;
  const g = H / KVH;
  const scale = 1 / Math.sqrt(Dh);
  const { out, lse } = attentionForwardRef(q, k, v, a);
  const dq = new Float64Array(q.length);
  const dk = new Float64Array(k.length);
  const dv = new Float64Array(v.length);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let s = 0; s < S; s++) {
        const [lo, hi] = keyRange(a, b, s);
        const qb = qIdx(a, b, s, h);
        let D = 0;
        for (let d = 0; d < Dh; d++) D += dO[qb + d] * out[qb + d];
        for (let j = lo; j < hi; j++) {
          const kb = kIdx(a, b, j, Math.floor(h / g));
          let sc = 0;
          let dp = 0;
          for (let d = 0; d < Dh; d++) {
            sc += q[qb + d] * k[kb + d];
            dp += dO[qb + d] * v[kb + d];
          }
          const p = Math.exp(sc * scale - lse[(b * H + h) * S + s]);
          const ds = p * (dp - D);
          for (let d = 0; d < Dh; d++) {
            dq[qb + d] += scale * ds * k[kb + d];
            dk[kb + d] += scale * ds * q[qb + d];
            dv[kb + d] += p * dO[qb + d];
          }
        }
      }
  return { dq, dk, dv };
}
