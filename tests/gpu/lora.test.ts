import { describe, expect, it } from 'vitest';
import { prepareLoraForward } from '../../src/engine/kernels/lora/lora';
import { dropoutMaskRef, loraBackwardRef, loraForwardRef, type LoraRefDims } from '../../src/engine/kernels/lora/lora.ref';
import { alignElems } from '../../src/engine/runtime';
import { closeTo, randn, testRuntime } from '../helpers/gpu';
import { dot, fdGrad } from '../helpers/fd';
import { expectLoraLinearAsRef, LORA_CASES, type LoraCase } from '../helpers/kernel-cases';

describe('lora reference', () => {
  it('analytic dX, dA, dB match central differences (f64), with dropout', () => {
    const d: LoraRefDims = { T: 3, inDim: 5, outDim: 4, rank: 2, scale: 1.5, dropout: { p: 0.3, seed: 7, step: 2, salt: 1 } };
    const x = randn(15, 1);
    const w = randn(20, 2);
    const A = randn(10, 3);
    const B = randn(8, 4);
    const dy = randn(12, 5);
    const an = loraBackwardRef(x, w, A, B, dy, d);
    const L = (xx: Num, AA: Num, BB: Num) => dot(loraForwardRef(xx, w, undefined, AA, BB, d).y, dy);
    // f64 central differences of a function that is linear in each argument: exact up to ~1e-10 rounding.
    for (const [got, fd] of [
      [an.dx, fdGrad((v) => L(v, A, B), x)],
      [an.dA, fdGrad((v) => L(x, v, B), A)],
      [an.dB, fdGrad((v) => L(x, A, v), B)],
    ]) {
      const r = closeTo(got, fd, 1e-8, 1e-7);
      expect(r.ok, r.worst).toBe(true);
    }
  });

  it('the dropout mask drops about p of the elements and depends on step and salt', () => {
    const base: LoraRefDims = { T: 50, inDim: 40, outDim: 1, rank: 1, scale: 1, dropout: { p: 0.25, seed: 1, step: 0, salt: 0 } };
    const m = dropoutMaskRef(base);
    const dropped = m.filter((v) => v === 0).length / m.length;
    expect(Math.abs(dropped - 0.25)).toBeLessThan(0.04); // 2000 draws: σ ≈ 0.01
    const m2 = dropoutMaskRef({ ...base, dropout: { ...base.dropout!, step: 1 } });
    const m3 = dropoutMaskRef({ ...base, dropout: { ...base.dropout!, salt: 1 } });
    expect(m2.some((v, i) => v !== m[i])).toBe(true);
    expect(m3.some((v, i) => v !== m[i])).toBe(true);
  });
});

type Num = ArrayLike<number>;

// The shared cases, and f16 base weights and decode-sized (gemv) base matmuls.
const CASES: LoraCase[] = [
  ...LORA_CASES,
  { rank: 8, T: 17, inDim: 35, outDim: 21, p: 0.1, f16: true, bias: true },
  { rank: 4, T: 3, inDim: 24, outDim: 10, p: 0, f16: true, bias: true }, // gemv base matmul (decode-sized)
  { rank: 2, T: 5, inDim: 16, outDim: 9, p: 0.2, f16: false, bias: false }, // gemv, f32 weight
];

describe('lora linear on the GPU', () => {
  for (const c of CASES)
    it(`r=${c.rank} T=${c.T} in=${c.inDim} out=${c.outDim} p=${c.p} W ${c.f16 ? 'f16' : 'f32'}`, async () => {
      const rt = await testRuntime();
      // Views start at multiples of the storage offset alignment.
      await expectLoraLinearAsRef(rt, c, (aSize) => ({ a: 0, b: alignElems(aSize), end: alignElems(aSize) }));
      rt.destroy();
    });

  it('forward can add into the residual stream (accumulate)', async () => {
    const rt = await testRuntime();
    const [T, inDim, outDim, rank] = [5, 6, 7, 2];
    const d = { T, inDim, outDim, rank, scale: 2 };
    const x = randn(T * inDim, 1);
    const w = randn(outDim * inDim, 2);
    const A = randn(rank * inDim, 3);
    const B = randn(outDim * rank, 4);
    const y0 = randn(T * outDim, 5);
    const Y = rt.upload('y', y0, [T, outDim]);
    rt.run(
      prepareLoraForward(rt, {
        ...d, x: rt.upload('x', x, [T, inDim]), weight: rt.upload('w', w, [outDim, inDim]), loraA: rt.upload('A', A, [rank, inDim]),
        loraB: rt.upload('B', B, [outDim, rank]), u: rt.tensor('u', [T, rank]), y: Y, accumulate: true,
      }),
    );
    const want = loraForwardRef(x, w, undefined, A, B, d).y.map((v, i) => v + y0[i]);
    // f32 sums over in = 6 terms of size ≤ 1: ~1e-6.
    const r = closeTo(await rt.readF32(Y), want, 1e-5, 1e-5);
    expect(r.ok, r.worst).toBe(true);
    rt.destroy();
  });

  it('a different step draws a different mask (the state buffer is read at run time)', async () => {
    const rt = await testRuntime();
    const [T, inDim, outDim, rank] = [4, 8, 3, 2];
    const state = rt.upload('dropout', new Uint32Array([9, 0]), [2]);
    const X = rt.upload('x', randn(T * inDim, 1), [T, inDim]);
    const U = rt.tensor('u', [T, rank]);
    const ops = prepareLoraForward(rt, {
      T, inDim, outDim, rank, scale: 1, dropout: { p: 0.5, state, salt: 0 },
      x: X, weight: rt.upload('w', randn(outDim * inDim, 2), [outDim, inDim]), loraA: rt.upload('A', randn(rank * inDim, 3), [rank, inDim]),
      loraB: rt.tensor('B', [outDim, rank]), u: U, y: rt.tensor('y', [T, outDim]),
    });
    rt.run(ops);
    const u0 = await rt.readF32(U);
    rt.write(state, new Uint32Array([9, 1]));
    rt.run(ops);
    const u1 = await rt.readF32(U);
    expect(Array.from(u1)).not.toEqual(Array.from(u0));
    rt.destroy();
  });
});
