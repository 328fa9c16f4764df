import { describe, expect, it } from 'vitest';
import { contrastOf, pairedBootstrap, signFlipP } from '../../../src/lab/contrasts';

describe('sign-flip p-value across seeds', () => {
  it('enumerates the 2^S sign patterns (hand counts)', () => {
    // Seeds +1, +2, +3: |sum| = 6; patterns reaching |sum| >= 6 are (+,+,+) and (−,−,−): 2 of 8.
    expect(signFlipP([1, 2, 3])).toBeCloseTo(2 / 8, 12);
    // +3, −1, +1: observed |3| ; sums over the 8 patterns: ±3±1±1 → |5|,|3|,|3|,|1|,|1|,|3|,|3|,|5| → 6 of 8 ≥ 3.
    expect(signFlipP([3, -1, 1])).toBeCloseTo(6 / 8, 12);
    // One seed is no evidence across seeds.
    expect(signFlipP([0.2])).toBe(1);
    // Five seeds all the same sign: 2 / 32.
    expect(signFlipP([0.1, 0.2, 0.1, 0.3, 0.05])).toBeCloseTo(2 / 32, 12);
    expect(signFlipP([0, 0, 0])).toBe(1);
  });

  it('falls back to seeded Monte Carlo beyond 16 seeds', () => {
    const p = signFlipP(Array.from({ length: 20 }, () => 1));
    expect(p).toBeLessThan(0.001);
    expect(signFlipP(Array.from({ length: 20 }, (_, i) => (i % 2 ? 1 : -1)))).toBe(1);
  });
});

describe('paired bootstrap over questions and seeds', () => {
  it('its mean is the mean over seeds and questions, and a constant difference has a point interval', () => {
    const d = [Float64Array.from([1, 1, 1, 1]), Float64Array.from([1, 1, 1, 1])];
    expect(pairedBootstrap(d, { samples: 200 })).toEqual({ mean: 1, lo: 1, hi: 1 });
    const e = [Float64Array.from([1, 0, 0, 0]), Float64Array.from([1, 1, 0, 0])];
    expect(pairedBootstrap(e, { samples: 0 }).mean).toBeCloseTo(3 / 8, 12);
  });

  it('covers the mean, is seeded, and is wider when seeds disagree', () => {
    const a = [Float64Array.from({ length: 50 }, (_, i) => (i % 3 === 0 ? 1 : 0)), Float64Array.from({ length: 50 }, (_, i) => (i % 4 === 0 ? 1 : 0))];
    const x = pairedBootstrap(a, { samples: 500, seed: 3 });
    expect(x.lo).toBeLessThanOrEqual(x.mean);
    expect(x.hi).toBeGreaterThanOrEqual(x.mean);
    expect(pairedBootstrap(a, { samples: 500, seed: 3 })).toEqual(x);
    const agree = [Float64Array.from({ length: 40 }, () => 0.5), Float64Array.from({ length: 40 }, () => 0.5)];
    const disagree = [Float64Array.from({ length: 40 }, () => 1), Float64Array.from({ length: 40 }, () => 0)];
    const w = (iv: { lo: number; hi: number }) => iv.hi - iv.lo;
    expect(w(pairedBootstrap(agree, { samples: 400 }))).toBe(0);
    expect(w(pairedBootstrap(disagree, { samples: 400 }))).toBeGreaterThan(0.5);
  });
});

describe('a contrast', () => {
  it('holds only when its interval lies above 0', () => {
    const up = contrastOf(
      { a: 'harmonious', b: 'incompatible', set: 'ood', protocol: 'paper', group: 'overall' },
      [1, 2, 3].map(() => ({ a: [1, 1, 1, 0, 1, 1, 1, 1], b: [0, 0, 1, 0, 0, 0, 1, 0] })),
      { samples: 300 },
    );
    expect(up.mean).toBeCloseTo(5 / 8, 12);
    expect(up.perSeed).toEqual([5 / 8, 5 / 8, 5 / 8]);
    expect(up.p).toBeCloseTo(2 / 8, 12);
    expect(up.holds).toBe(true);
    expect(up.reversed).toBe(false);
    expect(up.n).toBe(8);
    // A positive mean whose interval includes 0 does not hold.
    const noisy = contrastOf(
      { a: 'x', b: 'y', set: 'homo', protocol: 'paper', group: 'known' },
      [
        { a: [1, 0, 0, 0], b: [0, 0, 0, 0] },
        { a: [0, 0, 0, 0], b: [0, 0, 0, 0] },
      ],
      { samples: 300 },
    );
    expect(noisy.mean).toBeGreaterThan(0);
    expect(noisy.lo).toBeLessThanOrEqual(0);
    expect(noisy.holds).toBe(false);
  });
});
