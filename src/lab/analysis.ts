/**
 * What a result may claim: one primary endpoint decided by the exact sign-flip test over seeds at α, a
 * secondary family Holm-corrected, and everything else descriptive. A plan (src/lab/plan.ts) freezes the
 * endpoints before the run; a result without one is exploratory and its decisions are only previews.
 *
 * Each endpoint is a paired contrast a − b: in tuned accuracy (0/1 per question) or in knowledge
 * consistency (per-question Spearman of the protocol's base against the tuned distribution), on one test
 * set or pooled over HOMO, ID and OOD (the questions concatenated), with the seed as the unit of the test.
 */
import { contrastOfDifferences, holm, minimumSignFlipP, seedsNeeded, type BootstrapSettings, type ContrastStats } from './contrasts';
import { TEST_SETS, type SetScores, type TestSetName } from './evaluate';
import { spearman } from './metrics';
import type { ScoredQuestion } from './probe';
import { rng, shuffled } from './random';

export type EndpointMeasure = 'accuracy' | 'consistency';
export type EndpointSet = 'pooled' | TestSetName;

export interface EndpointSpec {
  /** A short name: "H − I", "C: S − I". */
  id: string;
  a: string;
  b: string;
  measure: EndpointMeasure;
  set: EndpointSet;
  protocol: string;
}

/** The paper's headline: Harmonious − Incompatible in tuned accuracy, all test questions pooled, paper protocol. */
export const DEFAULT_PRIMARY: EndpointSpec = { id: 'H − I', a: 'harmonious', b: 'incompatible', measure: 'accuracy', set: 'pooled', protocol: 'paper' };

/** The paper's other claims: S − I and S − R pooled, H − I per test set, and the consistency gap C(S) − C(I). */
export const DEFAULT_SECONDARY: readonly EndpointSpec[] = [
  { id: 'S − I', a: 'selfAligning', b: 'incompatible', measure: 'accuracy', set: 'pooled', protocol: 'paper' },
  { id: 'S − R', a: 'selfAligning', b: 'randomWrong', measure: 'accuracy', set: 'pooled', protocol: 'paper' },
  { id: 'H − I (HOMO)', a: 'harmonious', b: 'incompatible', measure: 'accuracy', set: 'homo', protocol: 'paper' },
  { id: 'H − I (ID)', a: 'harmonious', b: 'incompatible', measure: 'accuracy', set: 'id', protocol: 'paper' },
  { id: 'H − I (OOD)', a: 'harmonious', b: 'incompatible', measure: 'accuracy', set: 'ood', protocol: 'paper' },
  { id: 'C: S − I', a: 'selfAligning', b: 'incompatible', measure: 'consistency', set: 'pooled', protocol: 'paper' },
];

export const DEFAULT_ALPHA = 0.05;

/** The decision rule in words, as a plan records it. */
export function decisionRuleText(alpha: number): string {
  return (
    `Primary: a − b > 0 is supported when the exact two-sided sign-flip test over the per-seed mean differences gives p ≤ ${alpha} ` +
    `and the mean is positive (reversed when p ≤ ${alpha} and the mean is negative); with fewer than ${seedsNeeded(alpha)} seeds the test cannot reach α and nothing is decided. ` +
    `Secondary: the same test, p-values Holm-adjusted over the family at ${alpha}. Every other contrast is descriptive. ` +
    `Intervals: two-level paired bootstrap (seeds and questions), at least 10,000 resamples, ends reported with their Monte Carlo error.`
  );
}

export type Decision = 'supported' | 'reversed' | 'not supported' | 'cannot reach α' | 'not measured';

export interface EndpointResult extends Partial<ContrastStats> {
  spec: EndpointSpec;
  role: 'primary' | 'secondary';
  /** Holm-adjusted p (secondary) or the raw p (primary). */
  pDecision: number | null;
  /** The smallest p the test could give with these seeds. */
  minimumP: number | null;
  decision: Decision;
}

export interface Analysis {
  status: 'confirmatory' | 'exploratory';
  alpha: number;
  /** Seeds the endpoints were measured on. */
  seeds: number;
  /** The fewest seeds the test needs to reach α. */
  seedsNeeded: number;
  primary: EndpointResult;
  secondary: EndpointResult[];
  rule: string;
}

/** One model's scores per test set, by condition and seed ("base-chat" needs no seed). */
export type ScoresOf = (condition: string, seed: number) => SetScores | undefined;

/** Per seed, the per-question values of a − b on the endpoint's questions (null where a run is missing). */
export function endpointDifferences(
  spec: EndpointSpec,
  scoresOf: ScoresOf,
  base: SetScores,
  seeds: readonly number[],
): { seeds: number[]; d: Float64Array[] } {
  const sets = spec.set === 'pooled' ? TEST_SETS.filter((s) => base[s]?.length) : base[spec.set]?.length ? [spec.set] : [];
  const out: { seeds: number[]; d: Float64Array[] } = { seeds: [], d: [] };
  for (const seed of seeds) {
    const a = scoresOf(spec.a, seed);
    const b = scoresOf(spec.b, seed);
    if (!a || !b || sets.some((s) => !a[s] || !b[s])) continue;
    const values: number[] = [];
    for (const set of sets) {
      const ref = base[set]!;
      const ia = byId(a[set]!);
      const ib = byId(b[set]!);
      for (const q of ref) {
        const x = ia.get(q.id);
        const y = ib.get(q.id);
        if (!x || !y) throw new Error(`endpoint ${spec.id}: question ${q.id} was not scored for ${!x ? spec.a : spec.b}`);
        values.push(spec.measure === 'accuracy' ? (x.correct ? 1 : 0) - (y.correct ? 1 : 0) : spearman(q.probs, x.probs) - spearman(q.probs, y.probs));
      }
    }
    out.seeds.push(seed);
    out.d.push(Float64Array.from(values));
  }
  return out;
}

const cache = new WeakMap<readonly ScoredQuestion[], Map<string, ScoredQuestion>>();
function byId(s: readonly ScoredQuestion[]): Map<string, ScoredQuestion> {
  let m = cache.get(s);
  if (!m) cache.set(s, (m = new Map(s.map((x) => [x.id, x]))));
  return m;
}

/** One endpoint measured: its paired contrast over the seeds that have both conditions. */
export function measureEndpoint(spec: EndpointSpec, scoresOf: ScoresOf, baseOf: (protocol: string) => SetScores | undefined, seeds: readonly number[], boot: BootstrapSettings): Partial<ContrastStats> {
  const base = baseOf(spec.protocol);
  if (!base) return {};
  const { d } = endpointDifferences(spec, scoresOf, base, seeds);
  if (d.length === 0 || d[0].length === 0) return {};
  const { a: _a, b: _b, ...stats } = contrastOfDifferences({ a: spec.a, b: spec.b }, d, boot);
  return stats;
}

/** A decision from a p-value, the mean's sign and the seeds: nothing is decided where α cannot be reached. */
export function decide(p: number | null, mean: number | undefined, seeds: number, alpha: number): Decision {
  if (p === null || mean === undefined || !Number.isFinite(p)) return 'not measured';
  if (minimumSignFlipP(seeds) > alpha) return 'cannot reach α';
  if (p <= alpha && mean > 0) return 'supported';
  if (p <= alpha && mean < 0) return 'reversed';
  return 'not supported';
}

/** The primary endpoint and the Holm-corrected secondary family. */
export function analyse(
  o: { primary: EndpointSpec; secondary: readonly EndpointSpec[]; alpha: number; status: Analysis['status'] },
  scoresOf: ScoresOf,
  baseOf: (protocol: string) => SetScores | undefined,
  seeds: readonly number[],
  boot: BootstrapSettings,
): Analysis {
  const prim = measureEndpoint(o.primary, scoresOf, baseOf, seeds, boot);
  const sec = o.secondary.map((s) => measureEndpoint(s, scoresOf, baseOf, seeds, boot));
  const adjusted = holm(sec.map((x) => x.p ?? NaN));
  const result = (spec: EndpointSpec, role: EndpointResult['role'], x: Partial<ContrastStats>, pDecision: number | null): EndpointResult => ({
    spec,
    role,
    ...x,
    pDecision,
    minimumP: x.seeds ? minimumSignFlipP(x.seeds) : null,
    decision: decide(pDecision, x.mean, x.seeds ?? 0, o.alpha),
  });
  return {
    status: o.status,
    alpha: o.alpha,
    seeds: prim.seeds ?? 0,
    seedsNeeded: seedsNeeded(o.alpha),
    primary: result(o.primary, 'primary', prim, prim.p ?? null),
    secondary: o.secondary.map((s, i) => result(s, 'secondary', sec[i], sec[i].p === undefined ? null : adjusted[i])),
    rule: decisionRuleText(o.alpha),
  };
}

/** A decision in words, e.g. "supported (p = 0.016 ≤ 0.05)" or "cannot reach α = 0.05 with 3 seeds (smallest p 0.25)". */
export function decisionWords(e: EndpointResult, alpha: number, status: Analysis['status']): string {
  const p = e.pDecision === null ? '—' : e.pDecision < 0.001 ? '< 0.001' : e.pDecision.toFixed(3);
  const pName = e.role === 'secondary' ? 'Holm-adjusted p' : 'p';
  const words =
    e.decision === 'cannot reach α'
      ? `cannot reach α = ${alpha} with ${e.seeds} seed${e.seeds === 1 ? '' : 's'} (the smallest possible p is ${e.minimumP?.toFixed(3)}); nothing is decided`
      : e.decision === 'not measured'
        ? 'not measured (a condition or protocol is missing)'
        : `${e.decision} (${pName} = ${p}${e.decision === 'not supported' ? ` > ${alpha}` : ` ≤ ${alpha}`})`;
  return status === 'exploratory' && e.decision !== 'not measured' && e.decision !== 'cannot reach α' ? `exploratory only: would be ${words}` : words;
}

/** Consistency C orderings, from paired intervals only: a − b in per-question C, pooled over the test sets. */
export interface ConsistencyContrast extends ContrastStats {
  a: string;
  b: string;
  protocol: string;
}

/** The conditions in the paper's order of expected consistency. */
const C_ORDER = ['harmonious', 'selfAligning', 'randomWrong', 'incompatible'];

export function consistencyContrasts(conditions: readonly string[], protocols: readonly string[], scoresOf: ScoresOf, baseOf: (protocol: string) => SetScores | undefined, seeds: readonly number[], boot: BootstrapSettings): ConsistencyContrast[] {
  const present = C_ORDER.filter((c) => conditions.includes(c));
  const out: ConsistencyContrast[] = [];
  for (const protocol of protocols) {
    for (let i = 0; i < present.length; i++)
      for (let j = i + 1; j < present.length; j++) {
        const spec: EndpointSpec = { id: '', a: present[i], b: present[j], measure: 'consistency', set: 'pooled', protocol };
        const x = measureEndpoint(spec, scoresOf, baseOf, seeds, boot);
        if (x.mean === undefined) continue;
        out.push({ a: present[i], b: present[j], protocol, ...(x as ContrastStats) });
      }
  }
  return out;
}

/**
 * The ordering the paired intervals allow, in words: "a > b" only where a − b's interval lies above 0,
 * "a < b" where it lies below, and "a ≈ b (not ordered)" otherwise; with every seed's difference.
 */
export function orderingWords(cs: readonly ConsistencyContrast[], label: (c: string) => string): string[] {
  const f = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;
  return cs.map((c) => {
    const rel = c.lo > 0 ? '>' : c.hi < 0 ? '<' : '≈';
    const tail = rel === '≈' ? ' (not ordered: the interval holds 0)' : '';
    return `${label(c.a)} ${rel} ${label(c.b)}${tail}: C difference ${f(c.mean)} [${f(c.lo)}, ${f(c.hi)}]; per seed ${c.perSeed.map(f).join(', ')}`;
  });
}

export interface SweepPoint {
  runId: string;
  set: string;
  consistency: number;
  tunedAccuracy: number;
  baseAccuracy: number;
}

export interface RunUnitCorrelation {
  /** Partial Spearman r(C, tuned accuracy | base accuracy) over the points (runs × test sets), as the paper's code computes it. */
  r: number;
  /** Two-sided permutation p with the run as the unit: whole runs' C values are permuted among runs, each run's test sets kept together. */
  p: number | null;
  /** Runs (the units) and points. */
  runs: number;
  points: number;
  permutations: number;
  exact: boolean;
}

/**
 * The sweep's partial correlation with the run as the unit of analysis. The statistic is the paper's (a
 * Spearman partial correlation over every run × test set point); its p-value does not treat those points as
 * independent: under "C says nothing about accuracy beyond base accuracy" the runs are exchangeable, so each
 * run's C values (one per test set, kept together and aligned by set) are permuted among the runs. Exact over
 * all R! orders up to 8 runs, seeded Monte Carlo beyond (p = (1 + hits) / (1 + permutations)).
 */
export function runUnitPartialCorrelation(
  points: readonly SweepPoint[],
  partial: (x: readonly number[], y: readonly number[], z: readonly number[]) => number,
  opts: { samples?: number; seed?: number } = {},
): RunUnitCorrelation {
  const sets = [...new Set(points.map((p) => p.set))].sort();
  const byRun = new Map<string, Map<string, SweepPoint>>();
  for (const p of points) {
    const m = byRun.get(p.runId) ?? new Map<string, SweepPoint>();
    m.set(p.set, p);
    byRun.set(p.runId, m);
  }
  // Runs measured on every set (so that a permuted run's C lines up with the same test set's accuracy).
  const runs = [...byRun.values()].filter((m) => sets.every((s) => m.has(s))).map((m) => sets.map((s) => m.get(s)!));
  const y = runs.flatMap((r) => r.map((p) => p.tunedAccuracy));
  const z = runs.flatMap((r) => r.map((p) => p.baseAccuracy));
  const cOf = (order: readonly number[]) => order.flatMap((i) => runs[i].map((p) => p.consistency));
  const R = runs.length;
  const identity = runs.map((_, i) => i);
  const r = R ? partial(cOf(identity), y, z) : NaN;
  if (R < 3 || !Number.isFinite(r)) return { r, p: null, runs: R, points: R * sets.length, permutations: 0, exact: true };
  const observed = Math.abs(r) - 1e-12;
  let hits = 0;
  let total = 0;
  if (R <= 8) {
    const perm = identity.slice();
    const visit = (k: number) => {
      if (k === R) {
        total++;
        if (Math.abs(partial(cOf(perm), y, z)) >= observed) hits++;
        return;
      }
      for (let i = k; i < R; i++) {
        [perm[k], perm[i]] = [perm[i], perm[k]];
        visit(k + 1);
        [perm[k], perm[i]] = [perm[i], perm[k]];
      }
    };
    visit(0);
    return { r, p: hits / total, runs: R, points: R * sets.length, permutations: total, exact: true };
  }
  const n = opts.samples ?? 10_000;
  const rand = rng(opts.seed ?? 0);
  for (let k = 0; k < n; k++) if (Math.abs(partial(cOf(shuffled(identity, rand)), y, z)) >= observed) hits++;
  return { r, p: (1 + hits) / (1 + n), runs: R, points: R * sets.length, permutations: n, exact: false };
}
