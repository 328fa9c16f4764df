import { describe, expect, it } from 'vitest';
import { contrastOf, holm, minimumSignFlipP, pairedBootstrap, seedsNeeded, signFlipP } from '../../../src/lab/contrasts';
import { rng } from '../../../src/lab/random';
import { percentileInterval } from '../../../src/lab/metrics';

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
    expect(pairedBootstrap(d, { samples: 200 })).toEqual({ mean: 1, lo: 1, hi: 1, mcLo: 0, mcHi: 0, samples: 200 });
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

/** The bootstrap as first written (index arrays, one draw per seed then per question): the reference. */
function naive(d: Float64Array[], samples: number, seed: number) {
  const S = d.length;
  const Q = d[0].length;
  const r = rng(seed);
  const stats = new Float64Array(samples);
  for (let b = 0; b < samples; b++) {
    const si = Array.from({ length: S }, () => Math.floor(r() * S));
    const qi = Array.from({ length: Q }, () => Math.floor(r() * Q));
    let s = 0;
    for (const k of si) for (const i of qi) s += d[k][i];
    stats[b] = s / (S * Q);
  }
  return percentileInterval(stats);
}

describe('the bootstrap cannot flip by chance', () => {
  const seeds = [0.55, 0.4, 0.5, 0.45].map((p, k) => Float64Array.from({ length: 90 }, (_, i) => (((i * 7 + k * 13) % 100) / 100 < p ? 1 : 0) - (((i * 11 + k) % 100) / 100 < 0.4 ? 1 : 0)));

  it('draws the same resamples as the index-array version (counted draws change the speed, not the answer)', () => {
    const x = pairedBootstrap(seeds, { samples: 700, seed: 5 });
    const ref = naive(seeds, 700, 5);
    expect(x.lo).toBeCloseTo(ref.lo, 12);
    expect(x.hi).toBeCloseTo(ref.hi, 12);
  });

  it('defaults to 10,000 resamples and gives each end a Monte Carlo error that shrinks like 1/√B', () => {
    const x = pairedBootstrap(seeds);
    expect(x.samples).toBe(10_000);
    const small = pairedBootstrap(seeds, { samples: 1000, seed: 1 });
    const large = pairedBootstrap(seeds, { samples: 16_000, seed: 1 });
    expect(small.mcLo).toBeGreaterThan(0);
    // 16× the resamples: about a quarter of the error (generous bounds; the estimate itself is noisy).
    expect(large.mcLo / small.mcLo).toBeGreaterThan(0.1);
    expect(large.mcLo / small.mcLo).toBeLessThan(0.6);
    // The error says how far the end moves between bootstrap seeds: 1,000 resamples move it by about mcLo.
    const los = Array.from({ length: 30 }, (_, s) => pairedBootstrap(seeds, { samples: 1000, seed: 100 + s }).lo);
    const m = los.reduce((a, b) => a + b, 0) / los.length;
    const sd = Math.sqrt(los.reduce((a, b) => a + (b - m) ** 2, 0) / (los.length - 1));
    expect(small.mcLo).toBeGreaterThan(sd / 3);
    expect(small.mcLo).toBeLessThan(sd * 3);
  });

  it('with a precision, draws more resamples until both ends are stable to it (or the ceiling)', () => {
    const x = pairedBootstrap(seeds, { samples: 1000, seed: 2, precision: 0.002 });
    expect(x.samples).toBeGreaterThan(1000);
    expect(Math.max(x.mcLo, x.mcHi)).toBeLessThanOrEqual(0.002);
    const capped = pairedBootstrap(seeds, { samples: 1000, seed: 2, precision: 1e-9, maxSamples: 4000 });
    expect(capped.samples).toBe(4000);
    // The first B resamples are the fixed-B answer: the doubling continues the same stream.
    expect(pairedBootstrap(seeds, { samples: 1000, seed: 2, precision: 0 }).samples).toBe(1000);
  });
});

describe('seeds decide: the sign-flip floor and Holm', () => {
  it('the exact test cannot go below 2 / 2^S, so α = 0.05 needs 6 seeds', () => {
    expect(minimumSignFlipP(3)).toBe(0.25);
    expect(minimumSignFlipP(5)).toBe(0.0625);
    expect(minimumSignFlipP(6)).toBe(0.03125);
    expect(minimumSignFlipP(1)).toBe(1);
    expect(seedsNeeded(0.05)).toBe(6);
    expect(seedsNeeded(0.01)).toBe(8);
    expect(signFlipP([0.1, 0.2, 0.05, 0.3, 0.1, 0.2])).toBeCloseTo(2 / 64, 12);
  });

  it("Holm's step-down adjustment (hand values), in the family's order", () => {
    // Sorted 0.01, 0.02, 0.04 → ×3, ×2, ×1 = 0.03, 0.04, 0.04 (monotone).
    expect(holm([0.04, 0.01, 0.02])).toEqual([0.04, 0.03, 0.04]);
    expect(holm([0.5, 0.3])).toEqual([0.6, 0.6]);
    expect(holm([0.001, NaN])[1]).toBe(1);
    expect(holm([])).toEqual([]);
  });
});
