/** Numbers the report shows that follow from a SharedResult (so a link never carries them twice). */
import { TEST_SETS, TEST_SET_LABEL, type ConditionResult, type SharedContrast, type SharedResult, type SharedUnknownShare, type SlickCategoryName, type TestSet } from './types';

export interface MixturePoint {
  ratio: number;
  name: string;
  homo: number;
  id: number;
  ood: number;
  consistency: number;
}

/**
 * The mixture sweep, ordered by r. Incompatible is the mixture with r = 0 and Self-aligning the one with
 * r = 1 (the paper's definition), so they stand in at those ends when the sweep has no explicit point there.
 */
export function mixtureCurve(result: SharedResult): MixturePoint[] {
  const pts = new Map<number, ConditionResult>();
  for (const c of result.conditions) if (c.kind === 'mixture' && c.ratio !== null) pts.set(c.ratio, c);
  if (pts.size === 0) return [];
  const ends: [number, ConditionResult['kind']][] = [
    [0, 'incompatible'],
    [1, 'selfAligning'],
  ];
  for (const [r, kind] of ends) {
    const c = result.conditions.find((x) => x.kind === kind);
    if (!pts.has(r) && c) pts.set(r, c);
  }
  return [...pts.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([ratio, c]) => ({ ratio, name: c.name, homo: c.homo.acc, id: c.id.acc, ood: c.ood.acc, consistency: c.consistency }));
}

export interface Contrast {
  label: string;
  /** Difference of accuracies in [−1, 1] per test set. */
  delta: Record<TestSet, number>;
}

/** The paper's headline contrasts, where both conditions are present. */
export function headlineContrasts(result: SharedResult): Contrast[] {
  const by = (k: ConditionResult['kind']) => result.conditions.find((c) => c.kind === k);
  const inc = by('incompatible');
  const out: Contrast[] = [];
  const pairs: [ConditionResult | undefined, string][] = [
    [by('harmonious'), 'Harmonious − Incompatible'],
    [by('selfAligning'), 'Self-aligning − Incompatible'],
    [by('randomWrong'), 'Random-wrong − Incompatible'],
  ];
  if (!inc) return out;
  for (const [c, label] of pairs) {
    if (!c) continue;
    out.push({ label, delta: Object.fromEntries(TEST_SETS.map((t) => [t, c[t].acc - inc[t].acc])) as Record<TestSet, number> });
  }
  return out;
}

export interface ConditionDelta {
  name: string;
  /** b − a per test set and for C; null where one side lacks the condition. */
  delta: Record<TestSet | 'consistency', number> | null;
  inA: boolean;
  inB: boolean;
}

/** Side-by-side comparison of two results, condition by condition (matched by kind and ratio, else by name). */
export function compareResults(a: SharedResult, b: SharedResult): ConditionDelta[] {
  const key = (c: ConditionResult) => (c.kind === 'mixture' ? `mixture:${c.ratio}` : c.kind === 'harmonious' || c.kind === 'incompatible' || c.kind === 'selfAligning' || c.kind === 'randomWrong' ? c.kind : `name:${c.name}`);
  const mapB = new Map(b.conditions.map((c) => [key(c), c]));
  const seen = new Set<string>();
  const rows: ConditionDelta[] = [];
  for (const ca of a.conditions) {
    const k = key(ca);
    seen.add(k);
    const cb = mapB.get(k);
    rows.push({
      name: ca.name,
      inA: true,
      inB: Boolean(cb),
      delta: cb ? { homo: cb.homo.acc - ca.homo.acc, id: cb.id.acc - ca.id.acc, ood: cb.ood.acc - ca.ood.acc, consistency: cb.consistency - ca.consistency } : null,
    });
  }
  for (const cb of b.conditions) if (!seen.has(key(cb))) rows.push({ name: cb.name, inA: false, inB: true, delta: null });
  return rows;
}

/** "41.3 %" — accuracies are stored in [0, 1]. A no-break space keeps the unit with its number. */
export const pct = (x: number, digits = 1) => `${(x * 100).toFixed(digits)}\u00a0%`;
/** "+3.2 pt" for a difference of accuracies. */
export const pts = (d: number, digits = 1) => `${d >= 0 ? '+' : '−'}${Math.abs(d * 100).toFixed(digits)}\u00a0pt`;

/** "+8.1" / "−3.0": a difference of accuracies in points, signed, one decimal. */
export const signedPts = (d: number) => `${d >= 0 ? '+' : '−'}${Math.abs(d * 100).toFixed(1)}`;

/**
 * One paired contrast in words: "Harmonious beat Incompatible by 8.1 points [3.0, 13.2] on OOD". A
 * contrast whose interval holds 0 did not clearly differ; one below 0 fell below.
 */
export function contrastWords(c: SharedContrast): string {
  const set = TEST_SET_LABEL[c.set];
  const iv = `[${signedPts(c.lo)}, ${signedPts(c.hi)}]`;
  const group = c.group === 'overall' ? '' : ` (${c.group} questions)`;
  // A zero-width interval is no measurement of precision: every seed and question gave the same difference.
  if (zeroWidth(c)) {
    return Math.abs(c.mean) < 5e-4
      ? `${c.a} and ${c.b} scored exactly alike on ${set}${group}: every seed and question agree, so there is no interval (a sign the tuned models answer alike, not a measured zero)`
      : `${c.a} differed from ${c.b} by ${signedPts(c.mean)} points on ${set}${group} on every seed and question alike, so there is no interval to give`;
  }
  if (c.holds) return `${c.a} beat ${c.b} by ${(c.mean * 100).toFixed(1)} points ${iv} on ${set}${group}`;
  if (c.reversed) return `${c.a} fell below ${c.b} by ${(-c.mean * 100).toFixed(1)} points ${iv} on ${set}${group}`;
  return `${c.a} did not clearly differ from ${c.b} (${signedPts(c.mean)} points ${iv}) on ${set}${group}`;
}

/** A contrast whose interval has no width (every resample gave the same difference). */
export function zeroWidth(c: Pick<SharedContrast, 'lo' | 'hi'>): boolean {
  return Math.abs(c.hi - c.lo) < 5e-4;
}

/**
 * What makes a result's numbers say little, in words (issue 26): conditions that collapsed (they fit fewer of
 * their own training answers after tuning than before, near chance) and contrasts whose interval has zero
 * width. Empty when none applies. (Conditions that did not fit are the report's "Under-trained" line.)
 */
export function degenerateWords(result: Pick<SharedResult, 'conditions' | 'contrasts'>, chance = 0.25): string[] {
  const out: string[] = [];
  const collapsed = result.conditions.filter((c) => c.fit && c.fit.after < c.fit.before - 0.1 && c.fit.after <= chance + 0.1);
  const pc = (x: number) => `${Math.round(100 * x)} %`;
  if (collapsed.length)
    out.push(`Collapsed: ${collapsed.map((c) => `${c.name} (fits ${pc(c.fit!.after)} of its own training answers after tuning, ${pc(c.fit!.before)} before; chance is ${pc(chance)})`).join(', ')}. Training broke what the model knew rather than teaching it: its accuracies and contrasts describe a broken model, not what its data teaches.`);
  const flat = (result.contrasts ?? []).filter((c) => c.group === 'overall' && zeroWidth(c));
  const all = (result.contrasts ?? []).filter((c) => c.group === 'overall');
  if (flat.length)
    out.push(`${flat.length === all.length ? (all.length === 1 ? 'The contrast' : 'Every contrast') : `${flat.length} of ${all.length} contrasts`} came out with an interval of zero width: every seed and question gave the same difference. That is what identical answers look like (a collapsed or untrained model), not a precise measurement.`);
  return out;
}

/** The contrasts over all test questions (not per known / unknown group), in the result's order. */
export function overallContrasts(result: SharedResult): SharedContrast[] {
  return (result.contrasts ?? []).filter((c) => c.group === 'overall');
}

/** An Unknown share's label: "50 % unknown". */
export const shareLabel = (share: number): string => `${Math.round(100 * share)} % unknown`;

/** Fit of the training items per epoch, one row per (epoch, SliCK category), for one share (percent). */
export function shareFitRows(u: SharedUnknownShare, share: number): { epoch: number; category: SlickCategoryName; fit: number }[] {
  const s = u.shares.find((x) => x.share === share);
  if (!s) return [];
  return s.fit.flatMap((f) => f.acc.flatMap((a, i) => (a === null ? [] : [{ epoch: i + 1, category: f.category, fit: 100 * a }])));
}

/** Test accuracy per epoch and share on one test set (percent), and each share's early stop: the epoch nearest the seeds' mean. */
export function shareTestRows(u: SharedUnknownShare, set: TestSet): { rows: { epoch: number; share: string; acc: number }[]; stops: { epoch: number; share: string; acc: number }[] } {
  const rows: { epoch: number; share: string; acc: number }[] = [];
  const stops: { epoch: number; share: string; acc: number }[] = [];
  for (const s of u.shares) {
    const curve = s.test[set];
    if (!curve?.length) continue;
    curve.forEach((a, i) => rows.push({ epoch: i + 1, share: shareLabel(s.share), acc: 100 * a }));
    if (s.earlyStop.length) {
      const e = Math.min(curve.length, Math.max(1, Math.round(s.earlyStop.reduce((a, b) => a + b, 0) / s.earlyStop.length)));
      stops.push({ epoch: e, share: shareLabel(s.share), acc: 100 * curve[e - 1] });
    }
  }
  return { rows, stops };
}

/** Test accuracy by SliCK category at the early stop and at the last epoch, per share (percent; categories with questions only). */
export function shareCategoryRows(u: SharedUnknownShare, set: TestSet): { share: string; category: SlickCategoryName; n: number; early: number | null; last: number | null }[] {
  return u.shares.flatMap((s) =>
    s.byCategory
      .filter((c) => c.set === set)
      .map((c) => ({ share: shareLabel(s.share), category: c.category, n: c.n, early: c.early === null ? null : 100 * c.early, last: c.last === null ? null : 100 * c.last })),
  );
}
