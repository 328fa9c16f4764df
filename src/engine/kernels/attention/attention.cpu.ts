/**
 * Causal attention on the CPU, the same three-part backward as the WGSL (stats, dQ, dK/dV) so the op
 * counts agree. Layouts as attention.ts: Q, O, dO [B, S, H, Dh]; K, V [B, L, KVH, Dh]; LSE [B, H, S];
 * stats [B, H, S, 2] = (LSE, Σ dO·O). Query s sits at position past + s and sees keys kvStart[b] ≤ j ≤ past + s;
 * query head h reads KV head ⌊h / (H/KVH)⌋. A row with no visible key gets O = 0 and LSE = 0.
 */
import { f32v, u32v } from '../../cpu-runtime';
import type { AttentionBackwardArgs, AttentionDims, AttentionForwardArgs } from './attention.types';

interface Views {
  B: number; S: number; H: number; KVH: number; Dh: number; L: number; g: number; scale: number;
  Q: Float32Array; K: Float32Array; V: Float32Array; kvStart: Uint32Array;
}

function views(a: AttentionDims & Pick<AttentionForwardArgs, 'q' | 'k' | 'v' | 'kvStart'>): Views {
  const { B, S, H, KVH, Dh, L } = a;
  return {
    B, S, H, KVH, Dh, L, g: H / KVH, scale: 1 / Math.sqrt(Dh),
    Q: f32v(a.q, B * S * H * Dh), K: f32v(a.k, B * L * KVH * Dh), V: f32v(a.v, B * L * KVH * Dh), kvStart: u32v(a.kvStart, B),
  };
}

export function attentionForwardCpu(a: AttentionForwardArgs, past: { value: number }): () => void {
  const v = views(a);
  const { B, S, H, KVH, Dh, g, scale, Q, K, V } = v;
  const O = f32v(a.out, B * S * H * Dh), LSE = f32v(a.lse, B * H * S);
  const sc = new Float64Array(a.L);
  const acc = new Float64Array(Dh);
  return () => {
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++) {
        const kvh = Math.floor(h / g);
        for (let s = 0; s < S; s++) {
          const lo = v.kvStart[b], hi = Math.min(past.value + s + 1, v.L);
          const qb = ((b * S + s) * H + h) * Dh;
          const row = (b * H + h) * S + s;
          if (hi <= lo) {
            O.fill(0, qb, qb + Dh);
            LSE[row] = 0;
            continue;
          }
          let m = -Infinity;
          for (let j = lo; j < hi; j++) {
            const kb = ((b * a.L + j) * KVH + kvh) * Dh;
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
            const vb = ((b * a.L + j) * KVH + kvh) * Dh;
            for (let d = 0; d < Dh; d++) acc[d] += p * V[vb + d];
          }
          for (let d = 0; d < Dh; d++) O[qb + d] = acc[d] / l;
          LSE[row] = m + Math.log(l);
        }
      }
  };
}

/** The backward's three ops: stats (LSE, D), dQ, and dK/dV (rows 0 … past+S−1 written, the rest untouched). */
export function attentionBackwardCpu(a: AttentionBackwardArgs, stats: import('../../tensor').Tensor): [() => void, () => void, () => void] {
  const v = views(a);
  const { B, S, H, KVH, Dh, L, g, scale, Q, K, V } = v;
  const past = a.past;
  const rows = B * H * S;
  const O = f32v(a.out, B * S * H * Dh), dO = f32v(a.dOut, B * S * H * Dh), LSE = f32v(a.lse, rows);
  const st = f32v(stats, 2 * rows);
  const dQ = f32v(a.dq, B * S * H * Dh), dK = f32v(a.dk, B * L * KVH * Dh), dV = f32v(a.dv, B * L * KVH * Dh);
  const prep = () => {
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++)
        for (let s = 0; s < S; s++) {
          const row = (b * H + h) * S + s;
          const base = ((b * S + s) * H + h) * Dh;
          let d = 0;
          for (let i = 0; i < Dh; i++) d += dO[base + i] * O[base + i];
          st[2 * row] = LSE[row];
          st[2 * row + 1] = d;
        }
  };
  // dQ and dK/dV each recompute the softmax weight p and ds = p·(dO·v − D) of every visible pair (as the
  // WGSL's two kernels do); one loop serves both, the flag chosen once per op (no callback per pair).
  const pass = (toQ: boolean) => {
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++) {
        const kvh = Math.floor(h / g);
        for (let s = 0; s < S; s++) {
          const lo = v.kvStart[b], hi = Math.min(past + s + 1, L);
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
            if (toQ) for (let d = 0; d < Dh; d++) dQ[qb + d] += c * K[kb + d];
            else
              for (let d = 0; d < Dh; d++) {
                dK[kb + d] += c * Q[qb + d];
                dV[kb + d] += p * dO[qb + d];
              }
          }
        }
      }
  };
  const dq = () => {
    dQ.fill(0);
    pass(true);
  };
  const dkv = () => {
    for (let b = 0; b < B; b++) {
      const from = b * L * KVH * Dh, to = (b * L + past + S) * KVH * Dh;
      dK.fill(0, from, to);
      dV.fill(0, from, to);
    }
    pass(false);
  };
  return [prep, dq, dkv];
}
