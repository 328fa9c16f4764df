/**
 * SliCK (Gekhman et al. 2024, "Does Fine-Tuning LLMs on New Knowledge Encourage Hallucinations?"): each
 * question's knowledge category from how often the model answers it right across several few-shot prompts.
 *
 *   highlyKnown  the greedy answer is right under every prompt;
 *   maybeKnown   right under some prompts, not all;
 *   weaklyKnown  the greedy answer is never right, but sampling at temperature T > 0 would be;
 *   unknown      neither.
 *
 * A prompt is one exemplar set (k solved examples of the subject, `prompts` different sets, drawn
 * deterministically) and, for the option-order probes (debiased, strict), each of the four cyclic orders of
 * the question's options within it. The sampled arm is exact rather than drawn: under a prompt whose option
 * distribution is p (letter softmax, or the cloze softmax), sampling at temperature T picks option i with
 * probability p_i^(1/T) / Σ_j p_j^(1/T); with q_j that probability for the gold option under prompt j and
 * `samples` = n draws per prompt (Gekhman: 16 at T = 0.5), the chance that at least one draw is right is
 *
 *   sampledRight = 1 − Π_j (1 − q_j)^n.
 *
 * A question whose greedy answer is never right is weaklyKnown when sampledRight ≥ `threshold` (default 0.5:
 * the category Gekhman's random draw would give it more often than not), else unknown. Plain TypeScript: the
 * scoring itself is in probe.ts, which calls `exemplarFewShot` for each set and `slickOf` per question.
 */
import { LabError } from './errors';
import { rng, shuffled } from './random';
import type { Question } from './questions/types';

export const SLICK_CATEGORIES = ['highlyKnown', 'maybeKnown', 'weaklyKnown', 'unknown'] as const;
export type SlickCategory = (typeof SLICK_CATEGORIES)[number];

export interface SlickSettings {
  /** Exemplar sets (different k-shot prompts) per question (Gekhman: 10; the lab's default 5). */
  prompts: number;
  /** Sampling temperature of the sampled arm (Gekhman: 0.5). */
  temperature: number;
  /** Draws per prompt of the sampled arm (Gekhman: 16). */
  samples: number;
  /** weaklyKnown when the chance that at least one draw is right reaches this (default 0.5). */
  threshold: number;
  /** Seed of the exemplar sets after the first (the first is the probe's own prompt). */
  seed: number;
}

export const GEKHMAN_SLICK: Readonly<SlickSettings> = Object.freeze({
  prompts: 5,
  temperature: 0.5,
  samples: 16,
  threshold: 0.5,
  seed: 0,
});

/** What the probe records per question. */
export interface SlickItem {
  category: SlickCategory;
  /** Share of the prompts whose greedy (top) answer is the gold option. */
  greedyRight: number;
  /** Exact chance that at least one of `samples` draws per prompt at the temperature is right. */
  sampledRight: number;
  /** Prompts scored (exemplar sets × option orders). */
  prompts: number;
}

/** The chance that one draw at temperature T from `probs` is option `gold`: p_g^(1/T) / Σ p_i^(1/T), in log space. */
export function temperedProb(probs: ArrayLike<number>, gold: number, temperature: number): number {
  if (!(temperature > 0))
    throw new LabError(
      'invalid-temperature',
      `The sampling temperature is ${temperature}; it must be > 0.`,
      'Gekhman et al. sample at 0.5.',
    );
  const logs = Array.from(probs, (p) => (p > 0 ? Math.log(p) / temperature : -Infinity));
  const m = Math.max(...logs);
  if (m === -Infinity) return 0;
  const z = logs.reduce((a, l) => a + Math.exp(l - m), 0);
  return Math.exp(logs[gold] - m) / z;
}

/** 1 − Π_j (1 − q_j)^n: at least one of n draws under each prompt is right. */
export function atLeastOneRight(perPrompt: readonly number[], samples: number): number {
  let logNone = 0;
  for (const q of perPrompt) {
    if (q >= 1) return 1;
    logNone += samples * Math.log1p(-q);
  }
  return 0 - Math.expm1(logNone);
}

/** The category from the greedy-right share and the sampled arm. */
export function slickCategory(greedyRight: number, sampledRight: number, threshold: number): SlickCategory {
  if (greedyRight >= 1) return 'highlyKnown';
  if (greedyRight > 0) return 'maybeKnown';
  return sampledRight >= threshold ? 'weaklyKnown' : 'unknown';
}

function argmax(p: ArrayLike<number>): number {
  let k = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[k]) k = i;
  return k;
}

/** A question's SliCK record from its option distributions under each prompt (each in that prompt's option order, with its gold). */
export function slickOf(
  perPrompt: readonly { probs: ArrayLike<number>; gold: number }[],
  s: Pick<SlickSettings, 'temperature' | 'samples' | 'threshold'>,
): SlickItem {
  if (perPrompt.length === 0)
    throw new LabError(
      'slick-no-prompts',
      'A SliCK category needs at least one prompt.',
      'This is a bug in IFT Lab; please report it.',
    );
  const greedyRight = perPrompt.filter((x) => argmax(x.probs) === x.gold).length / perPrompt.length;
  const sampledRight = atLeastOneRight(
    perPrompt.map((x) => temperedProb(x.probs, x.gold, s.temperature)),
    s.samples,
  );
  return {
    category: slickCategory(greedyRight, sampledRight, s.threshold),
    greedyRight,
    sampledRight,
    prompts: perPrompt.length,
  };
}

/**
 * `count` distinct exemplar sets of k solved examples for `subject`, as ordered lists (the order is part of the
 * prompt). Set 0 is the probe's own (the subject's first k); set j ≥ 1 is the first k of a shuffle seeded by
 * (seed, subject, j), redrawn until it differs from every earlier set. With 5 dev examples and k = 5 (MMLU and
 * the toy world) the sets are different orders of the same examples. Fewer than `count` when the pool has
 * fewer distinct ordered sets (a subject with one example).
 */
export function exemplarSets(
  fewShot: readonly Question[],
  subject: string,
  k: number,
  count: number,
  seed: number,
): Question[][] {
  const pool = fewShot.filter((q) => q.subject === subject);
  const sets: Question[][] = [pool.slice(0, k)];
  const seen = new Set([key(sets[0])]);
  // Distinct ordered sets available: pool!/(pool−k)!, capped (a large pool never runs out).
  let available = 1;
  const m = Math.min(k, pool.length);
  for (let i = 0; i < m && available < count; i++) available *= pool.length - i;
  const target = Math.min(count, available);
  let hash = seed >>> 0;
  for (const ch of subject) hash = (Math.imul(hash ^ ch.charCodeAt(0), 0x01000193) >>> 0) as number;
  for (let j = 1, tries = 0; sets.length < target && tries < 1000 * count; tries++, j++) {
    const s = shuffled(pool, rng((hash + j) >>> 0)).slice(0, k);
    if (seen.has(key(s))) continue;
    seen.add(key(s));
    sets.push(s);
  }
  return sets;
}

function key(s: readonly Question[]): string {
  return s.map((q) => q.id).join('\u0000');
}

/**
 * The few-shot list under which the probe's `pickShots` (the subject's first k, never the question itself)
 * gives exemplar set `j` of every subject that has one: that set first, the subject's other examples after it
 * (so a question that is itself in the set is replaced by the next example, as in the probe). `subjects` are
 * those with a set j (a subject with no examples has only set 0, the empty one: a 0-shot prompt).
 */
export function exemplarFewShot(
  fewShot: readonly Question[],
  subjects: readonly string[],
  k: number,
  j: number,
  s: Pick<SlickSettings, 'prompts' | 'seed'>,
): { fewShot: Question[]; subjects: Set<string> } {
  const out: Question[] = [];
  const have = new Set<string>();
  for (const subject of subjects) {
    const set = exemplarSets(fewShot, subject, k, s.prompts, s.seed)[j];
    if (!set) continue;
    have.add(subject);
    const ids = new Set(set.map((q) => q.id));
    out.push(...set, ...fewShot.filter((q) => q.subject === subject && !ids.has(q.id)));
  }
  return { fewShot: out, subjects: have };
}

/** Counts per category. */
export function slickCounts(items: readonly { slick?: SlickItem }[]): Record<SlickCategory, number> {
  const c: Record<SlickCategory, number> = { highlyKnown: 0, maybeKnown: 0, weaklyKnown: 0, unknown: 0 };
  for (const it of items) if (it.slick) c[it.slick.category]++;
  return c;
}

/** The toy world's teaching groups, from most to least taught (as in teaching.ts). */
export const TEACHING_ORDER = ['mc', 'statement', 'none', 'misconception'] as const;

/** Category × teaching group: how well probing recovers what pretraining taught. */
export interface SlickTeachingTable {
  /** Groups in order (most taught first, any other after by name). */
  groups: string[];
  /** counts[group][category]. */
  counts: Record<string, Record<SlickCategory, number>>;
  /** Questions per group. */
  totals: Record<string, number>;
}

/** Null when no probed question carries a teaching group (any source but the toy world). */
export function slickTeachingTable(
  items: readonly { id: string; slick?: SlickItem }[],
  groupOf: ReadonlyMap<string, string>,
): SlickTeachingTable | null {
  const counts: SlickTeachingTable['counts'] = {};
  const totals: Record<string, number> = {};
  for (const it of items) {
    const g = groupOf.get(it.id);
    if (!g || !it.slick) continue;
    const c = (counts[g] ??= { highlyKnown: 0, maybeKnown: 0, weaklyKnown: 0, unknown: 0 });
    c[it.slick.category]++;
    totals[g] = (totals[g] ?? 0) + 1;
  }
  const rank = (g: string) => {
    const i = (TEACHING_ORDER as readonly string[]).indexOf(g);
    return i < 0 ? TEACHING_ORDER.length : i;
  };
  const groups = Object.keys(counts).sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1));
  return groups.length ? { groups, counts, totals } : null;
}

/** What the teaching groups mean, in words (for tables). */
export const TEACHING_LABEL: Record<string, string> = {
  mc: 'drilled (MC + stated)',
  statement: 'stated only',
  none: 'never taught',
  misconception: 'taught wrongly',
};

/** The category × teaching-group table as Markdown: counts with each group's share in brackets. */
export function slickTeachingMarkdown(t: SlickTeachingTable): string {
  const lines = [
    `| teaching group | n | ${SLICK_CATEGORIES.join(' | ')} |`,
    `|---|---:|${SLICK_CATEGORIES.map(() => '---:').join('|')}|`,
  ];
  for (const g of t.groups) {
    const n = t.totals[g];
    const cells = SLICK_CATEGORIES.map(
      (c) => `${t.counts[g][c]} (${n ? ((100 * t.counts[g][c]) / n).toFixed(0) : '–'} %)`,
    );
    lines.push(`| ${TEACHING_LABEL[g] ?? g} | ${n} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
