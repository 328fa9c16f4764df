/**
 * Evaluation: the same scorer (the probe's belief method: letter, debiased or continuation) on the HOMO / ID / OOD test sets for the base and a tuned
 * model, accuracy and knowledge consistency (C, KL, cosine) overall and on known and unknown test
 * questions separately (they move in opposite directions), each with a bootstrap interval over questions.
 */
import type { AdapterRef, LabModel } from './model';
import { bootstrapMean, cosine, kl, spearman, type Interval } from './metrics';
import { scoreQuestions, type BeliefMethod, type ScoredQuestion, type ScoringFormat } from './probe';
import type { PromptLayout } from './prompts';
import type { Question } from './questions/types';

/** How base and tuned models are scored. */
export interface EvalProtocol {
  name: string;
  base: ScoringFormat;
  tuned: ScoringFormat;
}

/** The paper's: base 5-shot without a chat template, tuned 0-shot inside the template. */
export const PAPER_PROTOCOL: EvalProtocol = { name: 'paper', base: { kind: 'kshot', shots: 5 }, tuned: { kind: 'chat' } };
/** Like for like: both models 0-shot in the chat template, so only the weights differ. */
export const LIKE_FOR_LIKE_PROTOCOL: EvalProtocol = { name: 'like-for-like', base: { kind: 'chat' }, tuned: { kind: 'chat' } };

export const PROTOCOLS: Record<string, EvalProtocol> = { paper: PAPER_PROTOCOL, 'like-for-like': LIKE_FOR_LIKE_PROTOCOL };

export type TestSetName = 'homo' | 'id' | 'ood';
export const TEST_SETS: readonly TestSetName[] = ['homo', 'id', 'ood'];

export interface GroupMetrics {
  n: number;
  baseAccuracy: Interval;
  tunedAccuracy: Interval;
  /** C: mean per-question Spearman of base vs tuned option distributions. */
  consistency: Interval;
  /** Mean KL(p_base ‖ p_tuned), nats. */
  kl: Interval;
  cosine: Interval;
}

export interface SetReport {
  overall: GroupMetrics;
  /** Test questions the base model answers right under the protocol's base format. */
  known: GroupMetrics;
  unknown: GroupMetrics;
}

export interface BootstrapOptions {
  samples?: number;
  seed?: number;
}

function group(base: readonly ScoredQuestion[], tuned: readonly ScoredQuestion[], b: BootstrapOptions): GroupMetrics {
  // The same seed for every measure: intervals come from the same resamples of questions.
  const iv = (values: number[]) => bootstrapMean(values, { samples: b.samples ?? 1000, seed: b.seed ?? 0 });
  return {
    n: base.length,
    baseAccuracy: iv(base.map((s) => (s.correct ? 1 : 0))),
    tunedAccuracy: iv(tuned.map((s) => (s.correct ? 1 : 0))),
    consistency: iv(base.map((s, i) => spearman(s.probs, tuned[i].probs))),
    kl: iv(base.map((s, i) => kl(s.probs, tuned[i].probs))),
    cosine: iv(base.map((s, i) => cosine(s.probs, tuned[i].probs))),
  };
}

/** Compares base and tuned scores of the same questions (matched by id). */
export function compareScores(base: readonly ScoredQuestion[], tuned: readonly ScoredQuestion[], b: BootstrapOptions = {}): SetReport {
  const t = new Map(tuned.map((s) => [s.id, s]));
  const pairs = base.map((s) => {
    const m = t.get(s.id);
    if (!m) throw new Error(`compareScores: question ${s.id} was scored for the base model only`);
    return [s, m] as const;
  });
  const pick = (keep: (s: ScoredQuestion) => boolean) => {
    const p = pairs.filter(([s]) => keep(s));
    return group(
      p.map(([s]) => s),
      p.map(([, m]) => m),
      b,
    );
  };
  return { overall: pick(() => true), known: pick((s) => s.correct), unknown: pick((s) => !s.correct) };
}

export type TestSets = Partial<Record<TestSetName, readonly Question[]>>;
export type SetScores = Partial<Record<TestSetName, ScoredQuestion[]>>;

export interface ScoreSetsOptions {
  fewShot?: readonly Question[];
  /** Score tuned models with the probe's belief method (`beliefMethodOf(probe.method)`), so C compares like with like. */
  method?: BeliefMethod;
  /** The layout the probe used (default: the paper's). */
  layout?: PromptLayout;
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?(set: TestSetName, done: number, total: number): void;
}

export async function scoreTestSets(model: LabModel, tests: TestSets, format: ScoringFormat, adapter: AdapterRef | null, o: ScoreSetsOptions = {}): Promise<SetScores> {
  const out: SetScores = {};
  for (const name of TEST_SETS) {
    const qs = tests[name];
    if (!qs || qs.length === 0) continue;
    out[name] = await scoreQuestions(model, qs, {
      format,
      method: o.method,
      layout: o.layout,
      fewShot: o.fewShot,
      adapter,
      batchSize: o.batchSize,
      signal: o.signal,
      onProgress: (d, t) => o.onProgress?.(name, d, t),
    });
  }
  return out;
}

export interface EvalReport {
  protocol: string;
  sets: Partial<Record<TestSetName, SetReport>>;
}

export interface EvaluateOptions extends ScoreSetsOptions {
  protocol: EvalProtocol;
  adapter: AdapterRef;
  /** Base-model scores under `protocol.base`, when already computed (they do not change between runs). */
  baseScores?: SetScores;
  bootstrap?: BootstrapOptions;
}

/** Scores the tuned model (and the base model unless given) and compares them on every test set. */
export async function evaluate(
  model: LabModel,
  tests: TestSets,
  o: EvaluateOptions,
): Promise<{ report: EvalReport; baseScores: SetScores; tunedScores: SetScores }> {
  const baseScores = o.baseScores ?? (await scoreTestSets(model, tests, o.protocol.base, null, o));
  const tunedScores = await scoreTestSets(model, tests, o.protocol.tuned, o.adapter, o);
  const sets: EvalReport['sets'] = {};
  for (const name of TEST_SETS) {
    const b = baseScores[name];
    const t = tunedScores[name];
    if (b && t) sets[name] = compareScores(b, t, o.bootstrap);
  }
  return { report: { protocol: o.protocol.name, sets }, baseScores, tunedScores };
}
