// RoPE cases and checks the WGSL kernel (tests/gpu/rope.test.ts) and the CPU backend's version
// (tests/unit/cpu/attention-rope.test.ts) share: one case, two backends, the same tolerance.
import { expect } from 'vitest';
import { prepareRope, prepareRopeQkv, ropeInvFreq } from '../../src/engine/kernels/rope/rope';
import { ropeRef } from '../../src/engine/kernels/rope/rope.ref';
import type { Runtime } from '../../src/engine/runtime';
import { closeTo, randn } from './close';

export const ropeSpec = (Dh: number) => ({ headDim: Dh, ropeTheta: 10000, ropeScaling: null });

// θ is formed in f32 exactly as in the reference; cos/sin are ~1 ulp (f64 on the CPU), values ≤ ~3 in size.
export const ROPE_TOL = 1e-6;

/** [B, S, H, Dh]: one pair, odd head counts, a long head, Dh = 6 (an odd number of pairs). */
export const ROPE_SHAPES = [
  [1, 1, 1, 2],
  [2, 5, 3, 8],
  [3, 7, 2, 64],
  [2, 3, 3, 6],
] as const;

/**
 * Forward, backward, in place, and the backward undoing the forward (a rotation by −θ after +θ), with
 * each batch row starting at a different position (left padding, cache offsets), up to θ ≈ 2000 rad.
 */
export async function expectRopeAsRef(rt: Runtime, B: number, S: number, H: number, Dh: number): Promise<void> {
  const n = B * S * H * Dh;
  const x = randn(n, n, 2);
  const pos = Uint32Array.from({ length: B * S }, (_, t) => (t % S) + 997 * Math.floor(t / S) + 1);
  const inv = ropeInvFreq(ropeSpec(Dh));
  const X = rt.upload('x', x, [B, S, H, Dh]);
  const P = rt.upload('pos', pos, [B * S]);
  const I = rt.upload('inv', inv, [Dh / 2]);
  const Y = rt.tensor('y', [B, S, H, Dh]);
  const DX = rt.tensor('dx', [B, S, H, Dh]);
  const Z = rt.upload('z', x, [B, S, H, Dh]);
  const RT = rt.tensor('roundtrip', [B, S, H, Dh]);
  rt.run([
    prepareRope(rt, { x: X, out: Y, positions: P, invFreq: I, B, S, H, Dh }),
    prepareRope(rt, { x: X, out: DX, positions: P, invFreq: I, B, S, H, Dh, backward: true }),
    prepareRope(rt, { out: Z, positions: P, invFreq: I, B, S, H, Dh }),
    prepareRope(rt, { x: Y, out: RT, positions: P, invFreq: I, B, S, H, Dh, backward: true }),
  ]);
  const want = ropeRef(x, pos, inv, { B, S, H, Dh });
  let r = closeTo(await rt.readF32(Y), want, ROPE_TOL);
  expect(r.ok, r.worst).toBe(true);
  r = closeTo(await rt.readF32(Z), want, ROPE_TOL);
  expect(r.ok, 'in place ' + r.worst).toBe(true);
  r = closeTo(await rt.readF32(DX), ropeRef(x, pos, inv, { B, S, H, Dh, backward: true }), ROPE_TOL);
  expect(r.ok, 'backward ' + r.worst).toBe(true);
  r = closeTo(await rt.readF32(RT), x, 4 * ROPE_TOL);
  expect(r.ok, 'round trip ' + r.worst).toBe(true);
  expect(Array.from(await rt.readF32(X))).toEqual(Array.from(x));
}

/** Roped keys written into a cache [B, L, H, Dh] at rows past + s (llama3 frequencies), the other rows kept. */
export async function expectRopeIntoCacheAsRef(rt: Runtime): Promise<void> {
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
  const r = closeTo(await rt.readF32(cache), ropeRef(x, pos, inv, { B, S, H, Dh, L, past, into: cache0 }), ROPE_TOL);
  expect(r.ok, r.worst).toBe(true);
}

/**
 * prepareRopeQkv, one dispatch for a layer's new tokens: q roped in place, keys roped (and values copied,
 * withV) into the caches at past; setPast moves them (past 5, then 2), and a past beyond the cache is refused.
 */
export async function expectRopeQkvAsRef(rt: Runtime, withV: boolean): Promise<void> {
  const [B, S, H, KVH, Dh, L] = [2, 3, 6, 2, 10, 9];
  const q = randn(B * S * H * Dh, 7), k = randn(B * S * KVH * Dh, 8), v = randn(B * S * KVH * Dh, 9);
  const kc0 = randn(B * L * KVH * Dh, 10), vc0 = randn(B * L * KVH * Dh, 11);
  const inv = ropeInvFreq(ropeSpec(Dh));
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
  let kWant: Float64Array | Float32Array = kc0;
  const vWant = Float32Array.from(vc0);
  for (const past of [5, 2]) {
    rt.write(Q, q);
    const pos = Uint32Array.from({ length: B * S }, (_, t) => past + (t % S) + (t >= S ? 1 : 0));
    rt.write(POS, pos);
    op.setPast(past);
    rt.run([op]);
    let r = closeTo(await rt.readF32(Q), ropeRef(q, pos, inv, { B, S, H, Dh }), ROPE_TOL);
    expect(r.ok, `q ${r.worst}`).toBe(true);
    kWant = ropeRef(k, pos, inv, { B, S, H: KVH, Dh, L, past, into: kWant });
    r = closeTo(await rt.readF32(KC), kWant, ROPE_TOL);
    expect(r.ok, `k cache, past ${past}: ${r.worst}`).toBe(true);
    if (withV) for (let b = 0; b < B; b++) vWant.set(v.subarray(b * S * KVH * Dh, (b + 1) * S * KVH * Dh), (b * L + past) * KVH * Dh);
    expect(Array.from(await rt.readF32(VC)), 'v cache').toEqual(Array.from(vWant));
  }
  expect(() => op.setPast(L - S + 1)).toThrow(/exceeds/);
}
