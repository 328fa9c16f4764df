// The CPU backend's row and elementwise kernels, the fused LM head + cross-entropy, scoring and AdamW
// against the f64 references, on the cases tests/gpu/{rmsnorm,swiglu,embedding,elementwise,cross_entropy,
// scoring,adamw}.test.ts give the WGSL versions, with their tolerances (those of rmsnorm, elementwise,
// cross_entropy and adamw shared with them from tests/helpers).
import { describe, expect, it } from 'vitest';
import { CpuRuntime } from '../../../src/engine/cpu-runtime';
import { prepareRmsNorm, prepareRmsNormBackward } from '../../../src/engine/kernels/rmsnorm/rmsnorm';
import { prepareSwiglu, prepareSwigluBackward } from '../../../src/engine/kernels/swiglu/swiglu';
import { swigluBackwardRef, swigluRef } from '../../../src/engine/kernels/swiglu/swiglu.ref';
import { prepareEmbedding, prepareRowGather } from '../../../src/engine/kernels/embedding/embedding';
import { embeddingRef } from '../../../src/engine/kernels/embedding/embedding.ref';
import { prepareAdd } from '../../../src/engine/kernels/elementwise/elementwise';
import { IGNORE_INDEX, prepareCrossEntropy } from '../../../src/engine/kernels/cross_entropy/cross_entropy';
import { crossEntropyRef, logitsRef } from '../../../src/engine/kernels/cross_entropy/cross_entropy.ref';
import { prepareCandidateLogProbs, prepareFullLogits, prepareTargetLogProbs } from '../../../src/engine/kernels/scoring/scoring';
import { candidateLogProbsRef } from '../../../src/engine/kernels/scoring/scoring.ref';
import { expectAdamWClipsAsRef, expectAdamWSkipsNonFinite, expectAdamWUnclippedAsRef, expectTrainStatusReports } from '../../helpers/adamw-cases';
import { closeTo, randn } from '../../helpers/close';
import { CROSS_ENTROPY_CASES, expectCrossEntropyAsRef, expectCrossEntropyForwardOnly } from '../../helpers/cross-entropy-cases';
import { ELEMENTWISE_SIZES, expectElementwiseAsRef } from '../../helpers/elementwise-cases';
import { dot, fdGrad } from '../../helpers/fd';
import { expectRmsNormAsRef, expectSwigluAsRef, RMSNORM_SHAPES, SWIGLU_SHAPES } from '../../helpers/kernel-cases';

const EPS = 1e-5;

describe('CPU rmsnorm', () => {
  for (const [T, D] of RMSNORM_SHAPES)
    it(`forward, backward and backward accumulate T=${T} D=${D}`, () => expectRmsNormAsRef(new CpuRuntime(), T, D, EPS));

  it('the backward is the gradient of the forward (central differences through the CPU forward)', async () => {
    const rt = new CpuRuntime();
    const [T, D] = [2, 5];
    const x = randn(T * D, 1), w = randn(D, 2), dy = randn(T * D, 3);
    const X = rt.upload('x', x, [T, D]), Y = rt.tensor('y', [T, D]), R = rt.tensor('rstd', [T]), DX = rt.tensor('dx', [T, D]);
    const W = rt.upload('w', w, [D]);
    const fwd = prepareRmsNorm(rt, { x: X, weight: W, y: Y, rstd: R, T, D, eps: EPS });
    rt.run([fwd, prepareRmsNormBackward(rt, { x: X, weight: W, rstd: R, dy: rt.upload('dy', dy, [T, D]), dx: DX, T, D })]);
    const got = await rt.readF32(DX);
    // f32 forward: h = 1e-2 keeps the rounding (~1e-7/h) below the O(h²) truncation of a smooth function.
    const view = new Float32Array((X.buffer as { data: ArrayBuffer }).data, 0, T * D);
    const yv = new Float32Array((Y.buffer as { data: ArrayBuffer }).data, 0, T * D);
    const fd = fdGrad((xx) => {
      view.set(xx);
      rt.run([fwd]);
      return dot(yv, dy);
    }, x, 1e-2);
    const r = closeTo(got, fd, 2e-4, 1e-3);
    expect(r.ok, r.worst).toBe(true);
  });
});

describe('CPU swiglu', () => {
  for (const [T, F] of SWIGLU_SHAPES) it(`fused [T, 2F] layout T=${T} F=${F}`, () => expectSwigluAsRef(new CpuRuntime(), T, F));

  // gate and up as two blocks of one buffer (rowStride F, up at an element offset), and gate|up rows inside
  // wider rows (rowStride > 2F, as a fused q|gate|up output would lay them): forward and backward, the
  // elements between the rows untouched by the backward.
  for (const layout of ['blocks', 'strided'] as const)
    it(`${layout} layout (rowStride, upOffset), forward and backward`, async () => {
      const rt = new CpuRuntime();
      const [T, F] = [3, 5];
      const gu = randn(T * 2 * F, 4, 3), dh = randn(T * F, 8);
      const up = layout === 'blocks' ? T * F + 3 : F + 2;
      const rowStride = layout === 'blocks' ? F : 2 * F + 4;
      const n = (T - 1) * rowStride + up + F;
      const buf = new Float32Array(n).fill(99);
      for (let t = 0; t < T; t++)
        for (let j = 0; j < F; j++) {
          buf[t * rowStride + j] = gu[t * 2 * F + j];
          buf[t * rowStride + up + j] = gu[t * 2 * F + F + j];
        }
      const GU = rt.upload('gu', buf, [n]), H = rt.tensor('h', [T, F]);
      const DGU = rt.upload('dgu', new Float32Array(n).fill(-5), [n]);
      rt.run([
        prepareSwiglu(rt, { gu: GU, h: H, T, F, rowStride, upOffset: up }),
        prepareSwigluBackward(rt, { gu: GU, dh: rt.upload('dh', dh, [T, F]), dgu: DGU, T, F, rowStride, upOffset: up }),
      ]);
      let r = closeTo(await rt.readF32(H), swigluRef(gu, T, F), 1e-6, 1e-5);
      expect(r.ok, r.worst).toBe(true);
      const ref = swigluBackwardRef(gu, dh, T, F);
      const want = new Float64Array(n).fill(-5);
      for (let t = 0; t < T; t++)
        for (let j = 0; j < F; j++) {
          want[t * rowStride + j] = ref[t * 2 * F + j];
          want[t * rowStride + up + j] = ref[t * 2 * F + F + j];
        }
      r = closeTo(await rt.readF32(DGU), want, 1e-6, 1e-5);
      expect(r.ok, r.worst).toBe(true);
    });
});

describe('CPU embedding and row gather: exact, an id ≥ V gives a zero row', () => {
  for (const [V, D, T] of [
    [1, 1, 1],
    [11, 7, 5],
    [50, 33, 19],
  ])
    it(`embedding V=${V} D=${D} T=${T}`, async () => {
      const rt = new CpuRuntime();
      const table = randn(V * D, V + D, 2);
      const ids = Uint32Array.from({ length: T }, (_, t) => (t === T - 1 && T > 1 ? V + 3 : t === T - 2 ? V - 1 : t === T - 3 ? V : (t * 7) % V));
      const out = rt.upload('out', new Float32Array(T * D).fill(NaN), [T, D]);
      // The table sits in a longer buffer: reading row V (one past the table) would find numbers, not zeros.
      const tab = rt.view(rt.upload('buf', randn((V + 2) * D, 3, 1), [(V + 2) * D]), 0, [V, D], 'table');
      rt.write(tab, table);
      rt.run([prepareEmbedding(rt, { ids: rt.upload('ids', ids, [T]), table: tab, out, T, D, V })]);
      expect(Array.from(await rt.readF32(out))).toEqual(Array.from(embeddingRef(ids, table, D, V)));
    });

  for (const [n, D, R] of [
    [5, 13, 7],
    [300, 64, 3],
  ])
    it(`row gather R=${R} of [${n}, ${D}] (IGNORE_INDEX rows zero)`, async () => {
      const rt = new CpuRuntime();
      const x = randn(n * D, n + D, 3);
      const rows = Uint32Array.from({ length: R }, (_, r) => (r % 3 === 2 ? IGNORE_INDEX : (r * 11) % n));
      const out = rt.upload('out', new Float32Array(R * D).fill(NaN), [R, D]);
      rt.run([prepareRowGather(rt, { rows: rt.upload('rows', rows, [R]), x: rt.upload('x', x, [n, D]), out, R, n, D })]);
      expect(Array.from(await rt.readF32(out))).toEqual(Array.from(embeddingRef(rows, x, D, n)));
    });

  it('refuses a packed-f16 table (the CPU backend keeps f32 tables)', () => {
    const rt = new CpuRuntime();
    expect(() => prepareEmbedding(rt, { ids: rt.tensor('ids', [1], 'u32'), table: rt.tensor('t', [4, 2], 'f16'), out: rt.tensor('o', [1, 2]), T: 1, D: 2, V: 4 })).toThrow(/f32 tables/);
  });
});

describe('CPU elementwise', () => {
  for (const n of ELEMENTWISE_SIZES)
    it(`add, copy and scale on n=${n}, on views at odd offsets`, async () => {
      const rt = new CpuRuntime();
      const buf = rt.tensor('buf', [3 * n + 5]);
      rt.write(buf, new Float32Array(3 * n + 5).fill(42));
      await expectElementwiseAsRef(rt, n, [rt.view(buf, 1, [n]), rt.view(buf, n + 2, [n]), rt.view(buf, 2 * n + 4, [n])]);
      const all = await rt.readF32(buf);
      expect([all[0], all[n + 1], all[2 * n + 2], all[2 * n + 3], all[3 * n + 4]]).toEqual([42, 42, 42, 42, 42]);
    });

  it('add with the defaults is y += x', async () => {
    const rt = new CpuRuntime();
    const x = randn(9, 1), y = randn(9, 2);
    const Y = rt.upload('y', y, [9]);
    rt.run([prepareAdd(rt, { x: rt.upload('x', x, [9]), y: Y, n: 9 })]);
    expect(Array.from(await rt.readF32(Y))).toEqual(Array.from(y, (v, i) => Math.fround(v + x[i])));
  });
});

const I = IGNORE_INDEX;

describe('CPU fused LM head + cross-entropy against crossEntropyRef', () => {
  // No split reduce of dHidden on the CPU.
  for (const c of CROSS_ENTROPY_CASES) it(c.name, () => expectCrossEntropyAsRef(new CpuRuntime(), c));

  it('dHidden is the gradient of the mean loss (central differences through the CPU forward)', async () => {
    const rt = new CpuRuntime();
    const [T, D, V] = [3, 6, 41];
    const hidden = randn(T * D, 5, 1), w = randn(V * D, 6, 0.5);
    const targets = new Uint32Array([40, I, 7]);
    const H = rt.upload('h', hidden, [T, D]), mean = rt.tensor('mean', [1]), dHidden = rt.tensor('dh', [T, D]);
    const args = { hidden: H, weight: rt.upload('w', w, [V, D]), targets: rt.upload('y', targets, [T]), T, D, V, chunk: 16, loss: rt.tensor('loss', [T]), mean };
    rt.run(prepareCrossEntropy(rt, { ...args, dHidden }));
    const got = await rt.readF32(dHidden);
    const fwd = prepareCrossEntropy(rt, args);
    const hv = new Float32Array((H.buffer as { data: ArrayBuffer }).data, 0, T * D);
    const mv = new Float32Array((mean.buffer as { data: ArrayBuffer }).data, 0, 1);
    const fd = fdGrad((h) => {
      hv.set(h);
      rt.run(fwd);
      return mv[0];
    }, hidden, 1e-2);
    const r = closeTo(got, fd, 2e-4, 1e-2);
    expect(r.ok, r.worst).toBe(true);
    expect(got.subarray(D, 2 * D).every((v) => v === 0)).toBe(true); // the ignored row
  });

  it('forward only re-runs without allocating; a packed-f16 head is refused', async () => {
    const rt = new CpuRuntime();
    await expectCrossEntropyForwardOnly(rt);
    const [T, D, V] = [3, 8, 70];
    expect(() => prepareCrossEntropy(rt, { hidden: rt.tensor('h', [T, D]), weight: rt.tensor('w16', [(V * D) / 2], 'u32'), packedF16: true, targets: rt.tensor('y', [T], 'u32'), T, D, V, loss: rt.tensor('loss', [T]), mean: rt.tensor('m', [1]) })).toThrow(/packed f16/);
  });
});

describe('CPU scoring', () => {
  const [R, D, V] = [3, 40, 777];
  it('candidate log-probs over chunks of 200; an out-of-range candidate gives −3.4e38', async () => {
    const rt = new CpuRuntime();
    const hidden = randn(R * D, 1), w = randn(V * D, 2, 0.5);
    const cands = new Uint32Array([32, 33, 776, 0, 5000, 777]);
    const out = rt.tensor('out', [R, cands.length]);
    rt.run(prepareCandidateLogProbs(rt, { hidden: rt.upload('h', hidden, [R, D]), weight: rt.upload('w', w, [V, D]), V, D, R, chunk: 200, candidates: rt.upload('c', cands, [cands.length]), C: cands.length, out }));
    const got = await rt.readF32(out);
    const r = closeTo(got, candidateLogProbsRef(hidden, w, cands, R, D, V), 1e-5, 1e-5);
    expect(r.ok, r.worst).toBe(true);
    for (let row = 0; row < R; row++) {
      expect(got[row * cands.length + 4]).toBe(Math.fround(-3.4e38));
      expect(got[row * cands.length + 5]).toBe(Math.fround(-3.4e38));
      // In-range log-probs are log-probabilities.
      for (const c of [0, 1, 2, 3]) expect(got[row * cands.length + c]).toBeLessThan(0);
    }
  });

  it('target log-probs equal −CE per row; full logits of a few rows', async () => {
    const rt = new CpuRuntime();
    const hidden = randn(R * D, 3), w = randn(V * D, 4, 0.5);
    const targets = new Uint32Array([7, IGNORE_INDEX, 700]);
    const nll = rt.tensor('nll', [R]);
    const H = rt.upload('h', hidden, [R, D]), W = rt.upload('w', w, [V, D]);
    const logits = rt.tensor('logits', [R, V]);
    rt.run([
      ...prepareTargetLogProbs(rt, { hidden: H, weight: W, V, D, R, chunk: 256, targets: rt.upload('y', targets, [R]), nll, mean: rt.tensor('mean', [1]) }),
      prepareFullLogits(rt, { hidden: H, weight: W, V, D, R, out: logits }),
    ]);
    let r = closeTo(await rt.readF32(nll), crossEntropyRef(hidden, w, targets, R, D, V).loss, 1e-5, 1e-5);
    expect(r.ok, r.worst).toBe(true);
    r = closeTo(await rt.readF32(logits), logitsRef(hidden, w, R, D, V), 1e-5, 1e-5);
    expect(r.ok, r.worst).toBe(true);
  });
});

describe('CPU AdamW against the torch-equivalent reference', () => {
  it('five steps over 70 001 parameters, clipping on the odd steps', () => expectAdamWClipsAsRef(new CpuRuntime()));
  it('no clipping and no decay when disabled (coefficient 1 whatever the norm)', () => expectAdamWUnclippedAsRef(new CpuRuntime()));
  it('a non-finite gradient (Infinity, NaN) sets the flag and skips the update; a finite one afterwards updates', () =>
    expectAdamWSkipsNonFinite(new CpuRuntime()));
  it('train status: loss and norm in one read-back; NonFiniteError when the update was skipped', () => expectTrainStatusReports(new CpuRuntime()));
});
