// AdamW cases and checks the WGSL optimizer (tests/gpu/adamw.test.ts) and the CPU backend's version
// (tests/unit/cpu/rows.test.ts) share: one case, two backends, the same tolerances.
import { expect } from 'vitest';
import { NonFiniteError } from '../../src/engine/errors';
import { prepareAdamW, writeAdamWHyper, type AdamWConfig } from '../../src/engine/optim/adamw';
import { adamWStepRef } from '../../src/engine/optim/adamw.ref';
import { readTrainStatus, trainStatus } from '../../src/engine/optim/status';
import type { Runtime } from '../../src/engine/runtime';
import { closeTo, randn } from './close';

/**
 * `steps` AdamW steps (learning rate 1e-2·step, gradients of size gradScale(step)) on n parameters next to
 * the f64 reference; nothing allocated after prepare. Each step's status [norm, flag, coef] and the
 * reference norm come back with the final parameters.
 */
async function adamWSteps(rt: Runtime, n: number, steps: number, config: Partial<AdamWConfig>, gradScale: (step: number) => number) {
  const p0 = randn(n, 1, 1);
  const params = rt.upload('params', p0, [n]);
  const grads = rt.tensor('grads', [n]);
  const m = rt.tensor('m', [n]), v = rt.tensor('v', [n]);
  const hyper = rt.tensor('hyper', [4]), status = rt.tensor('status', [4]);
  const ops = prepareAdamW(rt, { params, grads, m, v, n, hyper, status, config });
  expect(ops.length).toBe(3);
  const allocs = rt.counters.allocations;
  const ref = { p: Float64Array.from(p0), m: new Float64Array(n), v: new Float64Array(n) };
  const results: { norm: number; flag: number; coef: number; refNorm: number }[] = [];
  for (let step = 1; step <= steps; step++) {
    const g = randn(n, 100 + step, gradScale(step));
    const lr = 1e-2 * step;
    rt.write(grads, g);
    writeAdamWHyper(rt, hyper, step, lr, config);
    rt.run(ops);
    const st = await rt.readF32(status);
    const r = adamWStepRef(ref.p, g, ref.m, ref.v, step, lr, config);
    results.push({ norm: st[1], flag: st[2], coef: st[3], refNorm: r.norm });
  }
  const got = await rt.readF32(params);
  expect(rt.counters.allocations).toBe(allocs);
  return { got, want: ref.p, results };
}

/** Five steps over 70 001 parameters (more than one GPU grid stride), clipping on the odd steps. */
export async function expectAdamWClipsAsRef(rt: Runtime): Promise<void> {
  const maxGradNorm = 1;
  // Gradient norms ≈ √(n/3)·scale: ~15 (clipped to 1) on odd steps, ~0.15 (unclipped) on even ones.
  const { got, want, results } = await adamWSteps(rt, 70_001, 5, { weightDecay: 0.1, maxGradNorm }, (s) => (s % 2 ? 0.1 : 0.001));
  results.forEach((r, i) => {
    expect(r.flag).toBe(0);
    // Σg² of 70k f32 terms in a tree of partial sums: ~1e-6 relative.
    expect(Math.abs(r.norm - r.refNorm)).toBeLessThan(1e-5 * r.refNorm);
    const coef = Math.min(1, maxGradNorm / (r.refNorm + 1e-6));
    expect(Math.abs(r.coef - coef)).toBeLessThan(1e-5);
    expect(r.coef < 1).toBe(i % 2 === 0); // steps 1, 3, 5 clip
  });
  // After 5 steps each parameter moved ≲ 5·lr: f32 arithmetic on O(1) values, ~1e-6 absolute.
  const c = closeTo(got, want, 5e-6, 1e-6);
  expect(c.ok, c.worst).toBe(true);
}

/** No clipping and no decay when disabled: coefficient 1 whatever the norm. */
export async function expectAdamWUnclippedAsRef(rt: Runtime): Promise<void> {
  const { got, want, results } = await adamWSteps(rt, 1000, 3, { weightDecay: 0, maxGradNorm: 0, beta1: 0.8, beta2: 0.99, eps: 1e-6 }, () => 1);
  for (const r of results) {
    expect(r.coef).toBe(1);
    expect(r.refNorm).toBeGreaterThan(10);
  }
  const c = closeTo(got, want, 5e-6, 1e-6);
  expect(c.ok, c.worst).toBe(true);
}

/** A non-finite gradient (Infinity, NaN, −Infinity) sets the flag and skips the update; a finite one afterwards updates. */
export async function expectAdamWSkipsNonFinite(rt: Runtime): Promise<void> {
  const n = 300;
  const p0 = randn(n, 7);
  const params = rt.upload('params', p0, [n]);
  const g = randn(n, 8);
  const grads = rt.upload('grads', g, [n]);
  const m = rt.tensor('m', [n]), v = rt.tensor('v', [n]);
  const hyper = rt.tensor('hyper', [4]), status = rt.tensor('status', [4]);
  const ops = prepareAdamW(rt, { params, grads, m, v, n, hyper, status });
  writeAdamWHyper(rt, hyper, 1, 0.1);
  for (const bad of [Infinity, NaN, -Infinity]) {
    g[123] = bad;
    rt.write(grads, g);
    rt.run(ops);
    expect((await rt.readF32(status))[2]).toBe(1);
    expect(Array.from(await rt.readF32(params))).toEqual(Array.from(p0));
    expect((await rt.readF32(m)).every((x) => x === 0)).toBe(true);
    expect((await rt.readF32(v)).every((x) => x === 0)).toBe(true);
  }
  g[123] = 0.5;
  rt.write(grads, g);
  rt.run(ops);
  expect((await rt.readF32(status))[2]).toBe(0);
  const ref = Float64Array.from(p0);
  adamWStepRef(ref, g, new Float64Array(n), new Float64Array(n), 1, 0.1);
  const c = closeTo(await rt.readF32(params), ref, 5e-6, 1e-6);
  expect(c.ok, c.worst).toBe(true);
}

/** Train status: loss and gradient norm in one small read-back; NonFiniteError when the update was skipped. */
export async function expectTrainStatusReports(rt: Runtime): Promise<void> {
  const n = 64;
  const s = trainStatus(rt);
  const g = randn(n, 3);
  const grads = rt.upload('g', g, [n]);
  const hyper = rt.tensor('hyper', [4]);
  writeAdamWHyper(rt, hyper, 1, 1e-3);
  const ops = prepareAdamW(rt, { params: rt.tensor('p', [n]), grads, m: rt.tensor('m', [n]), v: rt.tensor('v', [n]), n, hyper, status: s.adam });
  rt.write(s.loss, new Float32Array([2.5]));
  rt.run(ops);
  const before = rt.counters.readbackBytes;
  const rep = await readTrainStatus(rt, s, 1);
  expect(rt.counters.readbackBytes - before).toBeLessThanOrEqual(512);
  expect(rep.loss).toBe(2.5);
  expect(rep.gradNorm).toBeCloseTo(Math.hypot(...g), 4);
  g[0] = NaN;
  rt.write(grads, g);
  rt.run(ops);
  await expect(readTrainStatus(rt, s, 2)).rejects.toBeInstanceOf(NonFiniteError);
}
