// The CPU backend's attention (attention.cpu.ts) and RoPE (rope.cpu.ts, prepareRopeQkv, kv-cache.ts's
// prepareRopeAppend) against the f64 references, on the cases tests/helpers/attention-cases.ts and
// tests/helpers/rope-cases.ts share with tests/gpu/attention.test.ts and tests/gpu/rope.test.ts, with their tolerances.
import { describe, expect, it } from 'vitest';
import { CpuRuntime } from '../../../src/engine/cpu-runtime';
import { prepareAttentionBackward, prepareAttentionForward } from '../../../src/engine/kernels/attention/attention';
import { attentionBackwardRef, attentionForwardRef } from '../../../src/engine/kernels/attention/attention.ref';
import { prepareRope, ropeInvFreq } from '../../../src/engine/kernels/rope/rope';
import { ropeRef } from '../../../src/engine/kernels/rope/rope.ref';
import { prepareRopeAppend } from '../../../src/model/kv-cache';
import { closeTo, randn } from '../../helpers/close';
import { ATTENTION_BACKWARD, ATTENTION_FORWARD, attentionBackwardArgs, attentionForwardArgs, attentionInputs, maskedRows, type AttentionCase } from '../../helpers/attention-cases';
import { expectRopeAsRef, expectRopeIntoCacheAsRef, expectRopeQkvAsRef, ROPE_SHAPES, ROPE_TOL, ropeSpec } from '../../helpers/rope-cases';

describe('CPU attention forward against the reference', () => {
  for (const c of ATTENTION_FORWARD)
    it(c.name, async () => {
      const rt = new CpuRuntime();
      const { q, k, v, args } = attentionForwardArgs(rt, c, 11);
      const { out: O, lse: LSE } = args;
      // Poison the outputs: every element must be written (masked rows as 0).
      rt.write(O, new Float32Array(c.B * c.S * c.H * c.Dh).fill(NaN));
      rt.write(LSE, new Float32Array(c.B * c.H * c.S).fill(NaN));
      const op = prepareAttentionForward(rt, args);
      rt.run([op]);
      const want = attentionForwardRef(q, k, v, c);
      const o = await rt.readF32(O);
      const lse = await rt.readF32(LSE);
      const ro = closeTo(o, want.out, 2e-5, 1e-4);
      expect(ro.ok, ro.worst).toBe(true);
      const rl = closeTo(lse, want.lse, 2e-5, 1e-5);
      expect(rl.ok, rl.worst).toBe(true);
      for (const [b, h, s] of maskedRows(c)) {
        expect(lse[(b * c.H + h) * c.S + s]).toBe(0);
        const at = ((b * c.S + s) * c.H + h) * c.Dh;
        expect(Array.from(o.subarray(at, at + c.Dh)).every((x) => x === 0)).toBe(true);
      }
    });

  it('the masked-row cases do have masked rows', () => {
    const named = (cases: AttentionCase[], name: string) => cases.find((c) => c.name === name)!;
    expect(maskedRows(named(ATTENTION_FORWARD, 'left padding, fully masked rows, Dh=12')).length).toBeGreaterThan(0);
    expect(maskedRows(named(ATTENTION_FORWARD, 'g=3 (H=6, KVH=2), past=4, kvStart=6 > past (rows with no key), Dh=6')).length).toBeGreaterThan(0);
    expect(maskedRows(named(ATTENTION_BACKWARD, 'g=3, B=2, past=5, kvStart 7 > past: rows with no key')).length).toBeGreaterThan(0);
  });

  it('decodes token after token by moving past, without allocating; refuses a past beyond the cache', async () => {
    const rt = new CpuRuntime();
    const c: AttentionCase = { name: '', B: 2, S: 1, H: 6, KVH: 2, Dh: 12, L: 20, past: 0, kvStart: [2, 0] };
    const { k, v } = attentionInputs(c, 5);
    const q = randn(c.B * c.H * c.Dh, 9);
    const O = rt.tensor('o', [c.B, 1, c.H, c.Dh]);
    const LSE = rt.tensor('lse', [c.B, c.H, 1]);
    const op = prepareAttentionForward(rt, {
      ...c, q: rt.upload('q', q, [c.B, 1, c.H, c.Dh]), k: rt.upload('k', k, [c.B, c.L, c.KVH, c.Dh]), v: rt.upload('v', v, [c.B, c.L, c.KVH, c.Dh]),
      kvStart: rt.upload('kvStart', new Uint32Array(c.kvStart), [c.B]), out: O, lse: LSE,
    });
    const allocs = rt.counters.allocations;
    for (const past of [2, 9, 19, 0]) {
      op.setPast(past);
      rt.run([op]);
      const want = attentionForwardRef(q, k, v, { ...c, past });
      const r = closeTo(await rt.readF32(O), want.out, 2e-5, 1e-4);
      expect(r.ok, `past ${past}: ${r.worst}`).toBe(true);
      const rl = closeTo(await rt.readF32(LSE), want.lse, 2e-5, 1e-5);
      expect(rl.ok, `past ${past}: ${rl.worst}`).toBe(true);
    }
    expect(rt.counters.allocations).toBe(allocs);
    expect(() => op.setPast(20)).toThrow(/exceeds the cache/);
  });

  it('refuses a head dim past 128, H not a multiple of KVH, and past + S beyond L', () => {
    const rt = new CpuRuntime();
    const t = rt.tensor('t', [4]);
    const base = { q: t, k: t, v: t, kvStart: t, out: t, lse: t, B: 1, S: 1, H: 2, KVH: 1, Dh: 8, L: 4, past: 0 };
    expect(() => prepareAttentionForward(rt, { ...base, Dh: 129 })).toThrow(/head dim/);
    expect(() => prepareAttentionForward(rt, { ...base, H: 3, KVH: 2 })).toThrow(/multiple/);
    expect(() => prepareAttentionForward(rt, { ...base, past: 4 })).toThrow(/exceeds/);
  });
});

describe('CPU attention backward against the reference gradients', () => {
  for (const c of ATTENTION_BACKWARD)
    it(c.name, async () => {
      const rt = new CpuRuntime();
      // dK, dV poisoned: rows < past + S are written (overwritten), rows after them left alone.
      const { q, k, v, dO, fwd, bwd } = attentionBackwardArgs(rt, c, 21, 7);
      rt.write(bwd.dq, new Float32Array(q.length).fill(NaN));
      const ops = [prepareAttentionForward(rt, fwd), ...prepareAttentionBackward(rt, bwd)];
      expect(ops.length).toBe(4); // forward + stats, dQ, dK/dV: the WebGPU op count
      rt.run(ops);
      rt.run(ops); // again: nothing accumulates between runs
      const want = attentionBackwardRef(q, k, v, dO, c);
      const row = c.KVH * c.Dh;
      const written = (x: ArrayLike<number>, fill: number) =>
        Float64Array.from(x, (val, i) => (Math.floor(i / row) % c.L < c.past + c.S ? val : fill));
      for (const [name, T, ref, after] of [
        ['dQ', bwd.dq, want.dq, null],
        ['dK', bwd.dk, want.dk, 7],
        ['dV', bwd.dv, want.dv, 7],
      ] as const) {
        const r = closeTo(await rt.readF32(T), after === null ? ref : written(ref, after), 5e-5, 2e-4);
        expect(r.ok, `${name} ${r.worst}`).toBe(true);
      }
    });
});

describe('CPU rope against ropeRef', () => {
  for (const [B, S, H, Dh] of ROPE_SHAPES)
    it(`forward, backward, in place and round trip B=${B} S=${S} H=${H} Dh=${Dh}`, () => expectRopeAsRef(new CpuRuntime(), B, S, H, Dh));

  it('writes roped keys into a cache [B, L, H, Dh] at rows past + s (llama3 frequencies), the other rows kept', () =>
    expectRopeIntoCacheAsRef(new CpuRuntime()));

  it('prepareRopeAppend (kv-cache.ts): rows move with setPast, nothing allocated, a past beyond L refused', async () => {
    const rt = new CpuRuntime();
    const [B, S, H, Dh, L] = [2, 2, 3, 6, 7];
    const x = randn(B * S * H * Dh, 15);
    const inv = ropeInvFreq(ropeSpec(Dh));
    const cache0 = randn(B * L * H * Dh, 16);
    const cache = rt.upload('cache', cache0, [B, L, H, Dh]);
    const P = rt.tensor('pos', [B * S], 'u32');
    const op = prepareRopeAppend(rt, { x: rt.upload('x', x, [B, S, H, Dh]), out: cache, positions: P, invFreq: rt.upload('inv', inv, [Dh / 2]), B, S, H, Dh, L, past: 0 });
    const allocs = rt.counters.allocations;
    let into: Float64Array | Float32Array = cache0;
    for (const past of [0, 3, 5]) {
      const pos = Uint32Array.from({ length: B * S }, (_, t) => past + (t % S) + 2 * Math.floor(t / S));
      rt.write(P, pos);
      op.setPast(past);
      rt.run([op]);
      into = ropeRef(x, pos, inv, { B, S, H, Dh, L, past, into });
      const r = closeTo(await rt.readF32(cache), into, ROPE_TOL);
      expect(r.ok, `past ${past}: ${r.worst}`).toBe(true);
    }
    expect(rt.counters.allocations).toBe(allocs);
    expect(() => op.setPast(L - S + 1)).toThrow(/exceed/);
  });

  for (const withV of [true, false])
    it(`prepareRopeQkv: q in place, keys roped${withV ? ', values copied' : ''} into the caches at past; setPast moves them`, () =>
      expectRopeQkvAsRef(new CpuRuntime(), withV));

  it('refuses an odd head dim, rows past the cache, and in place with an offset', () => {
    const rt = new CpuRuntime();
    const t = rt.tensor('t', [16]);
    expect(() => prepareRope(rt, { x: t, out: t, positions: t, invFreq: t, B: 1, S: 2, H: 1, Dh: 2, L: 2, past: 1 })).toThrow(/exceed/);
    expect(() => prepareRope(rt, { x: t, out: t, positions: t, invFreq: t, B: 1, S: 1, H: 1, Dh: 3 })).toThrow(/even/);
    expect(() => prepareRope(rt, { out: t, positions: t, invFreq: t, B: 1, S: 1, H: 1, Dh: 2, L: 2, past: 1 })).toThrow(/in-place/);
  });
});
