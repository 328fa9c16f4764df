/**
 * From the lab's ExperimentResult to what the page shows and shares: a SharedResult (numbers and the
 * manifest, never weights) for one protocol, and, per condition, the test questions whose answer the
 * fine-tuning changed. Every number comes from the lab's result (its contrasts, its partial correlation).
 */
import type { ExperimentResult } from '../lab/experiment';
import type { SetScores, TestSetName } from '../lab/evaluate';
import type { ScoredQuestion } from '../lab/probe';
import { LETTERS, type Question } from '../lab/questions/types';
import { sharedResult } from '../share/from-runs';
import type { SharedManifest, SharedResult } from '../share/types';
import type { QuestionChange } from './protocol';

const SETS: readonly TestSetName[] = ['homo', 'id', 'ood'];

/** The share-ready result of one protocol ('paper' or 'like-for-like'). */
export function sharedResultOf(result: ExperimentResult, o: { protocol: string; title: string; manifest: SharedManifest; planJson?: string }): SharedResult {
  const { planJson, ...rest } = o;
  // The plan travels with a confirmatory result: its hashes, and its plan.json text (the reader can run it again).
  const plan = result.status === 'confirmatory' && result.plan ? { plan: { hash: result.plan.hash, configHash: result.plan.configHash, arm: result.plan.arm, createdAt: result.plan.createdAt, ...(planJson ? { json: planJson } : {}) } } : {};
  return sharedResult({
    ...rest,
    status: plan.plan ? 'confirmatory' : 'exploratory',
    ...plan,
    runs: result.runs,
    counts: { known: result.probe.counts.known, unknown: result.probe.counts.unknown },
    contrasts: result.contrasts,
    sweep: result.sweep[o.protocol] ?? null,
    method: result.config.probe.method,
    ...(result.teaching ? { teaching: result.teaching } : {}),
    ...(result.unknownShare ? { unknownShare: result.unknownShare, baseAccuracy: result.baseAccuracy[o.protocol] } : {}),
  });
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
