import { describe, expect, it } from 'vitest';
import { prepareAdamW, writeAdamWHyper, type AdamWConfig } from '../../src/engine/optim/adamw';
import { adamWStepRef } from '../../src/engine/optim/adamw.ref';
import { readTrainStatus, trainStatus } from '../../src/engine/optim/status';
import { NonFiniteError } from '../../src/engine/errors';
import { closeTo, randn, testRuntime } from '../helpers/gpu';

async function runSteps(n: number, steps: number, config: Partial<AdamWConfig>, gradScale: (step: number) => number) {
  const rt = await testRuntime();
  const p0 = randn(n, 1, 1);
  const params = rt.upload('params', p0, [n]);
  const grads = rt.tensor('grads', [n]);
  const m = rt.tensor('m', [n]);
  const v = rt.tensor('v', [n]);
  const hyper = rt.tensor('hyper', [4]);
  const status = rt.tensor('status', [4]);
  const ops = prepareAdamW(rt, {
    params,
    grads,
    m,
    v,
    n,
    hyper,
    status,
    config,
  });
  const allocs = rt.counters.allocations;
  const ref = {
    p: Float64Array.from(p0),
    m: new Float64Array(n),
    v: new Float64Array(n),
  };
  const results: {
    norm: number;
    flag: number;
    refNorm: number;
    finite: boolean;
  }[] = [];
  for (let step = 1; step <= steps; step++) {
    const g = randn(n, 100 + step, gradScale(step));
    const lr = 1e-2 * step;
    rt.write(grads, g);
    writeAdamWHyper(rt, hyper, step, lr, config);
    rt.run(ops);
    const st = await rt.readF32(status);
    const r = adamWStepRef(ref.p, g, ref.m, ref.v, step, lr, config);
    results.push({
      norm: st[1],
      flag: st[2],
      refNorm: r.norm,
      finite: r.finite,
    });
  }
  const got = await rt.readF32(params);
  expect(rt.counters.allocations).toBe(allocs);
  rt.destroy();
  return { got, want: ref.p, results };
}

describe('AdamW on the GPU against the torch-equivalent reference', () => {
  it('five steps over 70 000 parameters (more than one grid stride), clipping on some steps', async () => {
    const n = 70_001;
    // Gradient norms ≈ √(n/3)·scale: ~15 (clipped to 1) on odd steps, ~0.15 (unclipped) on even ones.
    const { got, want, results } = await runSteps(n, 5, { weightDecay: 0.1, maxGradNorm: 1 }, (s) => (s % 2 ? 0.1 : 0.001));
    for (const r of results) {
      expect(r.flag).toBe(0);
      // Σg² of 70k f32 terms in a tree of partial sums: ~1e-6 relative.
      expect(Math.abs(r.norm - r.refNorm)).toBeLessThan(1e-5 * r.refNorm);
    }
    // After 5 steps each parameter moved ≲ 5·lr: f32 arithmetic on O(1) values, ~1e-6 absolute.
    const c = closeTo(got, want, 5e-6, 1e-6);
    expect(c.ok, c.worst).toBe(true);
  });

  it('no clipping and no decay when disabled', async () => {
    const { got, want } = await runSteps(1000, 3, { weightDecay: 0, maxGradNorm: 0, beta1: 0.8, beta2: 0.99, eps: 1e-6 }, () => 1);
    const c = closeTo(got, want, 5e-6, 1e-6);
    expect(c.ok, c.worst).toBe(true);
  });

  it('flags a non-finite gradient norm and leaves everything unchanged', async () => {
    const rt = await testRuntime();
    const n = 300;
    const p0 = randn(n, 7);
    const params = rt.upload('params', p0, [n]);
    const g = randn(n, 8);
    g[123] = Infinity;
    const grads = rt.upload('grads', g, [n]);
    const m = rt.tensor('m', [n]);
    const v = rt.tensor('v', [n]);
    const hyper = rt.tensor('hyper', [4]);
    const status = rt.tensor('status', [4]);
    writeAdamWHyper(rt, hyper, 1, 0.1);
    rt.run(prepareAdamW(rt, { params, grads, m, v, n, hyper, status }));
    const st = await rt.readF32(status);
    expect(st[2]).toBe(1);
    expect([...(await rt.readF32(params))]).toEqual([...p0]);
    expect([...(await rt.readF32(m))].every((x) => x === 0)).toBe(true);
    // A NaN is caught too.
    g[123] = NaN;
    rt.write(grads, g);
    rt.run(prepareAdamW(rt, { params, grads, m, v, n, hyper, status }));
    expect((await rt.readF32(status))[2]).toBe(1);
    rt.destroy();
  });
});

describe('train status: loss and optimizer status in one read-back', () => {
  it('reports the norm and loss, and throws NonFiniteError when the update was skipped', async () => {
    const rt = await testRuntime();
    const n = 64;
    const s = trainStatus(rt);
    const g = randn(n, 3);
    const grads = rt.upload('g', g, [n]);
    const hyper = rt.tensor('hyper', [4]);
    writeAdamWHyper(rt, hyper, 1, 1e-3);
    const ops = prepareAdamW(rt, {
      params: rt.tensor('p', [n]),
      grads,
      m: rt.tensor('m', [n]),
      v: rt.tensor('v', [n]),
      n,
      hyper,
      status: s.adam,
    });
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
    rt.destroy();
  });
});
