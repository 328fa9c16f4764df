import { describe, expect, it } from 'vitest';
import {
  accuracy,
  averageRank,
  bootstrapMean,
  consistency,
  cosine,
  denseRank,
  kl,
  lnGamma,
  meanKl,
  partialSpearman,
  pearson,
  spearman,
  studentTwoSidedP,
} from '../../../src/lab/metrics';

describe('ranks and correlations', () => {
  it('ranks densely and by average', () => {
    expect(denseRank([0.1, 0.5, 0.5, 0.2])).toEqual([1, 3, 3, 2]);
    expect(averageRank([0.1, 0.5, 0.5, 0.2])).toEqual([1, 3.5, 3.5, 2]);
  });

  it('spearman: reversed order is −1, identical order 1', () => {
    expect(spearman([0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1])).toBeCloseTo(-1, 12);
    expect(spearman([0.1, 0.2, 0.3, 0.4], [0.01, 0.02, 0.5, 0.47])).toBeCloseTo(0.8, 12);
  });

  it('spearman with ties uses dense ranks', () => {
    // x = [.7,.1,.1,.1] → dense ranks [2,1,1,1] (mean 1.25, deviations [.75,-.25,-.25,-.25], Σd² = .75);
    // y = [.4,.3,.2,.1] → [4,3,2,1] (mean 2.5, deviations [1.5,.5,-.5,-1.5], Σd² = 5);
    // Σ dx·dy = 1.125 − .125 + .125 + .375 = 1.5 → r = 1.5 / √(.75·5) = √0.6 ≈ 0.7745967.
    expect(spearman([0.7, 0.1, 0.1, 0.1], [0.4, 0.3, 0.2, 0.1])).toBeCloseTo(Math.sqrt(0.6), 12);
  });

  it('an undefined correlation (constant series) counts 0', () => {
    expect(spearman([0.25, 0.25, 0.25, 0.25], [0.4, 0.3, 0.2, 0.1])).toBe(0);
    expect(pearson([1, 1, 1], [1, 2, 3])).toBe(0);
  });

  it('consistency C is the mean per-question Spearman', () => {
    const base = [
      [0.1, 0.2, 0.3, 0.4],
      [0.7, 0.1, 0.1, 0.1],
      [0.25, 0.25, 0.25, 0.25],
    ];
    const tuned = [
      [0.4, 0.3, 0.2, 0.1],
      [0.4, 0.3, 0.2, 0.1],
      [0.4, 0.3, 0.2, 0.1],
    ];
    // (−1 + √0.6 + 0) / 3
    expect(consistency(base, tuned)).toBeCloseTo((-1 + Math.sqrt(0.6)) / 3, 12);
  });
});

describe('divergences and accuracy', () => {
  it('KL(p‖q) by hand', () => {
    // p = [.5,.5,0,0], q uniform: .5·ln(.5/.25)·2 = ln 2.
    expect(kl([0.5, 0.5, 0, 0], [0.25, 0.25, 0.25, 0.25])).toBeCloseTo(Math.LN2, 12);
    expect(kl([0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4])).toBe(0);
    // A zero in q where p has mass stays finite (q floored at 1e-12): .5·ln(.5/1e-12) + .5·ln(.5/1).
    expect(kl([0.5, 0.5, 0, 0], [0, 1, 0, 0])).toBeCloseTo(0.5 * Math.log(0.5 / 1e-12) + 0.5 * Math.log(0.5), 9);
    expect(meanKl([[0.5, 0.5, 0, 0], [0.25, 0.25, 0.25, 0.25]], [[0.25, 0.25, 0.25, 0.25], [0.25, 0.25, 0.25, 0.25]])).toBeCloseTo(Math.LN2 / 2, 12);
  });

  it('cosine by hand', () => {
    // [1,0,0,0]·[.5,.5,0,0] = .5; norms 1 and √.5 → .5/√.5 = √.5.
    expect(cosine([1, 0, 0, 0], [0.5, 0.5, 0, 0])).toBeCloseTo(Math.SQRT1_2, 12);
  });

  it('accuracy', () => {
    expect(accuracy([0, 1, 2, 3], [0, 1, 3, 3])).toBe(0.75);
  });
});

describe('partial Spearman correlation', () => {
  it('matches the hand computation, p-value included', () => {
    // Already ranks, no ties. r = 1 − 6Σd²/(n(n²−1)) with n(n²−1) = 120:
    // x–y: d = [−1,1,−1,1,0], Σd² = 4 → .8;  x–z: d = [0,−1,1,−1,1] → .8;  y–z: d = [1,−2,2,−2,1], Σd² = 14 → .3.
    // r_xy.z = (.8 − .8·.3) / √((1 − .64)(1 − .09)) = .56 / √.3276 ≈ .978399.
    // df = n − 3 = 2; for df = 2 the two-sided p of t = r√(df/(1−r²)) is exactly 1 − |t|/√(t² + 2) = 1 − |r|.
    const x = [1, 2, 3, 4, 5];
    const y = [2, 1, 4, 3, 5];
    const z = [1, 3, 2, 5, 4];
    const res = partialSpearman(x, y, z);
    const r = 0.56 / Math.sqrt(0.3276);
    expect(res.r).toBeCloseTo(r, 12);
    expect(res.p!).toBeCloseTo(1 - r, 10);
    expect(res.n).toBe(5);
  });

  it('is invariant to monotone transforms and gives no p-value below 4 points', () => {
    const a = partialSpearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5], [1, 3, 2, 5, 4]);
    const b = partialSpearman([0.1, 0.2, 0.3, 0.4, 0.5], [20, 10, 40, 30, 50].map(Math.log), [1, 9, 4, 25, 16]);
    expect(b.r).toBeCloseTo(a.r, 12);
    expect(partialSpearman([1, 2, 3], [1, 2, 3], [3, 1, 2]).p).toBeNull();
  });

  it("Student's t two-sided p against closed forms", () => {
    // df = 1 is Cauchy: p = 1 − (2/π)·atan|t|.
    expect(studentTwoSidedP(1, 1)).toBeCloseTo(0.5, 12);
    expect(studentTwoSidedP(3, 1)).toBeCloseTo(1 - (2 / Math.PI) * Math.atan(3), 12);
    // df = 2: p = 1 − |t|/√(t² + 2).
    expect(studentTwoSidedP(2.5, 2)).toBeCloseTo(1 - 2.5 / Math.sqrt(8.25), 12);
    // Table value: t = 2.228 at df = 10 is the two-sided 5 % point.
    expect(studentTwoSidedP(2.228, 10)).toBeCloseTo(0.05, 3);
    expect(studentTwoSidedP(0, 7)).toBeCloseTo(1, 12);
    expect(lnGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(lnGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
  });
});

describe('bootstrap', () => {
  it('is seeded, brackets the value, and has the binomial width', () => {
    const values = Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? 1 : 0));
    const a = bootstrapMean(values, { seed: 1, samples: 2000 });
    const b = bootstrapMean(values, { seed: 1, samples: 2000 });
    expect(a).toEqual(b);
    expect(a.value).toBe(0.5);
    // ± 1.96·√(.25/100) ≈ ±0.098.
    expect(a.lo).toBeGreaterThan(0.38);
    expect(a.lo).toBeLessThan(0.43);
    expect(a.hi).toBeGreaterThan(0.57);
    expect(a.hi).toBeLessThan(0.62);
    expect(bootstrapMean(values, { seed: 2, samples: 2000 })).not.toEqual(a);
    expect(bootstrapMean([1, 1, 1], { seed: 3 })).toEqual({ value: 1, lo: 1, hi: 1 });
  });
});
