import { describe, expect, it } from 'vitest';
import { prepareRope, ropeInvFreq } from '../../src/engine/kernels/rope/rope';
import { ropeRef } from '../../src/engine/kernels/rope/rope.ref';
import { closeTo, randn, testRuntime } from '../helpers/gpu';
import { dot, fdGrad } from '../helpers/fd';
import { expectRopeAsRef, expectRopeIntoCacheAsRef, expectRopeQkvAsRef, ROPE_SHAPES, ropeSpec } from '../helpers/rope-cases';

describe('rope reference', () => {
  it('backward (rotation by −θ) is the gradient: matches central differences (f64)', () => {
    const [B, S, H, Dh] = [1, 3, 2, 4];
    const pos = [0, 5, 9];
    const inv = ropeInvFreq(ropeSpec(Dh));
    const x = randn(B * S * H * Dh, 1);
    const dy = randn(B * S * H * Dh, 2);
    const fd = fdGrad((xx) => dot(ropeRef(xx, pos, inv, { B, S, H, Dh }), dy), x);
    // Linear in x: f64 central differences are exact up to rounding ≈ 1e-10.
    const r = closeTo(ropeRef(dy, pos, inv, { B, S, H, Dh, backward: true }), fd, 1e-8, 1e-7);
    expect(r.ok, r.worst).toBe(true);
  });
});

describe('rope on the GPU', () => {
  for (const [B, S, H, Dh] of ROPE_SHAPES)
    it(`forward, backward, in place and round trip B=${B} S=${S} H=${H} Dh=${Dh}`, async () => {
      const rt = await testRuntime();
      await expectRopeAsRef(rt, B, S, H, Dh);
      rt.destroy();
    });

  it('writes roped keys into a KV cache [B, L, KVH, Dh] at rows past + s (llama3 frequencies)', async () => {
    const rt = await testRuntime();
    await expectRopeIntoCacheAsRef(rt);
    rt.destroy();
  });

  for (const withV of [true, false])
    it(`one dispatch for a layer's new tokens: q in place, keys roped${withV ? ', values copied' : ''} into the caches; past settable`, async () => {
      const rt = await testRuntime();
      await expectRopeQkvAsRef(rt, withV);
      rt.destroy();
    });

  it('refuses rows past the cache', async () => {
    const rt = await testRuntime();
    const t = rt.tensor('t', [16]);
    expect(() => prepareRope(rt, { x: t, out: t, positions: t, invFreq: t, B: 1, S: 2, H: 1, Dh: 2, L: 2, past: 1 })).toThrow(/exceed/);
    rt.destroy();
  });
});
