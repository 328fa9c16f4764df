/**
 * From the lab's ExperimentResult to what the page shows and shares: a SharedResult (numbers and the
 * manifest, never weights) for one protocol, and, per condition, the test questions whose answer the
 * fine-tuning changed. Every number comes from the lab's result; nothing is recomputed here (the partial
 * correlation and the contrasts are the lab's own).
 */
import type { ExperimentResult, RunRecord } from '../lab/experiment';
import type { GroupMetrics, SetScores, TestSetName } from '../lab/evaluate';
import { conditionLabel } from '../lab/manifest';
import type { ScoredQuestion } from '../lab/probe';
import { LETTERS, type Question } from '../lab/questions/types';
import type { Accuracy, ConditionKind, ConditionResult, Manifest, SharedContrast, SharedResult } from '../share/types';
import type { QuestionChange } from './protocol';

const SETS: readonly TestSetName[] = ['homo', 'id', 'ood'];

/** Finite and within [lo, hi]: the share schema accepts nothing else (an empty set has no accuracy). */
const clamp = (x: number, lo: number, hi: number) => (Number.isFinite(x) ? Math.min(hi, Math.max(lo, x)) : lo);
const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

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

function plainAccuracy(s: readonly ScoredQuestion[] | undefined): Accuracy {
  if (!s || !s.length) return { acc: 0, lo: 0, hi: 0, n: 0 };
  // The share schema wants an interval; the untuned base's is from the runs' bootstrap where there is one.
  const a = s.filter((q) => q.correct).length / s.length;
  return { acc: a, lo: a, hi: a, n: s.length };
}

/** A mean over the test sets weighted by their questions (the report's single number per condition). */
function pooled(runs: readonly RunRecord[], protocol: string, group: 'overall' | 'known' | 'unknown', pick: (g: GroupMetrics) => number): number {
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

function conditionResult(result: ExperimentResult, condition: string, protocol: string): ConditionResult {
  const runs = result.runs.filter((r) => r.condition === condition);
  const first = runs[0];
  const set = (s: TestSetName) => accuracy(runs.map((r) => r.evals[protocol]?.sets[s]?.overall), 'tunedAccuracy');
  const epochs = Math.max(0, ...runs.map((r) => r.fit.lossPerEpoch.length));
  return {
    name: conditionLabel(condition),
    kind: first.kind as ConditionKind,
    ratio: first.ratio ?? null,
    trainSize: first.fit.n,
    homo: set('homo'),
    id: set('id'),
    ood: set('ood'),
    knownAcc: clamp(pooled(runs, protocol, 'known', (g) => g.tunedAccuracy.value), 0, 1),
    unknownAcc: clamp(pooled(runs, protocol, 'unknown', (g) => g.tunedAccuracy.value), 0, 1),
    consistency: clamp(pooled(runs, protocol, 'overall', (g) => g.consistency.value), -1, 1),
    kl: clamp(pooled(runs, protocol, 'overall', (g) => g.kl.value), 0, 1e6),
    seeds: runs.length,
    perSeed: runs.map((r) => ({
      seed: r.seed,
      homo: clamp(r.evals[protocol]?.sets.homo?.overall.tunedAccuracy.value ?? NaN, 0, 1),
      id: clamp(r.evals[protocol]?.sets.id?.overall.tunedAccuracy.value ?? NaN, 0, 1),
      ood: clamp(r.evals[protocol]?.sets.ood?.overall.tunedAccuracy.value ?? NaN, 0, 1),
    })),
    fit: {
      before: clamp(mean(runs.map((r) => r.fit.before)), 0, 1),
      after: clamp(mean(runs.map((r) => r.fit.after)), 0, 1),
      underTrained: runs.some((r) => r.fit.underTrained),
      reason: runs.find((r) => r.fit.underTrained)?.fit.reason?.slice(0, 400) ?? null,
    },
    lossPerEpoch: Array.from({ length: epochs }, (_, e) => clamp(mean(runs.map((r) => r.fit.lossPerEpoch[e]).filter((x) => Number.isFinite(x))), 0, 1e6)),
  };
}

/** The share-ready result of one protocol ('paper' or 'like-for-like'). */
export function sharedResultOf(result: ExperimentResult, o: { protocol: string; title: string; manifest: Manifest }): SharedResult {
  const conditions = [...new Set(result.runs.map((r) => r.condition))];
  const anyRun = result.runs.find((r) => r.evals[o.protocol]);
  const base = (s: TestSetName) => (anyRun ? accuracy([anyRun.evals[o.protocol].sets[s]?.overall], 'baseAccuracy') : { acc: 0, lo: 0, hi: 0, n: 0 });
  const chatRun = result.runs.find((r) => r.evals['like-for-like']);
  const chatBase = (s: TestSetName) => (chatRun ? accuracy([chatRun.evals['like-for-like'].sets[s]?.overall], 'baseAccuracy') : plainAccuracy(undefined));
  const sweep = result.sweep[o.protocol];
  const contrasts: SharedContrast[] = result.contrasts
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
    manifest: o.manifest,
    base: { homo: base('homo'), id: base('id'), ood: base('ood') },
    counts: { known: result.probe.counts.known, unknown: result.probe.counts.unknown },
    conditions: conditions.map((c) => conditionResult(result, c, o.protocol)),
    partial: sweep && sweep.status === 'ok' && Number.isFinite(sweep.r) && sweep.p !== null && Number.isFinite(sweep.p) ? { r: clamp(sweep.r, -1, 1), n: sweep.n, p: clamp(sweep.p, 0, 1) } : null,
    ...(sweep && sweep.status !== 'ok' ? { partialNote: `not enough ratios: ${sweep.ratios} distinct, the partial correlation needs ${sweep.needed}` } : {}),
    chatBase: { homo: chatBase('homo'), id: chatBase('id'), ood: chatBase('ood') },
    contrasts,
    method: result.config.probe.method,
  };
}

/** Test questions whose predicted letter differs between the base and the tuned model (at most `limit`). */
export function questionChanges(tests: Partial<Record<TestSetName, readonly Question[]>>, base: SetScores, tuned: SetScores, limit = 200): QuestionChange[] {
  const out: QuestionChange[] = [];
  for (const s of SETS) {
    const qs = tests[s] ?? [];
    const b = new Map((base[s] ?? []).map((x) => [x.id, x]));
    const t = new Map((tuned[s] ?? []).map((x) => [x.id, x]));
    for (const q of qs) {
      const x: ScoredQuestion | undefined = b.get(q.id);
      const y: ScoredQuestion | undefined = t.get(q.id);
      if (!x || !y || x.pred === y.pred) continue;
      out.push({
        question: q.question,
        subject: q.subject,
        gold: LETTERS[q.answer],
        base: LETTERS[x.pred],
        tuned: LETTERS[y.pred],
        baseP: x.confidence,
        tunedP: y.confidence,
        known: x.correct,
      });
      if (out.length >= limit) return out;
    }
  }
  return out;
}
