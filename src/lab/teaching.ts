/**
 * The teaching-group breakdown: when the test questions say how their fact reached the model (the toy
 * world: drilled as MC + stated, stated only, never taught, taught wrongly), each condition's accuracy and the
 * paper's contrasts within each group, pooled over the three test sets. An overall figure mixes facts the
 * model could know with facts no model can: this shows where an effect lives, and where it reverses.
 */
import { contrastOf, type ContrastStats } from './contrasts';
import { TEST_SETS, type SetScores, type TestSetName } from './evaluate';
import type { Question } from './questions/types';

/** The toy world's groups, from most to least taught. */
const GROUP_ORDER = ['mc', 'statement', 'none', 'misconception'];

export interface TeachingContrast extends ContrastStats {
  a: string;
  b: string;
  /** The teaching group. */
  teaching: string;
}

export interface TeachingBreakdown {
  /** Questions per group and test set. */
  counts: Record<string, Partial<Record<TestSetName, number>>>;
  /** Accuracy per group of the untuned base (k-shot and chat format) and of each condition (mean over seeds), over the three sets. */
  accuracy: Record<string, Record<string, number>>;
  /** The paper's pairs within each group, over the three sets (seeds × questions paired as in the overall contrasts). */
  contrasts: TeachingContrast[];
}

interface RunScores {
  condition: string;
  seed: number;
  scores: SetScores;
}

/** Null when no test question carries a group (any source but the toy world). */
export function teachingBreakdown(
  tests: Partial<Record<TestSetName, readonly Question[]>>,
  base: { kshot: SetScores; chat: SetScores },
  runs: readonly RunScores[],
  pairs: readonly (readonly [string, string])[],
  seeds: readonly number[],
  opts: { samples?: number; seed?: number } = {},
): TeachingBreakdown | null {
  const groupOf = new Map<string, string>();
  for (const set of TEST_SETS) for (const q of tests[set] ?? []) if (q.group) groupOf.set(q.id, q.group);
  if (groupOf.size === 0) return null;
  // Most taught first (the toy world's groups), any other group after them by name.
  const rank = (g: string) => (GROUP_ORDER.indexOf(g) + GROUP_ORDER.length + 1) % (GROUP_ORDER.length + 1);
  const groups = [...new Set(groupOf.values())].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1));
  const counts: TeachingBreakdown['counts'] = {};
  for (const set of TEST_SETS)
    for (const q of tests[set] ?? []) {
      if (!q.group) continue;
      const c = (counts[q.group] ??= {});
      c[set] = (c[set] ?? 0) + 1;
    }
  // Every model's 0/1 correctness on the group's questions, in one fixed order (set, then question id).
  const order = (g: string) => TEST_SETS.flatMap((set) => (tests[set] ?? []).filter((q) => q.group === g).map((q) => `${set}\u0000${q.id}`));
  // Each model's scores indexed once (set, id → correct), however many groups and pairs read them.
  const indexed = new Map<SetScores, Map<string, boolean>>();
  const correctness = (s: SetScores, keys: readonly string[]): number[] | null => {
    let m = indexed.get(s);
    if (!m) {
      m = new Map();
      for (const set of TEST_SETS) for (const x of s[set] ?? []) m.set(`${set}\u0000${x.id}`, x.correct);
      indexed.set(s, m);
    }
    const out = keys.map((k) => m.get(k));
    return out.some((x) => x === undefined) ? null : out.map((x) => (x ? 1 : 0));
  };
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const runOf = new Map(runs.map((r) => [`${r.condition}\u0000${r.seed}`, r]));
  const conditions = [...new Set(runs.map((r) => r.condition))];
  const accuracy: TeachingBreakdown['accuracy'] = {};
  const contrasts: TeachingContrast[] = [];
  for (const g of groups) {
    const keys = order(g);
    if (keys.length === 0) continue;
    const acc: Record<string, number> = {};
    for (const [name, s] of [['base (k-shot)', base.kshot], ['base (chat)', base.chat]] as const) {
      const c = correctness(s, keys);
      if (c) acc[name] = mean(c);
    }
    for (const cond of conditions) {
      const per = seeds.map((seed) => runOf.get(`${cond}\u0000${seed}`)).filter((r) => r !== undefined).map((r) => correctness(r.scores, keys));
      if (per.length && per.every((c) => c)) acc[cond] = mean(per.map((c) => mean(c!)));
    }
    accuracy[g] = acc;
    for (const [a, b] of pairs) {
      const perSeed = seeds.flatMap((seed) => {
        const ra = runOf.get(`${a}\u0000${seed}`);
        const rb = runOf.get(`${b}\u0000${seed}`);
        const ca = ra && correctness(ra.scores, keys);
        const cb = rb && correctness(rb.scores, keys);
        return ca && cb ? [{ a: ca, b: cb }] : [];
      });
      if (perSeed.length) contrasts.push(contrastOf({ a, b, teaching: g }, perSeed, opts));
    }
  }
  return { counts, accuracy, contrasts };
}
