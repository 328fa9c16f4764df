import { describe, expect, it } from 'vitest';
import { learningRateAt } from '../../../src/engine/optim/schedule';
import { adamWStepRef } from '../../../src/engine/optim/adamw.ref';

// Learning rates seen by optimizer steps 0…10 under torch's LambdaLR with transformers'
// get_{linear,cosine}_schedule_with_warmup lambdas (warmup 3, total 10, peak 3e-4), printed by PyTorch 1.13.
const TORCH_LINEAR = [
  0.0, 9.999999999999999e-5, 0.00019999999999999998, 0.0003, 0.0002571428571428571, 0.00021428571428571427, 0.0001714285714285714,
  0.00012857142857142855, 8.57142857142857e-5, 4.285714285714285e-5, 0.0,
];
const TORCH_COSINE = [
  0.0, 9.999999999999999e-5, 0.00019999999999999998, 0.0003, 0.0002851453301853628, 0.00024352347027881003, 0.00018337814009344714,
  0.00011662185990655284, 5.6476529721189974e-5, 1.4854669814637143e-5, 0.0,
];

describe('learningRateAt matches transformers schedules', () => {
  for (const [kind, torch] of [
    ['linear', TORCH_LINEAR],
    ['cosine', TORCH_COSINE],
  ] as const)
    it(`${kind} with warm-up`, () => {
      torch.forEach((lr, step) => expect(learningRateAt(step, 10, { kind, warmupSteps: 3, peak: 3e-4 })).toBeCloseTo(lr, 15));
    });
  it('constant, with and without warm-up; never negative past the end', () => {
    expect(learningRateAt(0, 10, { kind: 'constant', warmupSteps: 0, peak: 1e-3 })).toBe(1e-3);
    expect(learningRateAt(1, 10, { kind: 'constant', warmupSteps: 4, peak: 1e-3 })).toBeCloseTo(2.5e-4, 15);
    expect(learningRateAt(50, 10, { kind: 'constant', warmupSteps: 4, peak: 1e-3 })).toBe(1e-3);
    expect(learningRateAt(12, 10, { kind: 'linear', warmupSteps: 0, peak: 1e-3 })).toBe(0);
    expect(learningRateAt(0, 10, { kind: 'linear', warmupSteps: 0, peak: 1e-3 })).toBe(1e-3);
  });
});

// Parameters after each of 4 steps of clip_grad_norm_(1.0) + torch.optim.AdamW(lr=1e-2, wd=0.1) in f64
// (PyTorch 1.13), with grads g_i = sin(step + i)·(3 if step = 2 else 0.3): step 2 is clipped.
const TORCH_ADAMW = [
  [0.4895000003961317, -1.0089999996334167, 1.9880000023620552, 0.009999999559550448, 3.006999999652388],
  [0.4795236266566438, -1.0166990303273131, 1.9928451374088536, 0.01928733168435998, 3.013619099562837],
  [0.47130302304152666, -1.0170016151222305, 1.998645681728318, 0.027205729651011687, 3.0138263588273317],
  [0.46680700001460074, -1.0132426564375554, 2.0038127500038976, 0.031751636725060484, 3.009406914217574],
];
const TORCH_NORMS = [0.5236779812194183, 4.664103260289826, 0.4265811229628508, 0.5179515363256156];

describe('adamWStepRef reproduces torch.optim.AdamW with clip_grad_norm_', () => {
  it('four steps, one clipped', () => {
    const p = Float64Array.from([0.5, -1.0, 2.0, 0.0, 3.0]);
    const m = new Float64Array(5);
    const v = new Float64Array(5);
    for (let step = 1; step <= 4; step++) {
      const g = Array.from({ length: 5 }, (_, i) => Math.sin(step + i) * (step === 2 ? 3 : 0.3));
      const { norm } = adamWStepRef(p, g, m, v, step, 1e-2, {
        weightDecay: 0.1,
        maxGradNorm: 1,
      });
      expect(norm).toBeCloseTo(TORCH_NORMS[step - 1], 12);
      TORCH_ADAMW[step - 1].forEach((x, i) => expect(p[i]).toBeCloseTo(x, 12));
    }
  });
  it('skips a non-finite step', () => {
    const p = Float64Array.from([1, 2]);
    const r = adamWStepRef(p, [NaN, 1], new Float64Array(2), new Float64Array(2), 1, 0.1);
    expect(r.finite).toBe(false);
    expect([...p]).toEqual([1, 2]);
  });
});
