/**
 * The experiment configuration: one JSON object, validated with valibot (unknown keys rejected, so a typo
 * is an error rather than a silently ignored setting). Defaults follow the paper where the lab can.
 */
import * as v from 'valibot';
import { ConfigError } from './errors';
import { DEFAULT_LAYOUT } from './prompts';
import { LIMITS, tooLarge, type LimitName } from './limits';
import { GEKHMAN_SLICK } from './slick';

/** A whole number in [min, the limit's max], the maximum's message saying why. */
const int = (min: number, limit: LimitName = 'seed') => v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(LIMITS[limit].max, tooLarge(limit)));
/** A finite number ≤ the limit's max. */
const upTo = (limit: LimitName) => v.pipe(v.number(), v.finite(), v.maxValue(LIMITS[limit].max, tooLarge(limit)));
const list = <T extends v.GenericSchema>(item: T, limit: LimitName) =>
  v.pipe(v.array(item), v.minLength(1), v.maxLength(LIMITS[limit].max, `may hold at most ${LIMITS[limit].max} entries (${LIMITS[limit].why})`));
const fraction = v.pipe(v.number(), v.minValue(0), v.maxValue(1));
const CONDITIONS = ['harmonious', 'incompatible', 'selfAligning', 'randomWrong', 'mixture'] as const;

const QuestionSource = v.variant('kind', [
  /** MMLU's CSV release in a folder with dev/, val/, test/ (Node, tests, benchmarks). */
  v.strictObject({ kind: v.literal('mmlu-dir'), path: v.pipe(v.string(), v.minLength(1)), poolSplits: v.optional(v.array(v.picklist(['val', 'test'])), ['val', 'test']) }),
  /** MMLU from the Hugging Face Hub as parquet (the browser). */
  v.strictObject({ kind: v.literal('mmlu-hub'), dataset: v.optional(v.string(), 'cais/mmlu'), revision: v.optional(v.string(), 'main') }),
  /** A user's CSV or JSONL file; few-shot examples from another file, or none (0-shot probing). */
  v.strictObject({ kind: v.literal('file'), path: v.pipe(v.string(), v.minLength(1)), fewShotPath: v.optional(v.string()) }),
  /** The built-in toy world of invented facts (its generator's options pass through). */
  v.strictObject({ kind: v.literal('toyworld'), seed: v.optional(int(0, 'seed'), 1), options: v.optional(v.record(v.string(), v.unknown()), {}) }),
]);

const Lora = v.strictObject({
  rank: int(1, 'rank'),
  alpha: v.pipe(upTo('alpha'), v.gtValue(0)),
  dropout: v.optional(v.pipe(v.number(), v.minValue(0), v.ltValue(1)), 0),
  targets: v.pipe(v.array(v.picklist(['q', 'k', 'v', 'o', 'gate', 'up', 'down'])), v.minLength(1)),
});

const Training = v.strictObject({
  lora: Lora,
  learningRate: v.pipe(upTo('learningRate'), v.gtValue(0)),
  weightDecay: v.optional(v.pipe(upTo('weightDecay'), v.minValue(0)), 0),
  betas: v.optional(v.tuple([v.pipe(v.number(), v.minValue(0), v.ltValue(1)), v.pipe(v.number(), v.minValue(0), v.ltValue(1))]), [0.9, 0.999]),
  eps: v.optional(v.pipe(upTo('eps'), v.gtValue(0)), 1e-8),
  // Paper: cosine with 3 % warm-up.
  schedule: v.optional(
    v.strictObject({ kind: v.picklist(['constant', 'linear', 'cosine']), warmupFraction: v.optional(v.pipe(v.number(), v.minValue(0), v.ltValue(1)), 0.03) }),
    { kind: 'cosine', warmupFraction: 0.03 },
  ),
  epochs: v.optional(int(1, 'epochs'), 3),
  batchSize: v.optional(int(1, 'batchSize'), 8),
  maxSeqLen: v.optional(int(8, 'maxSeqLen'), 512),
  clipNorm: v.optional(v.pipe(upTo('clipNorm'), v.minValue(0)), 1),
  /**
   * Stop at fit (a plan's sensitivity arm): after each epoch the run scores its own training items and stops
   * once at least `threshold` of them are answered as trained; `epochs` is then the most it trains. One rule,
   * applied alike to every condition; the epochs each run took are recorded with its fit.
   */
  untilFit: v.optional(v.strictObject({ threshold: v.pipe(v.number(), v.gtValue(0), v.maxValue(1)) })),
});

/** SliCK settings (src/lab/slick.ts); defaults GEKHMAN_SLICK. */
const SlickSchema = v.strictObject({
  prompts: v.optional(int(1, 'slickPrompts'), GEKHMAN_SLICK.prompts),
  temperature: v.optional(v.pipe(v.number(), v.gtValue(0), v.maxValue(LIMITS.temperature.max, tooLarge('temperature'))), GEKHMAN_SLICK.temperature),
  samples: v.optional(int(1, 'slickSamples'), GEKHMAN_SLICK.samples),
  threshold: v.optional(v.pipe(v.number(), v.gtValue(0), v.maxValue(1)), GEKHMAN_SLICK.threshold),
  seed: v.optional(int(0, 'seed'), GEKHMAN_SLICK.seed),
});

const once = (s: string, p: string) => s.split(p).length - 1 === 1;
const PromptLayoutSchema = v.strictObject({
  header: v.optional(
    v.pipe(
      v.string(),
      v.check((s) => !/\{(question|letter|A|B|C|D)\}/.test(s), 'the header may use only {subject}'),
    ),
    DEFAULT_LAYOUT.header,
  ),
  question: v.optional(
    v.pipe(
      v.string(),
      v.check((s) => ['{question}', '{A}', '{B}', '{C}', '{D}'].every((p) => once(s, p)), 'the question must contain {question}, {A}, {B}, {C} and {D} once each'),
    ),
    DEFAULT_LAYOUT.question,
  ),
  answer: v.optional(
    v.pipe(
      v.string(),
      v.check((s) => once(s, '{letter}'), 'the answer must contain {letter} once'),
    ),
    DEFAULT_LAYOUT.answer,
  ),
  shotSeparator: v.optional(v.string(), DEFAULT_LAYOUT.shotSeparator),
});

export const ExperimentConfigSchema = v.strictObject({
  name: v.pipe(v.string(), v.minLength(1), v.maxLength(LIMITS.name.max, `may be at most ${LIMITS.name.max} characters (${LIMITS.name.why})`)),
  model: v.strictObject({
    id: v.pipe(v.string(), v.minLength(1)),
    revision: v.optional(v.string(), 'main'),
    /** Frozen weights: `auto` keeps an F32 checkpoint's f32 when it fits comfortably, else packs to f16 (src/model/precision.ts). */
    precision: v.optional(v.picklist(['auto', 'f32', 'f16']), 'auto'),
  }),
  /**
   * Where the engine runs: `auto` takes a hardware GPU, else the CPU (a software adapter only when it measures
   * faster); `webgpu` or `cpu` insist. The manifest records what ran. Not part of the science: a plan or a
   * resumed run may change it.
   */
  device: v.optional(v.picklist(['auto', 'webgpu', 'cpu']), 'auto'),
  questions: QuestionSource,
  subjects: v.strictObject({
    train: list(v.pipe(v.string(), v.minLength(1)), 'subjects'),
    /** ID subjects: the training subjects' MMLU category, or a list. */
    related: v.optional(v.union([v.literal('category'), v.pipe(v.array(v.string()), v.maxLength(LIMITS.subjects.max, `may hold at most ${LIMITS.subjects.max} subjects`))]), 'category'),
  }),
  splits: v.optional(
    v.strictObject({
      seed: v.optional(int(0), 42),
      homoFraction: v.optional(v.pipe(v.number(), v.gtValue(0), v.ltValue(1)), 0.3),
      caps: v.optional(
        v.strictObject({ train: v.optional(int(1, 'caps')), homo: v.optional(int(1, 'caps')), id: v.optional(int(1, 'caps')), ood: v.optional(int(1, 'caps')) }),
        {},
      ),
      /** Splits that may be empty (a one-topic file has no ID or OOD subjects). */
      allowEmpty: v.optional(v.array(v.picklist(['homo', 'id', 'ood']))),
    }),
    {},
  ),
  probe: v.optional(
    v.strictObject({
      shots: v.optional(int(0, 'shots'), 5),
      threshold: v.optional(v.pipe(v.number(), v.minValue(0), v.ltValue(1)), 0.5),
      method: v.optional(v.picklist(['letter', 'strict', 'debiased', 'continuation']), 'letter'),
      batchSize: v.optional(int(1, 'probeBatch'), 8),
      minPerCondition: v.optional(int(1, 'minPerCondition'), 20),
      /** SliCK categories (Gekhman et al. 2024; src/lab/slick.ts): `true` for the defaults, or the settings. */
      slick: v.optional(v.union([v.boolean(), SlickSchema])),
    }),
    {},
  ),
  /** How questions are written (the paper's MMLU layout by default); see src/lab/prompts.ts. */
  prompt: v.optional(PromptLayoutSchema, {}),
  conditions: v.optional(v.pipe(v.array(v.picklist(CONDITIONS)), v.minLength(1)), ['harmonious', 'incompatible', 'selfAligning', 'mixture']),
  ratios: v.optional(list(fraction, 'ratios'), [0, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1]),
  /** Items per condition; default the largest every condition can have. */
  size: v.optional(int(1, 'size')),
  /**
   * Seed of the data choices (which questions, which items a mixture replaces, the random-wrong options, the
   * order): `"per-seed"` (default) redraws the data for every training seed, so seeds are independent evidence;
   * a number fixes one draw for all seeds.
   */
  dataSeed: v.optional(v.union([v.literal('per-seed'), int(0)]), 'per-seed'),
  /**
   * How the per-seed draws share the pool: `"spread"` (default) gives each data seed its own block of a
   * pool shuffled once, so seeds overlap as little as the pool allows; `"random"` draws each seed
   * independently at random (what results before this option did). The measured overlap is in the result.
   */
  dataDraws: v.optional(v.picklist(['spread', 'random']), 'spread'),
  /** Training seeds: every condition is trained once per seed (the paper: 42). */
  seeds: v.optional(list(int(0, 'seed'), 'seeds'), [42]),
  responses: v.optional(v.picklist(['letter', 'letter+explanation']), 'letter'),
  /**
   * General instruction data mixed in, `ratio` examples per knowledge item (paper: 1): a file (`path`: JSON
   * Lines or a JSON array of Alpaca, chat or ShareGPT rows, src/lab/general.ts) or the toy world's own set
   * (`builtin: "toyworld"`, src/lab/toyworld/general.ts).
   */
  general: v.optional(
    v.union([
      v.strictObject({ path: v.pipe(v.string(), v.minLength(1)), ratio: v.optional(v.pipe(upTo('generalRatio'), v.minValue(0)), 1) }),
      v.strictObject({ builtin: v.literal('toyworld'), ratio: v.optional(v.pipe(upTo('generalRatio'), v.minValue(0)), 1) }),
    ]),
  ),
  training: Training,
  /**
   * Gekhman et al.'s Unknown-share design instead of Ren's conditions (src/lab/unknown-share.ts, docs/slick.md):
   * training sets of one size with these shares of SliCK-unknown items, the rest from `rest`; a development set
   * of `devFraction` of the pool for early stopping; every epoch evaluated. Turns the probe's SliCK on.
   */
  unknownShare: v.optional(
    v.strictObject({
      shares: v.optional(list(fraction, 'ratios'), [0, 0.25, 0.5, 0.75, 1]),
      size: v.optional(int(1, 'size')),
      rest: v.optional(v.pipe(v.array(v.picklist(['highlyKnown', 'maybeKnown', 'weaklyKnown'])), v.minLength(1)), ['highlyKnown', 'maybeKnown']),
      devFraction: v.optional(v.pipe(v.number(), v.gtValue(0), v.ltValue(1)), 0.1),
    }),
  ),
  protocols: v.optional(v.pipe(v.array(v.picklist(['paper', 'like-for-like'])), v.minLength(1)), ['paper', 'like-for-like']),
  evaluation: v.optional(
    v.strictObject({
      /** Resamples of every bootstrap interval (at least 10,000 by default, so that a verdict does not flip with the bootstrap's seed). */
      bootstrapSamples: v.optional(int(0, 'bootstrapSamples'), 10_000),
      /** Contrasts draw more resamples (doubling, up to the limit) until each interval end's Monte Carlo error is at most this; 0: never. */
      bootstrapPrecision: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(0.1)), 0.001),
      bootstrapSeed: v.optional(int(0, 'seed'), 0),
      batchSize: v.optional(int(1, 'probeBatch'), 8),
    }),
    {},
  ),
});

export type ExperimentConfigInput = v.InferInput<typeof ExperimentConfigSchema>;
export type ExperimentConfig = v.InferOutput<typeof ExperimentConfigSchema>;

/** Validates and fills defaults; every problem is listed with its path (`training.lora.rank: …`). */
export function parseExperimentConfig(input: unknown): ExperimentConfig {
  const r = v.safeParse(ExperimentConfigSchema, input);
  if (!r.success) {
    throw new ConfigError(
      'experiment configuration',
      r.issues.map((i) => `${v.getDotPath(i) ?? '(root)'}: ${i.message}`),
    );
  }
  const c = r.output;
  const issues: string[] = [];
  if (c.conditions.includes('mixture') && c.ratios.length === 0) issues.push('ratios: the mixture condition needs at least one ratio');
  if (new Set(c.seeds).size !== c.seeds.length) issues.push('seeds: a seed appears twice');
  if (new Set(c.conditions).size !== c.conditions.length) issues.push('conditions: a condition appears twice');
  if (new Set(c.ratios).size !== c.ratios.length) issues.push('ratios: a ratio appears twice');
  if (c.questions.kind === 'toyworld' && Object.keys(c.questions.options).length) {
    // Never silently ignored: the built-in model knows one world, and no option can change what it learned.
    issues.push(
      `questions.options: ${Object.keys(c.questions.options).map((k) => JSON.stringify(k)).join(', ')} would be ignored: the toy world is the one the built-in model was pretrained on (only "seed" selects it); remove "options" (another world needs its own model: tools/toyworld/build.sh)`,
    );
  }
  if (c.unknownShare && new Set(c.unknownShare.shares).size !== c.unknownShare.shares.length) issues.push('unknownShare.shares: a share appears twice');
  if (c.unknownShare && new Set(c.unknownShare.rest).size !== c.unknownShare.rest.length) issues.push('unknownShare.rest: a category appears twice');
  if (issues.length) throw new ConfigError('experiment configuration', issues);
  return c;
}

/** Checks that need the loaded questions: a condition cannot hold more items than the pool has questions (caps are ceilings, and may exceed it). */
export function checkAgainstPool(c: ExperimentConfig, poolSize: number): void {
  const issues: string[] = [];
  if (c.size !== undefined && c.size > poolSize) {
    issues.push(`size: ${c.size} items per condition, but the question pool holds ${poolSize} questions (the training split is smaller still); lower size or leave it out for the largest possible`);
  }
  if (issues.length) throw new ConfigError('experiment configuration', issues);
}
