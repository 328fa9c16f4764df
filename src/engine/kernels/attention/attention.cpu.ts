/**
 * Causal attention on the CPU, the same three-part backward as the WGSL (stats, dQ, dK/dV) so the op
 * counts agree. Layouts as attention.ts: Q, O, dO [B, S, H, Dh]; K, V [B, L, KVH, Dh]; LSE [B, H, S];
 * stats [B, H, S, 2] = (LSE, Σ dO·O). Query s sits at position past + s and sees keys kvStart[b] ≤ j ≤ past + s;
 * query head h reads KV head ⌊h / (H/KVH)⌋. A row with no visible key gets O = 0 and LSE = 0.
 *
 * The work is split by (batch row, KV head) units, one run per thread, each a few products a query head
 * (attention_parts.cpu.ts).
 */
import { f32v, u32v, type CpuRuntime } from '../../cpu-runtime';
import type { Tensor } from '../../tensor';
import type { AttentionBackwardArgs, AttentionDims, AttentionForwardArgs } from './attention.types';
import { attentionDkvPart, attentionDqPart, attentionForwardPart } from './attention_parts.cpu';

type Views = { Q: Float32Array; K: Float32Array; V: Float32Array; kvStart: Uint32Array };

function views(a: AttentionDims & Pick<AttentionForwardArgs, 'q' | 'k' | 'v' | 'kvStart'>): Views {
  const { B, S, H, KVH, Dh, L } = a;
  return { Q: f32v(a.q, B * S * H * Dh), K: f32v(a.k, B * L * KVH * Dh), V: f32v(a.v, B * L * KVH * Dh), kvStart: u32v(a.kvStart, B) };
}

export function attentionForwardCpu(rt: CpuRuntime, a: AttentionForwardArgs, past: { value: number }): () => void {
  const { B, S, H, KVH, Dh, L } = a;
  const { Q, K, V, kvStart } = views(a);
  const O = f32v(a.out, B * S * H * Dh), LSE = f32v(a.lse, B * H * S);
  const units = rt.split(B * KVH, 2 * B * H * S * L * Dh);
  // Each part's P [S, L] and Vᵀ [Dh, L] (made once, here).
  const scratch = units.map(() => ({ P: rt.hostArray(Float32Array, S * L, 'attention P'), T: rt.hostArray(Float32Array, L * Dh, 'attention Vᵀ') }));
  return () =>
    rt.parallel(
      attentionForwardPart,
      units.map(([u0, u1], p) => [Q, K, V, kvStart, O, LSE, scratch[p].P, scratch[p].T, S, H, KVH, Dh, L, past.value, u0, u1]),
    );
}

/** The backward's three ops: stats (LSE, D), dQ, and dK/dV (rows 0 … past+S−1 written, the rest untouched). */
export function attentionBackwardCpu(rt: CpuRuntime, a: AttentionBackwardArgs, stats: Tensor): [() => void, () => void, () => void] {
  const { B, S, H, KVH, Dh, L, past } = a;
  const { Q, K, V, kvStart } = views(a);
  const rows = B * H * S;
  const O = f32v(a.out, B * S * H * Dh), dO = f32v(a.dOut, B * S * H * Dh), LSE = f32v(a.lse, rows);
  const st = f32v(stats, 2 * rows);
  const dQ = f32v(a.dq, B * S * H * Dh), dK = f32v(a.dk, B * L * KVH * Dh), dV = f32v(a.dv, B * L * KVH * Dh);
  const units = rt.split(B * KVH, 4 * B * H * S * L * Dh);
  // Each part's P and dP [S, L], transposes [L·max(S, Dh)] and [Dh·S], and LSE row [S] (made once, here).
  const f32 = (n: number, what: string) => rt.hostArray(Float32Array, n, `attention ${what}`);
  const scratch = units.map(() => ({ P: f32(S * L, 'P'), dP: f32(S * L, 'dP'), X: f32(L * Math.max(S, Dh), 'transpose'), Y: f32(Dh * S, 'transpose'), lse: f32(S, 'LSE') }));
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
  const dq = () =>
    rt.parallel(attentionDqPart, units.map(([u0, u1], p) => [Q, K, V, kvStart, dO, st, dQ, scratch[p].P, scratch[p].dP, scratch[p].X, scratch[p].lse, S, H, KVH, Dh, L, past, u0, u1]));
  const dkv = () =>
    rt.parallel(attentionDkvPart, units.map(([u0, u1], p) => [Q, K, V, kvStart, dO, st, dK, dV, scratch[p].P, scratch[p].dP, scratch[p].X, scratch[p].Y, scratch[p].lse, S, H, KVH, Dh, L, past, u0, u1]));
  return [prep, dq, dkv];
}
