/**
 * The one builder of a SharedResult from trained runs with their evaluation reports — a browser or CLI
 * experiment (via src/worker/result.ts) and a recipe's results.json (recipe-results.ts) both come through
 * here, so they render alike. Only type imports from the lab: the page never loads the lab's code.
 */
import type { Contrast } from '../lab/contrasts';
import type { GroupMetrics, EvalReport, TestSetName } from '../lab/evaluate';
import type { RunFit, SweepResult } from '../lab/experiment';
import type { TeachingBreakdown } from '../lab/teaching';
import type { UnknownShareResult } from '../lab/unknown-share';
import { conditionLabel, TEACHING_LABEL } from '../util/condition-names';
import { SLICK_CATEGORIES, type Accuracy, type ConditionKind, type ConditionResult, type SharedContrast, type SharedManifest, type SharedResult, type SharedTeaching, type SharedUnknownShare } from './types';

const SETS: readonly TestSetName[] = ['homo', 'id', 'ood'];


/** Finite and within [lo, hi]: the share schema accepts nothing else (an empty set has no accuracy). */
const clamp = (x: number, lo: number, hi: number) => (Number.isFinite(x) ? Math.min(hi, Math.max(lo, x)) : lo);
const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** One trained run as the share builder needs it (the lab's RunRecord is one). */
export interface RunForShare {
  condition: string;
  kind: string;
  ratio?: number;
  seed: number;
  evals: Record<string, EvalReport>;
  /** Training items; the fit's n where there is a fit. */
  trainSize?: number;
  fit?: RunFit;
}

export interface ShareInput {
  title: string;
  /** Confirmatory under `plan`, or exploratory (absent: not recorded, e.g. a recipe's results). */
  status?: SharedResult['status'];
  plan?: SharedResult['plan'];
  manifest: SharedManifest;
  protocol: string;
  runs: readonly RunForShare[];
  counts: { known: number; unknown: number };
  contrasts?: readonly Contrast[];
  sweep?: SweepResult | null;
  method?: string;
  teaching?: TeachingBreakdown;
  /** The Unknown-share design's result (then `runs` may be empty). */
  unknownShare?: UnknownShareResult;
  /** The untuned base's accuracy in this protocol, for a result with no Ren run to read it from. */
  baseAccuracy?: Partial<Record<TestSetName, number>>;
}

/** The Unknown-share result as a link carries it: means over seeds per epoch, early stop vs last epoch, the contrasts. */
export function sharedUnknownShare(u: UnknownShareResult): SharedUnknownShare {
  const fin = (x: number | undefined | null) => (x !== undefined && x !== null && Number.isFinite(x) ? clamp(x, 0, 1) : null);
  const meanOf = (xs: readonly (number | undefined)[]) => mean(xs.filter((x): x is number => x !== undefined && Number.isFinite(x)));
  return {
    size: u.size,
    devSize: u.dev.length,
    rest: [...u.settings.rest],
    shares: u.settings.shares.slice(0, 16).flatMap((share) => {
      const runs = u.runs.filter((r) => r.share === share);
      if (!runs.length) return [];
      const epochs = Math.min(100, Math.max(...runs.map((r) => r.epochs.length)));
      const perEpoch = (pick: (e: (typeof runs)[number]['epochs'][number]) => number | undefined) => Array.from({ length: epochs }, (_, i) => meanOf(runs.map((r) => (r.epochs[i] ? pick(r.epochs[i]) : undefined))));
      const test: SharedUnknownShare['shares'][number]['test'] = {};
      for (const set of SETS) if (runs[0].epochs[0]?.test[set]) test[set] = perEpoch((e) => e.test[set]?.overall).map((x) => clamp(x, 0, 1));
      const at = (r: (typeof runs)[number], which: 'early' | 'last') => (which === 'early' ? r.epochs[r.earlyStopEpoch - 1] : r.epochs.at(-1)!);
      return [
        {
          share,
          seeds: runs.length,
          earlyStop: runs.map((r) => r.earlyStopEpoch),
          dev: perEpoch((e) => e.dev).map((x) => clamp(x, 0, 1)),
          test,
          fit: SLICK_CATEGORIES.flatMap((category) => {
            const acc = perEpoch((e) => e.fit.byCategory[category]).map((x) => fin(x));
            return acc.some((x) => x !== null) ? [{ category, acc }] : [];
          }),
          early: {
            dev: clamp(meanOf(runs.map((r) => at(r, 'early').dev)), 0, 1),
            test: Object.fromEntries(SETS.filter((set) => test[set]).map((set) => [set, clamp(meanOf(runs.map((r) => at(r, 'early').test[set]?.overall)), 0, 1)])),
          },
          byCategory: SETS.flatMap((set) =>
            SLICK_CATEGORIES.flatMap((category) => {
              const n = (u.testCategories[set] ?? []).filter((c) => c === category).length;
              if (!n) return [];
              return [{ set, category, n, early: fin(meanOf(runs.map((r) => at(r, 'early').test[set]?.byCategory[category]))), last: fin(meanOf(runs.map((r) => at(r, 'last').test[set]?.byCategory[category]))) }];
            }),
          ),
        },
      ];
    }),
    contrasts: u.contrasts
      .filter((c) => Number.isFinite(c.mean) && Number.isFinite(c.lo) && Number.isFinite(c.hi))
      .slice(0, 600)
      .map((c) => ({ a: c.a, b: c.b, set: c.set, stop: c.stop, group: c.group, mean: clamp(c.mean, -1, 1), lo: clamp(c.lo, -1, 1), hi: clamp(c.hi, -1, 1), p: Number.isFinite(c.p) ? clamp(c.p, 0, 1) : 1, seeds: c.seeds, n: c.n, holds: c.holds, reversed: c.reversed })),
  };
}

/** The lab's teaching breakdown as a link carries it (labels and finite numbers only). */
function sharedTeaching(t: TeachingBreakdown): SharedTeaching {
  const ids = Object.keys(t.accuracy).slice(0, 8);
  const n = (g: string) => Object.values(t.counts[g] ?? {}).reduce((a, b) => a + (b ?? 0), 0);
  const models = [...new Set(ids.flatMap((g) => Object.keys(t.accuracy[g])))];
  const fin = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? clamp(x, 0, 1) : null);
  return {
    groups: ids.map((id) => ({ id, label: TEACHING_LABEL[id] ?? id, n: n(id) })),
    accuracy: models.map((m) => ({ model: m.startsWith('base') ? m : conditionLabel(m), acc: ids.map((g) => fin(t.accuracy[g][m])) })),
    contrasts: t.contrasts
      .filter((c) => ids.includes(c.teaching) && Number.isFinite(c.mean) && Number.isFinite(c.lo) && Number.isFinite(c.hi))
      .map((c) => ({ a: conditionLabel(c.a), b: conditionLabel(c.b), teaching: c.teaching, mean: clamp(c.mean, -1, 1), lo: clamp(c.lo, -1, 1), hi: clamp(c.hi, -1, 1), p: Number.isFinite(c.p) ? clamp(c.p, 0, 1) : 1, seeds: c.seeds, n: c.n, holds: c.holds, reversed: c.reversed })),
  };
}

/** Mean over seeds of an accuracy and of its bootstrap bounds. */
function accuracy(ms: readonly (GroupMetrics | undefined)[], which: 'baseAccuracy' | 'tunedAccuracy'): Accuracy {
  const m = ms.filter((x): x is GroupMetrics => !!x && x.n > 0);
  if (!m.length) return { acc: 0, lo: 0, hi: 0, n: 0 };
  return {
    acc: clamp(mean(m.map((x) => x[which].value)), 0, 1),
    lo: clamp(mean(m.map((x) => x[which].lo)), 0, 1),
    hi: clamp(mean(m.map((x) => x[which].hi)), 0, 1),
    n: m[0].n,
  };
}

/** A mean over the test sets weighted by their questions (the report's single number per condition). */
function pooled(runs: readonly RunForShare[], protocol: string, group: 'overall' | 'known' | 'unknown', pick: (g: GroupMetrics) => number): number {
  const per = runs.map((r) => {
    let sum = 0;
    let n = 0;
    for (const s of SETS) {
      const g = r.evals[protocol]?.sets[s]?.[group];
      if (!g || g.n === 0 || !Number.isFinite(pick(g))) continue;
      sum += pick(g) * g.n;
      n += g.n;
    }
    return n ? sum / n : NaN;
  });
  return mean(per.filter(Number.isFinite));
}

function conditionResult(all: readonly RunForShare[], condition: string, protocol: string): ConditionResult {
  const runs = all.filter((r) => r.condition === condition);
  const first = runs[0];
  const set = (s: TestSetName) => accuracy(runs.map((r) => r.evals[protocol]?.sets[s]?.overall), 'tunedAccuracy');
  const fits = runs.map((r) => r.fit).filter((f): f is RunFit => !!f);
  const epochs = Math.max(0, ...fits.map((f) => f.lossPerEpoch.length));
  const tuned = (r: RunForShare, s: TestSetName) => clamp(r.evals[protocol]?.sets[s]?.overall.tunedAccuracy.value ?? NaN, 0, 1);
  return {
    name: conditionLabel(condition),
    kind: first.kind as ConditionKind,
    ratio: first.ratio ?? null,
    trainSize: first.fit?.n ?? first.trainSize ?? 0,
    homo: set('homo'),
    id: set('id'),
    ood: set('ood'),
    knownAcc: clamp(pooled(runs, protocol, 'known', (g) => g.tunedAccuracy.value), 0, 1),
    unknownAcc: clamp(pooled(runs, protocol, 'unknown', (g) => g.tunedAccuracy.value), 0, 1),
    consistency: clamp(pooled(runs, protocol, 'overall', (g) => g.consistency.value), -1, 1),
    kl: clamp(pooled(runs, protocol, 'overall', (g) => g.kl.value), 0, 1e6),
    seeds: runs.length,
    perSeed: runs.map((r) => ({ seed: r.seed, homo: tuned(r, 'homo'), id: tuned(r, 'id'), ood: tuned(r, 'ood') })),
    ...(fits.length
      ? {
          fit: {
            before: clamp(mean(fits.map((f) => f.before)), 0, 1),
            after: clamp(mean(fits.map((f) => f.after)), 0, 1),
            underTrained: fits.some((f) => f.underTrained),
            reason: fits.find((f) => f.underTrained)?.reason?.slice(0, 400) ?? null,
          },
          lossPerEpoch: Array.from({ length: epochs }, (_, e) => clamp(mean(fits.map((f) => f.lossPerEpoch[e]).filter((x) => Number.isFinite(x))), 0, 1e6)),
        }
      : {}),
  };
}

/** The share-ready result of one protocol. */
export function sharedResult(o: ShareInput): SharedResult {
  const conditions = [...new Set(o.runs.map((r) => r.condition))];
  const anyRun = o.runs.find((r) => r.evals[o.protocol]);
  const given = (s: TestSetName): Accuracy => ({ acc: clamp(o.baseAccuracy?.[s] ?? 0, 0, 1), lo: clamp(o.baseAccuracy?.[s] ?? 0, 0, 1), hi: clamp(o.baseAccuracy?.[s] ?? 0, 0, 1), n: 0 });
  const base = (s: TestSetName) => (anyRun ? accuracy([anyRun.evals[o.protocol].sets[s]?.overall], 'baseAccuracy') : given(s));
  const chatRun = o.runs.find((r) => r.evals['like-for-like']);
  const chatBase = (s: TestSetName) => accuracy([chatRun?.evals['like-for-like'].sets[s]?.overall], 'baseAccuracy');
  const sweep = o.sweep;
  const contrasts: SharedContrast[] = (o.contrasts ?? [])
    .filter((c) => c.protocol === o.protocol && Number.isFinite(c.mean) && Number.isFinite(c.lo) && Number.isFinite(c.hi))
    .map((c) => ({
      a: conditionLabel(c.a),
      b: conditionLabel(c.b),
      set: c.set,
      group: c.group,
      mean: clamp(c.mean, -1, 1),
      lo: clamp(c.lo, -1, 1),
      hi: clamp(c.hi, -1, 1),
      p: clamp(c.p, 0, 1),
      seeds: c.seeds,
      n: c.n,
      holds: c.holds,
      reversed: c.reversed,
    }));
  return {
    v: 1,
    title: o.title.slice(0, 400),
    ...(o.status ? { status: o.status } : {}),
    ...(o.status === 'confirmatory' && o.plan ? { plan: o.plan } : {}),
    manifest: o.manifest,
    base: { homo: base('homo'), id: base('id'), ood: base('ood') },
    counts: o.counts,
    conditions: conditions.map((c) => conditionResult(o.runs, c, o.protocol)),
    partial: sweep && sweep.status === 'ok' && Number.isFinite(sweep.r) && sweep.p !== null && Number.isFinite(sweep.p) ? { r: clamp(sweep.r, -1, 1), n: sweep.n, p: clamp(sweep.p, 0, 1) } : null,
    ...(sweep && sweep.status !== 'ok' ? { partialNote: `not enough ratios: ${sweep.ratios} distinct, the partial correlation needs ${sweep.needed}` } : {}),
    ...(chatRun ? { chatBase: { homo: chatBase('homo'), id: chatBase('id'), ood: chatBase('ood') } } : {}),
    ...(o.contrasts ? { contrasts } : {}),
    ...(o.method ? { method: o.method.slice(0, 120) } : {}),
    ...(o.teaching ? { teaching: sharedTeaching(o.teaching) } : {}),
    ...(o.unknownShare ? { unknownShare: sharedUnknownShare(o.unknownShare) } : {}),
  };
}
