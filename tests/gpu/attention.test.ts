import { describe, expect, it } from 'vitest';
import { prepareAttentionBackward, prepareAttentionForward, type AttentionDims } from '../../src/engine/kernels/attention/attention';
import { attentionBackwardRef, attentionForwardRef } from '../../src/engine/kernels/attention/attention.ref';
import { closeTo, randn, testRuntime } from '../helpers/gpu';

interface Case extends AttentionDims {
  name: string;
  kvStart: number[];
  split?: 1 | 4;
  tiled?: boolean;
}

// Awkward shapes: GQA ratios 1, 3, 7; S and key counts not multiples of the 64-key tile; past > 0;
// left padding (including query rows with no valid key at all); a single decode token; Dh = 128.
// prettier-ignore
const FORWARD: Case[] = [
  { name: 'MHA (g=1), tiny', B: 2, S: 5, H: 2, KVH: 2, Dh: 8, L: 5, past: 0, kvStart: [0, 0] },
  { name: 'g=3, S=70 crosses a tile', B: 1, S: 70, H: 3, KVH: 1, Dh: 16, L: 70, past: 0, kvStart: [0] },
  { name: 'g=7, past=67, kvStart=5', B: 2, S: 3, H: 7, KVH: 1, Dh: 64, L: 80, past: 67, kvStart: [0, 5] },
  { name: 'decode S=1, past=130, Dh=128', B: 2, S: 1, H: 6, KVH: 2, Dh: 128, L: 150, past: 130, kvStart: [3, 0] },
  { name: 'left padding, fully masked rows', B: 2, S: 9, H: 4, KVH: 2, Dh: 12, L: 9, past: 0, kvStart: [0, 4] },
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
const BACKWARD: Case[] = [
  { name: 'g=2, left padding', B: 2, S: 9, H: 4, KVH: 2, Dh: 12, L: 9, past: 0, kvStart: [0, 3] },
  { name: 'g=3, S=70 crosses a tile', B: 1, S: 70, H: 3, KVH: 1, Dh: 16, L: 70, past: 0, kvStart: [0] },
  { name: 'g=7, Dh=64', B: 1, S: 5, H: 7, KVH: 1, Dh: 64, L: 5, past: 0, kvStart: [0] },
  { name: 'g=1, past=4 (keys of the cache get gradients)', B: 1, S: 3, H: 2, KVH: 2, Dh: 8, L: 10, past: 4, kvStart: [1] },
  // The row-tiled kernels are the default (Dh a multiple of 4); these cross their 32-row and key tiles.
  { name: 'tiled: g=2, S=45, past=7, Dh=128, left padding', B: 2, S: 45, H: 4, KVH: 2, Dh: 128, L: 60, past: 7, kvStart: [0, 19] },
  { name: 'tiled: g=3, S=33, Dh=4', B: 1, S: 33, H: 3, KVH: 1, Dh: 4, L: 33, past: 0, kvStart: [0] },
  { name: 'one-row kernels (tiled off), g=3, S=40', B: 1, S: 40, H: 3, KVH: 1, Dh: 16, L: 40, past: 0, kvStart: [2], tiled: false },
];

function inputs(c: Case, seed: number) {
  const q = randn(c.B * c.S * c.H * c.Dh, seed, 1);
  const k = randn(c.B * c.L * c.KVH * c.Dh, seed + 1, 1);
  const v = randn(c.B * c.L * c.KVH * c.Dh, seed + 2, 1);
  return { q, k, v };
}

describe('attention forward (flash) against the CPU reference', () => {
  for (const c of FORWARD) {
    it(c.name, async () => {
      const rt = await testRuntime();
      const { q, k, v } = inputs(c, 11);
      const O = rt.tensor('o', [c.B, c.S, c.H, c.Dh]);
      const LSE = rt.tensor('lse', [c.B, c.H, c.S]);
      // Poison the outputs: every element must be written.
      rt.write(O, new Float32Array(O.shape.reduce((a, b) => a * b)).fill(NaN));
      const op = prepareAttentionForward(rt, {
        ...c,
        q: rt.upload('q', q, [c.B, c.S, c.H, c.Dh]),
        k: rt.upload('k', k, [c.B, c.L, c.KVH, c.Dh]),
        v: rt.upload('v', v, [c.B, c.L, c.KVH, c.Dh]),
        kvStart: rt.upload('kvStart', new Uint32Array(c.kvStart), [c.B]),
        out: O,
        lse: LSE,
      });
      expect(op.label.includes('_tiled')).toBe(c.tiled ?? (c.split === undefined && c.S >= 8 && c.Dh % 4 === 0));
      rt.run([op]);
      const want = attentionForwardRef(q, k, v, c);
      // f32 dot products of Dh terms and a softmax over ≤ 200 keys of O(1) values: errors ~1e-6 relative.
      const ro = closeTo(await rt.readF32(O), want.out, 2e-5, 1e-4);
      expect(ro.ok, ro.worst).toBe(true);
      const rl = closeTo(await rt.readF32(LSE), want.lse, 2e-5, 1e-5);
      expect(rl.ok, rl.worst).toBe(true);
      rt.destroy();
    });
  }

  it('decodes token after token by rewriting past, without allocating', async () => {
    const rt = await testRuntime();
    const c: Case = {
      name: '',
      B: 1,
      S: 1,
      H: 4,
      KVH: 2,
      Dh: 32,
      L: 20,
      past: 0,
      kvStart: [2],
    };
    const { k, v } = inputs(c, 5);
    const q = randn(c.H * c.Dh, 9);
    const O = rt.tensor('o', [1, 1, c.H, c.Dh]);
    const op = prepareAttentionForward(rt, {
      ...c,
      q: rt.upload('q', q, [1, 1, c.H, c.Dh]),
      k: rt.upload('k', k, [1, c.L, c.KVH, c.Dh]),
      v: rt.upload('v', v, [1, c.L, c.KVH, c.Dh]),
      kvStart: rt.upload('kvStart', new Uint32Array(c.kvStart), [1]),
      out: O,
      lse: rt.tensor('lse', [1, c.H, 1]),
    });
    const allocs = rt.counters.allocations;
    for (const past of [2, 9, 19]) {
      op.setPast(past);
      rt.run([op]);
      const want = attentionForwardRef(q, k, v, { ...c, past });
      const r = closeTo(await rt.readF32(O), want.out, 2e-5, 1e-4);
      expect(r.ok, `past ${past}: ${r.worst}`).toBe(true);
    }
    expect(rt.counters.allocations).toBe(allocs);
    expect(() => op.setPast(20)).toThrow(/exceeds the cache/);
    rt.destroy();
  });
});

describe('attention backward against the reference gradients', () => {
  for (const c of BACKWARD) {
    it(c.name, async () => {
      const rt = await testRuntime();
      const { q, k, v } = inputs(c, 21);
      const dO = randn(q.length, 99, 1);
      const qs = [c.B, c.S, c.H, c.Dh];
      const ks = [c.B, c.L, c.KVH, c.Dh];
      const Q = rt.upload('q', q, qs);
      const K = rt.upload('k', k, ks);
      const V = rt.upload('v', v, ks);
      const kvStart = rt.upload('kvStart', new Uint32Array(c.kvStart), [c.B]);
      const O = rt.tensor('o', qs);
      const LSE = rt.tensor('lse', [c.B, c.H, c.S]);
      const dQ = rt.tensor('dq', qs);
      const dK = rt.tensor('dk', ks);
      const dV = rt.tensor('dv', ks);
      // The backward reads what the forward reads and writes.
      const fwd = { ...c, q: Q, k: K, v: V, kvStart, out: O, lse: LSE };
      const ops = [
        prepareAttentionForward(rt, fwd),
        ...prepareAttentionBackward(rt, {
          ...fwd,
          dOut: rt.upload('do', dO, qs),
          dq: dQ,
          dk: dK,
          dv: dV,
        }),
      ];
      expect(ops.every((o) => o.label.includes('_tiled') === (c.tiled ?? true) || o.label.startsWith('attention_backward_prep') || o.label.startsWith('attention_forward'))).toBe(true);
      rt.run(ops);
      const want = attentionBackwardRef(q, k, v, dO, c);
      // Sums over ≤ 70 keys (× 7 heads for dK/dV) of O(1) products, recomputing P in f32.
      for (const [name, T, ref] of [
        ['dQ', dQ, want.dq],
        ['dK', dK, want.dk],
        ['dV', dV, want.dv],
      ] as const) {
        const r = closeTo(await rt.readF32(T), ref, 5e-5, 2e-4);
        expect(r.ok, `${name} ${r.worst}`).toBe(true);
      }
      rt.destroy();
    });
  }
});
