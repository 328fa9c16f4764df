/**
 * Paired contrasts between conditions: a − b in tuned accuracy on the same test questions, trained with the
 * same seeds. The mean over seeds, a 95 % interval from a two-level paired bootstrap (seeds and questions
 * resampled together, the pairing kept) with the Monte Carlo error of its ends, and a sign-flip p-value
 * across seeds. `holds` says the interval lies above 0; it is descriptive — a decision is made only for a
 * plan's endpoints (src/lab/analysis.ts), never from the sign of a mean or from a contrast picked afterwards.
 */
import { percentileWithError } from './metrics';
import { rng } from './random';

/** One seed's per-question differences d(q) = a(q) − b(q) (the same questions, in the same order, for every seed). */
export type PairedSeeds = readonly Float64Array[];

/** The lab's default bootstrap: enough resamples that a verdict does not flip with the bootstrap's seed. */
export const DEFAULT_BOOTSTRAP_SAMPLES = 10_000;
/** Resample until each interval end's Monte Carlo error is at most this (0.1 point), up to the limit. */
export const DEFAULT_BOOTSTRAP_PRECISION = 0.001;
/** The most resamples the adaptive bootstrap draws (the configuration's limit). */
export const MAX_BOOTSTRAP_SAMPLES = 100_000;

export interface BootstrapSettings {
  samples?: number;
  seed?: number;
  level?: number;
  /** Keep doubling the resamples while an end's Monte Carlo error exceeds this (0 or absent: never). */
  precision?: number;
  /** The ceiling of that doubling. */
  maxSamples?: number;
}

export interface PairedInterval {
  /** Mean over seeds of the mean over questions. */
  mean: number;
  lo: number;
  hi: number;
  /** Monte Carlo standard error of each end (what another bootstrap seed would move it by). */
  mcLo: number;
  mcHi: number;
  /** Resamples drawn. */
  samples: number;
}

/**
 * Two-level percentile bootstrap of the mean difference: each replicate draws the seeds with replacement and
 * the question indices with replacement (one draw shared by every seed, since the questions are the same),
 * and averages d over the drawn seeds and questions. Counted draws in typed arrays: a replicate costs one
 * pass over the drawn seeds' differences, so 10,000 resamples of a few hundred questions take milliseconds.
 * With `precision`, the resamples double (same stream: the first B are the fixed-B answer) until both ends'
 * Monte Carlo errors are at most `precision` or `maxSamples` is reached.
 */
export function pairedBootstrap(d: PairedSeeds, opts: BootstrapSettings = {}): PairedInterval {
  const S = d.length;
  const Q = S ? d[0].length : 0;
  for (const x of d) if (x.length !== Q) throw new Error(`pairedBootstrap: seeds have ${Q} and ${x.length} questions`);
  if (S === 0 || Q === 0) return { mean: NaN, lo: NaN, hi: NaN, mcLo: NaN, mcHi: NaN, samples: 0 };
  let mean = 0;
  for (const x of d) for (let i = 0; i < Q; i++) mean += x[i];
  mean /= S * Q;
  const samples = opts.samples ?? DEFAULT_BOOTSTRAP_SAMPLES;
  if (samples <= 0) return { mean, lo: NaN, hi: NaN, mcLo: NaN, mcHi: NaN, samples: 0 };
  const r = rng(opts.seed ?? 0);
  const seedCount = new Float64Array(S);
  const qCount = new Float64Array(Q);
  const fill = (out: Float64Array, from: number) => {
    for (let b = from; b < out.length; b++) {
      seedCount.fill(0);
      qCount.fill(0);
      for (let i = 0; i < S; i++) seedCount[Math.floor(r() * S)]++;
      for (let i = 0; i < Q; i++) qCount[Math.floor(r() * Q)]++;
      let s = 0;
      for (let k = 0; k < S; k++) {
        const c = seedCount[k];
        if (c === 0) continue;
        const x = d[k];
        let t = 0;
        for (let i = 0; i < Q; i++) t += qCount[i] * x[i];
        s += c * t;
      }
      out[b] = s / (S * Q);
    }
  };
  let stats = new Float64Array(samples);
  fill(stats, 0);
  let iv = percentileWithError(stats, opts.level);
  const precision = opts.precision ?? 0;
  const max = Math.max(samples, opts.maxSamples ?? MAX_BOOTSTRAP_SAMPLES);
  while (precision > 0 && Math.max(iv.mcLo, iv.mcHi) > precision && stats.length < max) {
    const more = new Float64Array(Math.min(max, 2 * stats.length));
    more.set(stats);
    fill(more, stats.length);
    stats = more;
    iv = percentileWithError(stats, opts.level);
  }
  return { mean, ...iv, samples: stats.length };
}

/** The smallest two-sided p the exact sign-flip test can give with S seeds: 2 / 2^S (1 with one seed). */
export function minimumSignFlipP(seeds: number): number {
  return seeds <= 0 ? NaN : Math.min(1, 2 / 2 ** seeds);
}

/** The fewest seeds with which the exact sign-flip test can reach p ≤ α. */
export function seedsNeeded(alpha: number): number {
  let s = 1;
  while (minimumSignFlipP(s) > alpha) s++;
  return s;
}

/** Holm's step-down adjustment of a family's p-values (a NaN p counts 1), in the family's order. */
export function holm(ps: readonly number[]): number[] {
  const m = ps.length;
  const order = ps.map((p, i) => [Number.isFinite(p) ? p : 1, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(m);
  let running = 0;
  order.forEach(([p, i], k) => {
    running = Math.max(running, Math.min(1, (m - k) * p));
    out[i] = running;
  });
  return out;
}

/**
 * Two-sided sign-flip (randomisation) p-value of the per-seed mean differences: under "no effect" each seed's
 * difference is as likely negated. Exact over all 2^S sign patterns up to 16 seeds, Monte Carlo (seeded)
 * beyond. One seed gives p = 1: a single seed is no evidence across seeds.
 */
export function signFlipP(perSeed: readonly number[], opts: { samples?: number; seed?: number } = {}): number {
  const S = perSeed.length;
  if (S === 0) return NaN;
  const observed = Math.abs(perSeed.reduce((a, b) => a + b, 0));
  const tol = 1e-12 * Math.max(1, observed);
  let hits = 0;
  let total = 0;
  const count = (mask: (i: number) => boolean) => {
    let s = 0;
    for (let i = 0; i < S; i++) s += mask(i) ? -perSeed[i] : perSeed[i];
    total++;
    if (Math.abs(s) >= observed - tol) hits++;
  };
  if (S <= 16) {
    for (let m = 0; m < 1 << S; m++) count((i) => ((m >> i) & 1) === 1);
  } else {
    const r = rng(opts.seed ?? 0);
    const n = opts.samples ?? 20000;
    for (let k = 0; k < n; k++) count(() => r() < 0.5);
  }
  return hits / total;
}

export type ContrastGroup = 'overall' | 'known' | 'unknown';

export interface Contrast {
  /** Condition names (the datasets' names, e.g. "harmonious", "mixture-0.2"; "base-chat" is the untuned base in the tuned format). */
  a: string;
  b: string;
  set: 'homo' | 'id' | 'ood';
  protocol: string;
  group: ContrastGroup;
  /** a − b in tuned accuracy (a fraction: 0.081 is 8.1 points), mean over seeds. */
  mean: number;
  lo: number;
  hi: number;
  /** Sign-flip p-value across seeds (1 with a single seed). */
  p: number;
  /** The per-seed mean differences, in seed order. */
  perSeed: number[];
  seeds: number;
  /** Questions in the group. */
  n: number;
  /** The interval lies above 0. */
  holds: boolean;
  /** The interval lies below 0 (the opposite of a − b > 0 holds). */
  reversed: boolean;
  /** Monte Carlo standard error of each interval end, and the resamples drawn (absent in results written before they were recorded). */
  mcLo?: number;
  mcHi?: number;
  samples?: number;
}

/** What a paired comparison measured, whatever it is keyed by. */
export type ContrastStats = Pick<Contrast, 'mean' | 'lo' | 'hi' | 'p' | 'perSeed' | 'seeds' | 'n' | 'holds' | 'reversed' | 'mcLo' | 'mcHi' | 'samples'>;

/** One paired comparison's inputs: per seed, the 0/1 correctness of a and b on the group's questions. */
export function contrastOf<K extends { a: string; b: string }>(
  key: K,
  perSeed: readonly { a: readonly number[]; b: readonly number[] }[],
  opts: BootstrapSettings = {},
): K & ContrastStats {
  const d = perSeed.map(({ a, b }) => {
    if (a.length !== b.length) throw new Error(`contrast ${key.a} − ${key.b}: ${a.length} vs ${b.length} questions`);
    return Float64Array.from(a, (x, i) => x - b[i]);
  });
  return contrastOfDifferences(key, d, opts);
}

/** A paired comparison from per-seed per-question differences directly (e.g. of per-question consistency). */
export function contrastOfDifferences<K extends { a: string; b: string }>(key: K, d: PairedSeeds, opts: BootstrapSettings = {}): K & ContrastStats {
  const iv = pairedBootstrap(d, opts);
  const means = d.map((x) => (x.length ? x.reduce((s, v) => s + v, 0) / x.length : NaN));
  const n = d[0]?.length ?? 0;
  const p = n === 0 ? NaN : signFlipP(means, { seed: opts.seed });
  return { ...key, mean: iv.mean, lo: iv.lo, hi: iv.hi, p, perSeed: means, seeds: d.length, n, holds: iv.lo > 0, reversed: iv.hi < 0, mcLo: iv.mcLo, mcHi: iv.mcHi, samples: iv.samples };
}
