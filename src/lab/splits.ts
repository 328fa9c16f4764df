import { EmptySplitError, UnknownSubjectError, type SplitName } from './errors';
import { mmluCategory } from './questions/mmlu';
import type { Question } from './questions/types';
import { rng, shuffled, subSeed } from './random';

export interface SplitConfig {
  /** Subjects whose questions form the training pool and the HOMO test. */
  trainSubjects: readonly string[];
  /** ID subjects: `'category'` = every other subject of the training subjects' category (MMLU's map), or a list. */
  related: 'category' | readonly string[];
  /** Fraction of the training subjects' questions held out as the HOMO test (0 < f < 1). */
  homoFraction: number;
  /** Largest size of each split (a seeded sample when a split has more). */
  caps?: Partial<Record<SplitName, number>>;
  seed: number;
  /** Category of a subject, for `related: 'category'`; MMLU's by default. */
  categoryOf?: (subject: string) => string | undefined;
  /** Splits that may be empty (e.g. OOD for a one-topic user file); all four are required by default. */
  allowEmpty?: readonly SplitName[];
}

export interface Splits {
  /** The training pool (probed, then drawn from for the IFT datasets). */
  train: Question[];
  homo: Question[];
  id: Question[];
  ood: Question[];
  idSubjects: string[];
  oodSubjects: string[];
}

function cap(qs: Question[], n: number | undefined, seed: number, label: string): Question[] {
  if (n === undefined || qs.length <= n) return qs;
  return shuffled(qs, rng(subSeed(seed, `cap:${label}`))).slice(0, n);
}

/** Edit distance (insertions, deletions, substitutions) between two names. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** The known name closest to `name` (case-insensitive edit distance), when it is close enough to be a typo. */
export function closestName(name: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(name.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== null && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : null;
}

/**
 * Disjoint train / HOMO / ID / OOD sets, the same for the same questions and seed whatever their order
 * (questions are sorted by id before the seeded shuffle).
 */
export function makeSplits(questions: readonly Question[], cfg: SplitConfig): Splits {
  if (!(cfg.homoFraction > 0 && cfg.homoFraction < 1)) {
    throw new EmptySplitError(cfg.homoFraction <= 0 ? 'homo' : 'train', `the HOMO fraction is ${cfg.homoFraction}; it must lie strictly between 0 and 1`);
  }
  const sorted = [...questions].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const subjects = [...new Set(sorted.map((q) => q.subject))].sort();
  const trainSet = new Set(cfg.trainSubjects);
  // A name the questions do not have is an error, not an empty filter: a misspelt training subject would
  // otherwise leave its questions to the OOD test set (and a misspelt related subject the same).
  const unknown = [
    ...cfg.trainSubjects.filter((s) => !subjects.includes(s)).map((name) => ({ field: 'subjects.train', name })),
    ...(cfg.related === 'category' ? [] : cfg.related.filter((s) => !subjects.includes(s)).map((name) => ({ field: 'subjects.related', name }))),
  ];
  if (unknown.length) throw new UnknownSubjectError(unknown.map((u) => ({ ...u, closest: closestName(u.name, subjects) })), subjects);
  const absent: string[] = [];
  const allowed = new Set(cfg.allowEmpty ?? []);

  let idSubjects: string[];
  let idReason: string;
  if (cfg.related === 'category') {
    const categoryOf = cfg.categoryOf ?? mmluCategory;
    const cats = new Set(cfg.trainSubjects.map(categoryOf).filter((c): c is string => c !== undefined));
    idSubjects = subjects.filter((s) => !trainSet.has(s) && cats.has(categoryOf(s) ?? '\u0000'));
    idReason =
      cats.size === 0
        ? `the training subjects (${cfg.trainSubjects.join(', ')}) have no known category`
        : `no other loaded subject is in the category ${[...cats].map((c) => JSON.stringify(c)).join(' or ')} of the training subjects`;
  } else {
    idSubjects = cfg.related.filter((s) => !trainSet.has(s) && subjects.includes(s));
    idReason = `none of the related subjects (${cfg.related.join(', ') || 'none given'}) has questions outside the training subjects`;
  }
  const idSet = new Set(idSubjects);
  const oodSubjects = subjects.filter((s) => !trainSet.has(s) && !idSet.has(s));

  const pool = shuffled(
    sorted.filter((q) => trainSet.has(q.subject)),
    rng(subSeed(cfg.seed, 'homo')),
  );
  if (pool.length === 0) {
    throw new EmptySplitError(
      'train',
      absent.length
        ? `no question has the training subject(s) ${absent.join(', ')} (loaded subjects: ${subjects.slice(0, 12).join(', ')}${subjects.length > 12 ? ', …' : ''})`
        : 'no training subject was chosen',
    );
  }
  const nHomo = Math.round(pool.length * cfg.homoFraction);
  const caps = cfg.caps ?? {};
  const split: Splits = {
    homo: cap(pool.slice(0, nHomo), caps.homo, cfg.seed, 'homo'),
    train: cap(pool.slice(nHomo), caps.train, cfg.seed, 'train'),
    id: cap(sorted.filter((q) => idSet.has(q.subject)), caps.id, cfg.seed, 'id'),
    ood: cap(sorted.filter((q) => !trainSet.has(q.subject) && !idSet.has(q.subject)), caps.ood, cfg.seed, 'ood'),
    idSubjects,
    oodSubjects,
  };
  const reasons: Record<SplitName, string> = {
    train: `the training subjects have ${pool.length} question(s) and a HOMO fraction of ${cfg.homoFraction} holds out ${nHomo}${caps.train === 0 ? ', and the train cap is 0' : ''}`,
    homo: `the training subjects have ${pool.length} question(s); a HOMO fraction of ${cfg.homoFraction} rounds to ${nHomo}${caps.homo === 0 ? ', and the HOMO cap is 0' : ''}`,
    id: caps.id === 0 ? 'the ID cap is 0' : idReason,
    ood: caps.ood === 0 ? 'the OOD cap is 0' : 'every loaded subject is a training or related subject',
  };
  for (const name of ['train', 'homo', 'id', 'ood'] as const) {
    if (split[name].length === 0 && !allowed.has(name)) throw new EmptySplitError(name, reasons[name]);
  }
  return split;
}
