import { describe, expect, it } from 'vitest';
import { prepareAttentionBackward, prepareAttentionForward } from '../../src/engine/kernels/attention/attention';
import { attentionBackwardRef, attentionForwardRef } from '../../src/engine/kernels/attention/attention.ref';
import { closeTo, randn, testRuntime } from '../helpers/gpu';
import { ATTENTION_BACKWARD, ATTENTION_FORWARD, attentionBackwardArgs, attentionForwardArgs, attentionInputs, type AttentionCase } from '../helpers/attention-cases';

describe('attention forward (flash) against the CPU reference', () => {
  for (const c of ATTENTION_FORWARD) {
    it(c.name, async () => {
      const rt = await testRuntime();
      const { q, k, v, args } = attentionForwardArgs(rt, c, 11);
      const { out: O, lse: LSE } = args;
      // Poison the outputs: every element must be written.
      rt.write(O, new Float32Array(O.shape.reduce((a, b) => a * b)).fill(NaN));
      const op = prepareAttentionForward(rt, args);
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
    const c: AttentionCase = {
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
    const { k, v } = attentionInputs(c, 5);
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
  for (const c of ATTENTION_BACKWARD) {
    it(c.name, async () => {
      const rt = await testRuntime();
      // The backward reads what the forward reads and writes.
      const { q, k, v, dO, fwd, bwd } = attentionBackwardArgs(rt, c, 21);
      const ops = [prepareAttentionForward(rt, fwd), ...prepareAttentionBackward(rt, bwd)];
      expect(ops.every((o) => o.label.includes('_tiled') === (c.tiled ?? true) || o.label.startsWith('attention_backward_prep') || o.label.startsWith('attention_forward'))).toBe(true);
      rt.run(ops);
      const want = attentionBackwardRef(q, k, v, dO, c);
      // Sums over ≤ 70 keys (× 7 heads for dK/dV) of O(1) products, recomputing P in f32.
      for (const [name, T, ref] of [
        ['dQ', bwd.dq, want.dq],
        ['dK', bwd.dk, want.dk],
        ['dV', bwd.dv, want.dv],
      ] as const) {
        const r = closeTo(await rt.readF32(T), ref, 5e-5, 2e-4);
        expect(r.ok, `${name} ${r.worst}`).toBe(true);
      }
      rt.destroy();
    });
  }
});
