// Attention cases the WGSL kernels (tests/gpu/attention.test.ts) and the CPU backend's version
// (tests/unit/cpu/attention-rope.test.ts) share: one case, two backends, the same tolerances. `split` and
// `tiled` pick a WebGPU variant (the CPU has one); the GPU test checks that the variant it expects ran.
import type { AttentionBackwardArgs, AttentionDims, AttentionForwardArgs } from '../../src/engine/kernels/attention/attention';
import type { Runtime } from '../../src/engine/runtime';
import { randn } from './close';

export interface AttentionCase extends AttentionDims {
  name: string;
  kvStart: number[];
  split?: 1 | 4;
  tiled?: boolean;
}

// Awkward shapes: GQA ratios 1, 3, 7; S and key counts not multiples of the 64-key tile; past > 0;
// left padding (including query rows with no valid key at all); a single decode token; Dh = 128, 12, 6, 1.
// prettier-ignore
export const ATTENTION_FORWARD: AttentionCase[] = [
  { name: 'MHA (g=1), tiny', B: 2, S: 5, H: 2, KVH: 2, Dh: 8, L: 5, past: 0, kvStart: [0, 0] },
  { name: 'g=3, S=70 crosses a tile', B: 1, S: 70, H: 3, KVH: 1, Dh: 16, L: 70, past: 0, kvStart: [0] },
  { name: 'g=3, S=70, Dh=12', B: 1, S: 70, H: 3, KVH: 1, Dh: 12, L: 70, past: 0, kvStart: [0] },
  { name: 'g=7, past=67, kvStart=5', B: 2, S: 3, H: 7, KVH: 1, Dh: 64, L: 80, past: 67, kvStart: [0, 5] },
  { name: 'decode S=1, past=130, Dh=128', B: 2, S: 1, H: 6, KVH: 2, Dh: 128, L: 150, past: 130, kvStart: [3, 0] },
  { name: 'left padding, fully masked rows, Dh=12', B: 2, S: 9, H: 4, KVH: 2, Dh: 12, L: 9, past: 0, kvStart: [0, 4] },
  { name: 'g=3 (H=6, KVH=2), past=4, kvStart=6 > past (rows with no key), Dh=6', B: 2, S: 5, H: 6, KVH: 2, Dh: 6, L: 12, past: 4, kvStart: [6, 1] },
  { name: 'Dh=1, S=1, L=1', B: 1, S: 1, H: 1, KVH: 1, Dh: 1, L: 1, past: 0, kvStart: [0] },
  // The 4-way key split (the default for S ≤ 4) forced on a prefill with left padding; decode without it.
  { name: 'split 4 forced, S=70, left padding', B: 2, S: 70, H: 2, KVH: 1, Dh: 16, L: 70, past: 0, kvStart: [0, 9], split: 4 },
  { name: 'decode with split 1, past=130', B: 1, S: 1, H: 3, KVH: 1, Dh: 64, L: 140, past: 130, kvStart: [0], split: 1 },
  // The row-tiled kernel (the default from S = 8): rows not a multiple of its 32-row tile, fewer rows than
  // a tile, keys not a multiple of the key tile, GQA, a cache with past, left padding, Dh = 128 and 4.
  { name: 'tiled: g=7, past=67, kvStart=5, S=3', B: 2, S: 3, H: 7, KVH: 1, Dh: 64, L: 80, past: 67, kvStart: [0, 5], tiled: true },
  { name: 'tiled: S=45, past=7, Dh=128, left padding', B: 2, S: 45, H: 4, KVH: 2, Dh: 128, L: 60, past: 7, kvStart: [0, 19] },
  { name: 'tiled: Dh=4, S=33', B: 1, S: 33, H: 2, KVH: 1, Dh: 4, L: 33, past: 0, kvStart: [0] },
  { name: 'one-row kernel on a prefill (tiled off), S=40', B: 1, S: 40, H: 3, KVH: 1, Dh: 16, L: 40, past: 0, kvStart: [0], tiled: false },
];

// prettier-ignore
export const ATTENTION_BACKWARD: AttentionCase[] = [
  { name: 'g=2, left padding (masked rows), Dh=12', B: 2, S: 9, H: 4, KVH: 2, Dh: 12, L: 9, past: 0, kvStart: [0, 3] },
  { name: 'g=3, S=70 crosses a tile', B: 1, S: 70, H: 3, KVH: 1, Dh: 16, L: 70, past: 0, kvStart: [0] },
  { name: 'g=3, S=70, Dh=12', B: 1, S: 70, H: 3, KVH: 1, Dh: 12, L: 70, past: 0, kvStart: [0] },
  { name: 'g=7, Dh=64', B: 1, S: 5, H: 7, KVH: 1, Dh: 64, L: 5, past: 0, kvStart: [0] },
  { name: 'g=1, past=4 (keys of the cache get gradients), L > past+S', B: 1, S: 3, H: 2, KVH: 2, Dh: 8, L: 10, past: 4, kvStart: [1] },
  { name: 'g=3, B=2, past=5, kvStart 7 > past: rows with no key', B: 2, S: 4, H: 3, KVH: 1, Dh: 12, L: 11, past: 5, kvStart: [7, 2] },
  // The row-tiled kernels are the default (Dh a multiple of 4); these cross their 32-row and key tiles.
  { name: 'tiled: g=2, S=45, past=7, Dh=128, left padding', B: 2, S: 45, H: 4, KVH: 2, Dh: 128, L: 60, past: 7, kvStart: [0, 19] },
  { name: 'tiled: g=3, S=33, Dh=4', B: 1, S: 33, H: 3, KVH: 1, Dh: 4, L: 33, past: 0, kvStart: [0] },
  { name: 'one-row kernels (tiled off), g=3, S=40', B: 1, S: 40, H: 3, KVH: 1, Dh: 16, L: 40, past: 0, kvStart: [2], tiled: false },
];

/** Queries [B, S, H, Dh], keys and values [B, L, KVH, Dh] of a case, from three seeds. */
export function attentionInputs(c: AttentionCase, seed: number) {
  return {
    q: randn(c.B * c.S * c.H * c.Dh, seed, 1),
    k: randn(c.B * c.L * c.KVH * c.Dh, seed + 1, 1),
    v: randn(c.B * c.L * c.KVH * c.Dh, seed + 2, 1),
  };
}

/**
 * A case's inputs (attentionInputs) uploaded to `rt`, with fresh output tensors: the forward's arguments
 * (q [B, S, H, Dh], k and v [B, L, KVH, Dh], out like q, lse [B, H, S]), and the inputs for the reference.
 */
export function attentionForwardArgs(rt: Runtime, c: AttentionCase, seed: number) {
  const x = attentionInputs(c, seed);
  const qs = [c.B, c.S, c.H, c.Dh];
  const ks = [c.B, c.L, c.KVH, c.Dh];
  const args: AttentionForwardArgs = {
    ...c,
    q: rt.upload('q', x.q, qs),
    k: rt.upload('k', x.k, ks),
    v: rt.upload('v', x.v, ks),
    kvStart: rt.upload('kvStart', new Uint32Array(c.kvStart), [c.B]),
    out: rt.tensor('o', qs),
    lse: rt.tensor('lse', [c.B, c.H, c.S]),
  };
  return { ...x, args };
}

/**
 * attentionForwardArgs (seed: the inputs), with the output gradient dO (seed 99) and fresh gradient tensors:
 * the backward's arguments. `gradFill` fills dk and dv first (to see which rows the backward writes).
 */
export function attentionBackwardArgs(rt: Runtime, c: AttentionCase, seed: number, gradFill?: number) {
  const { q, k, v, args: fwd } = attentionForwardArgs(rt, c, seed);
  const dO = randn(q.length, 99, 1);
  const qs = [c.B, c.S, c.H, c.Dh];
  const ks = [c.B, c.L, c.KVH, c.Dh];
  const grad = (label: string) => (gradFill === undefined ? rt.tensor(label, ks) : rt.upload(label, new Float32Array(k.length).fill(gradFill), ks));
  const bwd: AttentionBackwardArgs = { ...fwd, dOut: rt.upload('do', dO, qs), dq: rt.tensor('dq', qs), dk: grad('dk'), dv: grad('dv') };
  return { q, k, v, dO, fwd, bwd };
}

/** Query rows (b, h, s) that see no key: kvStart[b] > past + s. */
export function maskedRows(c: AttentionCase): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let b = 0; b < c.B; b++) for (let h = 0; h < c.H; h++) for (let s = 0; s < c.S; s++) if (c.kvStart[b] > c.past + s) out.push([b, h, s]);
  return out;
}
