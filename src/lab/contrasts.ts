/**
 * Paired contrasts between conditions: a − b in tuned accuracy on the same test questions, trained with the
 * same seeds. The mean over seeds, a 95 % interval from a two-level paired bootstrap (seeds and questions
 * resampled together, the pairing kept), and a sign-flip p-value across seeds. A contrast "holds" only when
 * its interval lies above 0 — never from the sign of a mean.
 */
import { percentileInterval } from './metrics';
import { rng } from './random';

/** One seed's per-question differences d(q) = a(q) − b(q) (the same questions, in the same order, for every seed). */
export type PairedSeeds = readonly Float64Array[];

export interface PairedInterval {
  /** Mean over seeds of the mean over questions. */
  mean: number;
  lo: number;
  hi: number;
}

/**
 * Two-level percentile bootstrap of the mean difference: each replicate draws the seeds with replacement and
 * the question indices with replacement (one draw shared by every seed, since the questions are the same),
 * and averages d over the drawn seeds and questions.
 */
export function pairedBootstrap(d: PairedSeeds, opts: { samples?: number; seed?: number; level?: number } = {}): PairedInterval {
  const S = d.length;
  const Q = S ? d[0].length : 0;
  for (const x of d) if (x.length !== Q) throw new Error(`pairedBootstrap: seeds have ${Q} and ${x.length} questions`);
  if (S === 0 || Q === 0) return { mean: NaN, lo: NaN, hi: NaN };
  let mean = 0;
  for (const x of d) for (let i = 0; i < Q; i++) mean += x[i];
  mean /= S * Q;
  const samples = opts.samples ?? 1000;
  if (samples <= 0) return { mean, lo: NaN, hi: NaN };
  const r = rng(opts.seed ?? 0);
  const stats = new Float64Array(samples);
  const qi = new Int32Array(Q);
  const si = new Int32Array(S);
  for (let b = 0; b < samples; b++) {
    for (let i = 0; i < S; i++) si[i] = Math.floor(r() * S);
    for (let i = 0; i < Q; i++) qi[i] = Math.floor(r() * Q);
    let s = 0;
    for (let k = 0; k < S; k++) {
      const x = d[si[k]];
      for (let i = 0; i < Q; i++) s += x[qi[i]];
    }
    stats[b] = s / (S * Q);
  }
  return { mean, ...percentileInterval(stats, opts.level) };
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
}

/** What a paired comparison measured, whatever it is keyed by. */
export type ContrastStats = Pick<Contrast, 'mean' | 'lo' | 'hi' | 'p' | 'perSeed' | 'seeds' | 'n' | 'holds' | 'reversed'>;

/** One paired comparison's inputs: per seed, the 0/1 correctness of a and b on the group's questions. */
export function contrastOf<K extends { a: string; b: string }>(
  key: K,
  perSeed: readonly { a: readonly number[]; b: readonly number[] }[],
  opts: { samples?: number; seed?: number } = {},
): K & ContrastStats {
  const d = perSeed.map(({ a, b }) => {
    if (a.length !== b.length) throw new Error(`contrast ${key.a} − ${key.b}: ${a.length} vs ${b.length} questions`);
    return Float64Array.from(a, (x, i) => x - b[i]);
  });
  const iv = pairedBootstrap(d, opts);
  const means = d.map((x) => (x.length ? x.reduce((s, v) => s + v, 0) / x.length : NaN));
  const n = d[0]?.length ?? 0;
  const p = n === 0 ? NaN : signFlipP(means, opts);
  return { ...key, mean: iv.mean, lo: iv.lo, hi: iv.hi, p, perSeed: means, seeds: d.length, n, holds: iv.lo > 0, reversed: iv.hi < 0 };
}
