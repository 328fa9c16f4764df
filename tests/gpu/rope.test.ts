import { describe, expect, it } from 'vitest';
import { prepareRope, prepareRopeQkv, ropeInvFreq } from '../../src/engine/kernels/rope/rope';
import { ropeRef } from '../../src/engine/kernels/rope/rope.ref';
import { closeTo, randn, testRuntime } from '../helpers/gpu';
import { dot, fdGrad } from '../helpers/fd';

const spec = (Dh: number) => ({ headDim: Dh, ropeTheta: 10000, ropeScaling: null });

describe('rope reference', () => {
  it('backward (rotation by −θ) is the gradient: matches central differences (f64)', () => {
    const [B, S, H, Dh] = [1, 3, 2, 4];
    const pos = [0, 5, 9];
    const inv = ropeInvFreq(spec(Dh));
    const x = randn(B * S * H * Dh, 1);
    const dy = randn(B * S * H * Dh, 2);
    const fd = fdGrad((xx) => dot(ropeRef(xx, pos, inv, { B, S, H, Dh }), dy), x);
    // Linear in x: f64 central differences are exact up to rounding ≈ 1e-10.
    const r = closeTo(ropeRef(dy, pos, inv, { B, S, H, Dh, backward: true }), fd, 1e-8, 1e-7);
    expect(r.ok, r.worst).toBe(true);
  });
});

// θ is formed in f32 exactly as in the reference; the kernel's cos/sin are ~1 ulp, values ≤ ~3 in size.
const TOL = 1e-6;

describe('rope on the GPU', () => {
  for (const [B, S, H, Dh] of [
    [1, 1, 1, 2],
    [2, 5, 3, 8],
    [3, 7, 2, 64],
  ]) {
    it(`forward, backward and in place B=${B} S=${S} H=${H} Dh=${Dh}`, async () => {
      const rt = await testRuntime();
      const n = B * S * H * Dh;
      const x = randn(n, n, 2);
      // Each batch row starts at a different position (left padding, cache offsets), up to θ ≈ 2000 rad.
      const pos = Uint32Array.from({ length: B * S }, (_, t) => (t % S) + 997 * Math.floor(t / S) + 1);
      const inv = ropeInvFreq({ headDim: Dh, ropeTheta: 10000, ropeScaling: null });
      const X = rt.upload('x', x, [B, S, H, Dh]);
      const P = rt.upload('pos', pos, [B * S]);
      const I = rt.upload('inv', inv, [Dh / 2]);
      const Y = rt.tensor('y', [B, S, H, Dh]);
      const DX = rt.tensor('dx', [B, S, H, Dh]);
      const Z = rt.upload('z', x, [B, S, H, Dh]);
      rt.run([
        prepareRope(rt, { x: X, out: Y, positions: P, invFreq: I, B, S, H, Dh }),
        prepareRope(rt, { x: X, out: DX, positions: P, invFreq: I, B, S, H, Dh, backward: true }),
        prepareRope(rt, { out: Z, positions: P, invFreq: I, B, S, H, Dh }),
      ]);
      const want = ropeRef(x, pos, inv, { B, S, H, Dh });
      let r = closeTo(await rt.readF32(Y), want, TOL);
      expect(r.ok, r.worst).toBe(true);
      r = closeTo(await rt.readF32(Z), want, TOL);
      expect(r.ok, r.worst).toBe(true);
      r = closeTo(await rt.readF32(DX), ropeRef(x, pos, inv, { B, S, H, Dh, backward: true }), TOL);
      expect(r.ok, r.worst).toBe(true);
      rt.destroy();
    });
  }

  it('writes roped keys into a KV cache [B, L, KVH, Dh] at rows past + s (llama3 frequencies)', async () => {
    const rt = await testRuntime();
    const [B, S, H, Dh, L, past] = [2, 3, 2, 16, 8, 4];
    const x = randn(B * S * H * Dh, 5);
    const cache0 = randn(B * L * H * Dh, 6);
    const pos = Uint32Array.from({ length: B * S }, (_, t) => past + (t % S));
    const inv = ropeInvFreq({
      headDim: Dh,
      ropeTheta: 500000,
      ropeScaling: { factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 },
    });
    const cache = rt.upload('cache', cache0, [B, L, H, Dh]);
    const op = prepareRope(rt, {
      x: rt.upload('x', x, [B, S, H, Dh]),
      out: cache,
      positions: rt.upload('pos', pos, [B * S]),
      invFreq: rt.upload('inv', inv, [Dh / 2]),
      B, S, H, Dh, L, past,
    });
    rt.run([op]);
    const want = ropeRef(x, pos, inv, { B, S, H, Dh, L, past, into: cache0 });
    const r = closeTo(await rt.readF32(cache), want, TOL);
    expect(r.ok, r.worst).toBe(true);
    rt.destroy();
  });

  for (const withV of [true, false]) {
    it(`one dispatch for a layer's new tokens: q in place, keys roped${withV ? ', values copied' : ''} into the caches; past settable`, async () => {
      const rt = await testRuntime();
      const [B, S, H, KVH, Dh, L] = [2, 3, 6, 2, 10, 9];
      const q = randn(B * S * H * Dh, 7);
      const k = randn(B * S * KVH * Dh, 8);
      const v = randn(B * S * KVH * Dh, 9);
      const kc0 = randn(B * L * KVH * Dh, 10);
      const vc0 = randn(B * L * KVH * Dh, 11);
      const inv = ropeInvFreq(spec(Dh));
      const Q = rt.upload('q', q, [B, S, H, Dh]);
      const KC = rt.upload('kc', kc0, [B, L, KVH, Dh]);
      const VC = rt.upload('vc', vc0, [B, L, KVH, Dh]);
      const POS = rt.tensor('pos', [B * S], 'u32');
      const op = prepareRopeQkv(rt, {
        q: Q, k: rt.upload('k', k, [B, S, KVH, Dh]), kCache: KC, positions: POS, invFreq: rt.upload('inv', inv, [Dh / 2]),
        ...(withV ? { v: rt.upload('v', v, [B, S, KVH, Dh]), vCache: VC } : {}),
        B, S, H, KVH, Dh, L, past: 0,
      });
      expect(op.label.startsWith(withV ? 'rope_qkv' : 'rope_qk ')).toBe(true);
      const past = 5;
      const pos = Uint32Array.from({ length: B * S }, (_, t) => past + (t % S) + (t >= S ? 1 : 0));
      rt.write(POS, pos);
      op.setPast(past);
      rt.run([op]);
      let r = closeTo(await rt.readF32(Q), ropeRef(q, pos, inv, { B, S, H, Dh }), TOL);
      expect(r.ok, `q ${r.worst}`).toBe(true);
      r = closeTo(await rt.readF32(KC), ropeRef(k, pos, inv, { B, S, H: KVH, Dh, L, past, into: kc0 }), TOL);
      expect(r.ok, `k cache ${r.worst}`).toBe(true);
      const vWant = Float32Array.from(vc0);
      if (withV) for (let b = 0; b < B; b++) vWant.set(v.subarray(b * S * KVH * Dh, (b + 1) * S * KVH * Dh), (b * L + past) * KVH * Dh);
      r = closeTo(await rt.readF32(VC), vWant, 1e-9);
      expect(r.ok, `v cache ${r.worst}`).toBe(true);
      expect(() => op.setPast(L - S + 1)).toThrow(/exceeds/);
      rt.destroy();
    });
  }

  it('refuses rows past the cache', async () => {
    const rt = await testRuntime();
    const t = rt.tensor('t', [16]);
    expect(() => prepareRope(rt, { x: t, out: t, positions: t, invFreq: t, B: 1, S: 2, H: 1, Dh: 2, L: 2, past: 1 })).toThrow(/exceed/);
    rt.destroy();
  });
});
