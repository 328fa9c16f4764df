/**
 * A shared result: everything a reader needs to check a run of the experiment — the manifest and the
 * numbers — and never any weights. Versioned: a link made by this build carries `v: 1`.
 */
export const SHARE_VERSION = 1 as const;

/** The conditions of the paper (plus the random-wrong control); a mixture also carries its ratio r. */
export const CONDITION_KINDS = ['harmonious', 'incompatible', 'selfAligning', 'randomWrong', 'mixture'] as const;
export type ConditionKind = (typeof CONDITION_KINDS)[number];

export const TEST_SETS = ['homo', 'id', 'ood'] as const;
export type TestSet = (typeof TEST_SETS)[number];
export const TEST_SET_LABEL: Record<TestSet, string> = { homo: 'HOMO', id: 'ID', ood: 'OOD' };

/** An accuracy in [0, 1] with its 95 % interval, and the number of questions it was measured on. */
export interface Accuracy {
  acc: number;
  lo: number;
  hi: number;
  n: number;
}

export interface ConditionResult {
  /** Display name, e.g. "Mixture r = 0.2" (user-visible text; rendered as text only). */
  name: string;
  kind: ConditionKind;
  /** Fraction of Self-aligning items in a mixture; null for the other conditions. */
  ratio: number | null;
  /** Training examples in this condition's dataset. */
  trainSize: number;
  homo: Accuracy;
  id: Accuracy;
  ood: Accuracy;
  /** Accuracy on the test questions the base model knew / did not know. */
  knownAcc: number;
  unknownAcc: number;
  /** Knowledge consistency C (mean Spearman ρ of option distributions, base vs tuned) and mean KL(base ‖ tuned). */
  consistency: number;
  kl: number;
  /** Seeds this condition was trained with (older links: absent, one seed). */
  seeds?: number;
  /** Per seed, tuned accuracy on each test set (the points beside the mean). */
  perSeed?: { seed: number; homo: number; id: number; ood: number }[];
  /** Share of its own training items answered as trained, before and after tuning (mean over seeds). */
  fit?: { before: number; after: number; underTrained: boolean; reason: string | null };
  /** Mean training loss per epoch (mean over seeds). */
  lossPerEpoch?: number[];
}

/** A paired contrast a − b in tuned accuracy (fractions), with its 95 % paired-bootstrap interval and sign-flip p. */
export interface SharedContrast {
  a: string;
  b: string;
  set: TestSet;
  group: 'overall' | 'known' | 'unknown';
  mean: number;
  lo: number;
  hi: number;
  p: number;
  seeds: number;
  n: number;
  holds: boolean;
  reversed: boolean;
}

/**
 * The compact manifest a shared link carries (flat hyper-parameters, one device line): not the lab's full
 * reproducibility Manifest (src/lab/manifest.ts), which stays with the run — a link must stay short and its
 * schema (schema.ts) is versioned on its own.
 */
export interface SharedManifest {
  model: { id: string; revision: string };
  engineVersion: string;
  device: { description: string; fallback: boolean; shaderF16: boolean };
  seeds: number[];
  /** Hyper-parameters as flat name → value (LoRA rank, lr, epochs, batch, k, threshold…). */
  hyper: Record<string, number | string | boolean>;
  datasets: { name: string; hash: string }[];
  /** The evaluation protocol, e.g. "paper (base 5-shot, tuned 0-shot with template)" or "like-for-like". */
  protocol: string;
  /** ISO 8601 date and time of the run. */
  date: string;
}

/** The pre-registered plan a confirmatory result ran under (src/lab/plan.ts): hashes and which arm. */
export interface SharedPlan {
  /** SHA-256 of the plan as written (hex). */
  hash: string;
  /** SHA-256 of its configuration (hex): the manifest's configHash. */
  configHash: string;
  /** The main arm, or the stop-at-fit sensitivity arm. */
  arm: 'main' | 'fit';
  /** When the plan was frozen (ISO 8601). */
  createdAt: string;
  /**
   * The plan itself: its plan.json text (`ift-lab preregister`'s schema), so that a reader can see its endpoints
   * and α and run it again (`ift-lab experiment --plan`, or the Train page). Text, not an object: the link's
   * rounding of numbers must not change a frozen plan. Absent in links made before the browser carried it.
   */
  json?: string;
}

export interface SharedResult {
  v: typeof SHARE_VERSION;
  title: string;
  /**
   * Confirmatory (run under `plan`, whose endpoints alone are decided) or exploratory. Links made before
   * pre-registration carry neither: they read as exploratory.
   */
  status?: 'confirmatory' | 'exploratory';
  plan?: SharedPlan;
  manifest: SharedManifest;
  base: { homo: Accuracy; id: Accuracy; ood: Accuracy };
  counts: { known: number; unknown: number };
  conditions: ConditionResult[];
  /** Spearman partial correlation of C with tuned accuracy across the mixture sweep, controlling for base accuracy. */
  partial: { r: number; n: number; p: number } | null;
  /** Why there is no partial correlation (e.g. "not enough ratios: 2 of 3"), when there is a sweep. */
  partialNote?: string;
  /** The untuned base scored in the tuned models' (chat) format: the honest reference line. */
  chatBase?: { homo: Accuracy; id: Accuracy; ood: Accuracy };
  /** Paired contrasts of this result's protocol. */
  contrasts?: SharedContrast[];
  /** Belief method of probe and evaluation (letter, strict, debiased, continuation). */
  method?: string;
  /** By teaching group: how pretraining taught each test fact (the toy world only). */
  teaching?: SharedTeaching;
  /** Gekhman et al.'s Unknown-share design (then `conditions` may be empty: no Ren condition was trained). */
  unknownShare?: SharedUnknownShare;
}

/** SliCK categories (Gekhman et al. 2024), in order of how well the base model knows a fact. */
export const SLICK_CATEGORIES = ['highlyKnown', 'maybeKnown', 'weaklyKnown', 'unknown'] as const;
export type SlickCategoryName = (typeof SLICK_CATEGORIES)[number];

/** A paired contrast between Unknown shares (or early stop − last epoch within one share). */
export interface SharedShareContrast extends Omit<SharedContrast, 'group'> {
  stop: 'early' | 'last' | 'early-last';
  /** `overall` or the test questions' SliCK category. */
  group: 'overall' | SlickCategoryName;
}

/** The Unknown-share design as a link carries it: per-epoch curves (means over seeds), early stop vs last, contrasts. */
export interface SharedUnknownShare {
  /** Items per training set, development-set questions, the categories the non-Unknown items come from. */
  size: number;
  devSize: number;
  rest: string[];
  shares: {
    share: number;
    seeds: number;
    /** Each seed's early-stopping epoch (1-based; best development accuracy). */
    earlyStop: number[];
    /** Per epoch (the first is epoch 1), means over seeds. */
    dev: number[];
    test: Partial<Record<TestSet, number[]>>;
    /** Fit of the training items per epoch, per SliCK category (null where the set holds none of it). */
    fit: { category: SlickCategoryName; acc: (number | null)[] }[];
    /** Development and test accuracy at each seed's early-stopping epoch, mean over seeds. */
    early: { dev: number; test: Partial<Record<TestSet, number>> };
    /** Test accuracy by the test questions' SliCK category at the early stop and at the last epoch (means over seeds). */
    byCategory: { set: TestSet; category: SlickCategoryName; n: number; early: number | null; last: number | null }[];
  }[];
  contrasts: SharedShareContrast[];
}

/** Accuracy and the paired contrasts per teaching group (HOMO, ID and OOD pooled); the toy world's questions carry groups. */
export interface SharedTeaching {
  groups: { id: string; label: string; n: number }[];
  /** Per model (the untuned base in both formats, then each condition): accuracy per group, in `groups` order. */
  accuracy: { model: string; acc: (number | null)[] }[];
  contrasts: (Omit<SharedContrast, 'set' | 'group'> & { teaching: string })[];
}
