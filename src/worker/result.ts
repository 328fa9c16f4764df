/**
 * From the lab's evaluation reports to what the page shows and shares: a SharedResult (numbers and the
 * manifest, never weights) and, per condition, the test questions whose answer the fine-tuning changed.
 */
import type { EvalReport, GroupMetrics, SetScores, TestSetName } from '../lab/evaluate';
import { partialSpearman } from '../lab/metrics';
import type { ScoredQuestion } from '../lab/probe';
import { LETTERS, type Question } from '../lab/questions/types';
import type { Accuracy, ConditionResult, Manifest, SharedResult } from '../share/types';
import type { ConditionId, QuestionChange } from './protocol';

const SETS: readonly TestSetName[] = ['homo', 'id', 'ood'];

/** Finite and within [lo, hi]: the share schema accepts nothing else (an empty set has no accuracy). */
const clamp = (x: number, lo: number, hi: number) => (Number.isFinite(x) ? Math.min(hi, Math.max(lo, x)) : lo);

function accuracy(m: GroupMetrics | undefined, which: 'baseAccuracy' | 'tunedAccuracy'): Accuracy {
  if (!m || m.n === 0) return { acc: 0, lo: 0, hi: 0, n: 0 };
  const i = m[which];
  return { acc: clamp(i.value, 0, 1), lo: clamp(i.lo, 0, 1), hi: clamp(i.hi, 0, 1), n: m.n };
}

/** A mean over the test sets weighted by their questions (the report's single number per condition). */
function pooled(report: EvalReport, group: 'overall' | 'known' | 'unknown', pick: (g: GroupMetrics) => number): number {
  let sum = 0;
  let n = 0;
  for (const s of SETS) {
    const g = report.sets[s]?.[group];
    if (!g || g.n === 0 || !Number.isFinite(pick(g))) continue;
    sum += pick(g) * g.n;
    n += g.n;
  }
  return n ? sum / n : 0;
}

export interface ConditionRun {
  datasetId: string;
  condition: ConditionId;
  ratio: number | null;
  label: string;
  trainSize: number;
  hash: string;
  report: EvalReport;
}

export function conditionResult(r: ConditionRun): ConditionResult {
  const set = (s: TestSetName) => accuracy(r.report.sets[s]?.overall, 'tunedAccuracy');
  return {
    name: r.label,
    kind: r.condition,
    ratio: r.ratio,
    trainSize: r.trainSize,
    homo: set('homo'),
    id: set('id'),
    ood: set('ood'),
    knownAcc: clamp(pooled(r.report, 'known', (g) => g.tunedAccuracy.value), 0, 1),
    unknownAcc: clamp(pooled(r.report, 'unknown', (g) => g.tunedAccuracy.value), 0, 1),
    consistency: clamp(pooled(r.report, 'overall', (g) => g.consistency.value), -1, 1),
    kl: clamp(pooled(r.report, 'overall', (g) => g.kl.value), 0, 1e6),
  };
}

/** Partial Spearman of C with tuned accuracy controlling for base accuracy, over mixture runs × test sets. */
function sweep(runs: readonly ConditionRun[]): SharedResult['partial'] {
  const pts: [number, number, number][] = [];
  for (const r of runs) {
    if (r.condition !== 'mixture' && r.condition !== 'incompatible' && r.condition !== 'selfAligning') continue;
    for (const s of SETS) {
      const g = r.report.sets[s]?.overall;
      if (g && g.n > 0) pts.push([g.consistency.value, g.tunedAccuracy.value, g.baseAccuracy.value]);
    }
  }
  if (pts.length < 4 || !runs.some((r) => r.condition === 'mixture')) return null;
  const pc = partialSpearman(
    pts.map((p) => p[0]),
    pts.map((p) => p[1]),
    pts.map((p) => p[2]),
  );
  if (!Number.isFinite(pc.r) || pc.p === null || !Number.isFinite(pc.p)) return null;
  return { r: clamp(pc.r, -1, 1), n: pc.n, p: clamp(pc.p, 0, 1) };
}

export function sharedResult(o: {
  title: string;
  manifest: Manifest;
  baseReport: EvalReport | null;
  counts: { known: number; unknown: number };
  runs: readonly ConditionRun[];
}): SharedResult {
  const base = (s: TestSetName) => accuracy(o.baseReport?.sets[s]?.overall, 'baseAccuracy');
  return {
    v: 1,
    title: o.title.slice(0, 400),
    manifest: o.manifest,
    base: { homo: base('homo'), id: base('id'), ood: base('ood') },
    counts: o.counts,
    conditions: o.runs.map(conditionResult),
    partial: sweep(o.runs),
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
