/**
 * The paper's measures, on plain arrays. Distributions are the four renormalised option probabilities.
 */
import { rng } from './random';

/** Dense ranks from 1: equal values share a rank and the next value takes the next integer. */
export function denseRank(xs: readonly number[]): number[] {
  const uniq = [...new Set(xs)].sort((a, b) => a - b);
  const at = new Map(uniq.map((v, i) => [v, i + 1]));
  return xs.map((x) => at.get(x)!);
}

/** Average ("fractional") ranks from 1: ties share the mean of the ranks they span. */
export function averageRank(xs: readonly number[]): number[] {
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(xs.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) r[order[k][1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

/** Pearson correlation; 0 when either side has no variance (undefined counts 0). */
export function pearson(x: readonly number[], y: readonly number[]): number {
  const n = x.length;
  if (n !== y.length) throw new Error(`pearson: lengths differ (${n} vs ${y.length})`);
  if (n < 2) return 0;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  if (sxx === 0 || syy === 0) return 0;
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/** Spearman's rank correlation with dense ranks, as the paper's consistency; 0 when undefined. */
export function spearman(x: readonly number[], y: readonly number[]): number {
  return pearson(denseRank(x), denseRank(y));
}

/** Knowledge consistency C: mean over questions of the Spearman correlation of base vs tuned distributions. */
export function consistency(base: readonly (readonly number[])[], tuned: readonly (readonly number[])[]): number {
  return mean(base.map((p, i) => spearman(p, tuned[i])));
}

const EPS = 1e-12;

/** KL(p ‖ q) in nats; q is floored at 1e-12 so a zero where p has mass stays finite. */
export function kl(p: readonly number[], q: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) s += p[i] * Math.log(p[i] / Math.max(q[i], EPS));
  return s;
}

export function cosine(p: readonly number[], q: readonly number[]): number {
  let d = 0;
  let a = 0;
  let b = 0;
  for (let i = 0; i < p.length; i++) {
    d += p[i] * q[i];
    a += p[i] * p[i];
    b += q[i] * q[i];
  }
  return a === 0 || b === 0 ? 0 : d / Math.sqrt(a * b);
}

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

export function meanKl(base: readonly (readonly number[])[], tuned: readonly (readonly number[])[]): number {
  return mean(base.map((p, i) => kl(p, tuned[i])));
}

export function accuracy(predictions: readonly number[], gold: readonly number[]): number {
  return mean(predictions.map((p, i) => (p === gold[i] ? 1 : 0)));
}

export interface PartialCorrelation {
  /** Partial Spearman correlation of x and y controlling for z. */
  r: number;
  /** Two-sided p-value from Student's t with n − 3 degrees of freedom; null when n < 4 or r is undefined. */
  p: number | null;
  n: number;
}

/**
 * Partial Spearman correlation r(x, y | z): average ranks, then the partial Pearson formula
 * (r_xy − r_xz·r_yz) / √((1 − r_xz²)(1 − r_yz²)). Across a mixture sweep: x = C, y = tuned accuracy,
 * z = base accuracy. An undefined correlation (a constant series) counts 0, as for C.
 */
export function partialSpearman(x: readonly number[], y: readonly number[], z: readonly number[]): PartialCorrelation {
  const n = x.length;
  if (y.length !== n || z.length !== n) throw new Error('partialSpearman: series of different lengths');
  const [rx, ry, rz] = [averageRank(x), averageRank(y), averageRank(z)];
  const rxy = pearson(rx, ry);
  const rxz = pearson(rx, rz);
  const ryz = pearson(ry, rz);
  const den = Math.sqrt((1 - rxz * rxz) * (1 - ryz * ryz));
  const r = den === 0 ? 0 : Math.max(-1, Math.min(1, (rxy - rxz * ryz) / den));
  const df = n - 3;
  if (df < 1 || den === 0) return { r, p: null, n };
  if (Math.abs(r) === 1) return { r, p: 0, n };
  const t = r * Math.sqrt(df / (1 - r * r));
  return { r, p: studentTwoSidedP(t, df), n };
}

/** Two-sided p of Student's t: I_{df/(df+t²)}(df/2, 1/2). */
export function studentTwoSidedP(t: number, df: number): number {
  return regularizedBeta(df / (df + t * t), df / 2, 0.5);
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; ~1e-15 relative). */
export function lnGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularised incomplete beta I_x(a, b) by Lentz's continued fraction (Numerical Recipes' betacf). */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The continued fraction converges fast for x < (a+1)/(a+b+2); use the symmetry otherwise.
  if (x > (a + 1) / (a + b + 2)) return 1 - regularizedBeta(1 - x, b, a);
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return (front * h) / a;
}

export interface Interval {
  value: number;
  /** 2.5th and 97.5th percentiles of the bootstrap distribution. */
  lo: number;
  hi: number;
}

/**
 * Percentile bootstrap over questions: resample the n question indices with replacement `samples` times
 * (seeded) and recompute `stat` on each resample. `stat` receives the indices of one resample.
 */
export function bootstrap(
  n: number,
  stat: (indices: Int32Array) => number,
  opts: { samples?: number; seed?: number; level?: number } = {},
): Interval {
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const value = n === 0 ? NaN : stat(all);
  const samples = opts.samples ?? 1000;
  if (n === 0 || samples <= 0) return { value, lo: NaN, hi: NaN };
  const r = rng(opts.seed ?? 0);
  const stats = new Float64Array(samples);
  const idx = new Int32Array(n);
  for (let s = 0; s < samples; s++) {
    for (let i = 0; i < n; i++) idx[i] = Math.floor(r() * n);
    stats[s] = stat(idx);
  }
  return { value, ...percentileInterval(stats, opts.level) };
}

/** The central `level` interval of bootstrap statistics (sorted in place), linearly interpolated. */
export function percentileInterval(stats: Float64Array, level = 0.95): { lo: number; hi: number } {
  const { lo, hi } = percentileWithError(stats, level);
  return { lo, hi };
}

/**
 * The central `level` interval of bootstrap statistics (sorted in place) and the Monte Carlo error of each
 * end: the percentile of B resamples is an order statistic whose rank varies by √(B·f·(1 − f)) between
 * bootstrap seeds, so half the spread of the statistics at ranks B·f ± √(B·f·(1 − f)) is one standard error.
 */
export function percentileWithError(stats: Float64Array, level = 0.95): { lo: number; hi: number; mcLo: number; mcHi: number } {
  stats.sort();
  const n = stats.length;
  const alpha = (1 - level) / 2;
  const at = (pos: number) => {
    const p = Math.max(0, Math.min(n - 1, pos));
    const lo = Math.floor(p);
    return stats[lo] + (stats[Math.min(lo + 1, n - 1)] - stats[lo]) * (p - lo);
  };
  const q = (f: number) => at(f * (n - 1));
  const se = (f: number) => {
    const spread = Math.sqrt(n * f * (1 - f));
    return (at(f * (n - 1) + spread) - at(f * (n - 1) - spread)) / 2;
  };
  return { lo: q(alpha), hi: q(1 - alpha), mcLo: se(alpha), mcHi: se(1 - alpha) };
}

/** Bootstrap interval of a per-question mean (accuracy from 0/1, C from per-question Spearman, KL…). */
export function bootstrapMean(values: readonly number[], opts: { samples?: number; seed?: number } = {}): Interval {
  return bootstrap(
    values.length,
    (idx) => {
      let s = 0;
      for (let i = 0; i < idx.length; i++) s += values[idx[i]];
      return s / idx.length;
    },
    opts,
  );
}
