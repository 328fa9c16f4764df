/**
 * The valibot schema of a SharedResult. Every string and array has a size limit, every number must be
 * finite, so that a hostile link cannot make the page do unbounded work or show unbounded text.
 */
import * as v from 'valibot';
import { CONDITION_KINDS, SHARE_VERSION, SLICK_CATEGORIES, TEST_SETS, type SharedResult } from './types';

export const LIMITS = {
  /** Characters of the URL fragment's data part. */
  fragmentChars: 48_000,
  /** Bytes of JSON after inflating (guards against a compression bomb). */
  jsonBytes: 256_000,
  conditions: 64,
  contrasts: 600,
  perSeed: 32,
  epochs: 100,
  seeds: 32,
  hyper: 64,
  datasets: 64,
  /** Teaching groups of a toy-world result. */
  groups: 8,
  /** Unknown shares of an Unknown-share result. */
  shares: 16,
  shortText: 120,
  longText: 400,
  /** Characters of a carried plan.json (a plan is a few kB). */
  planJson: 32_000,
} as const;

const text = (max: number) => v.pipe(v.string(), v.maxLength(max, `at most ${max} characters`));
const num = v.pipe(v.number(), v.finite('a finite number'));
const unit = v.pipe(num, v.minValue(0, 'at least 0'), v.maxValue(1, 'at most 1'));
const count = v.pipe(num, v.integer('a whole number'), v.minValue(0, 'at least 0'), v.maxValue(1e9, 'at most 1e9'));

const accuracy = v.object({ acc: unit, lo: unit, hi: unit, n: count });

const condition = v.object({
  name: v.pipe(text(LIMITS.shortText), v.minLength(1, 'a name')),
  kind: v.picklist(CONDITION_KINDS, `one of ${CONDITION_KINDS.join(', ')}`),
  ratio: v.nullable(unit),
  trainSize: count,
  homo: accuracy,
  id: accuracy,
  ood: accuracy,
  knownAcc: unit,
  unknownAcc: unit,
  consistency: v.pipe(num, v.minValue(-1), v.maxValue(1)),
  kl: v.pipe(num, v.minValue(0), v.maxValue(1e6)),
  seeds: v.optional(v.pipe(count, v.maxValue(LIMITS.seeds))),
  perSeed: v.optional(v.pipe(v.array(v.object({ seed: v.pipe(num, v.integer()), homo: unit, id: unit, ood: unit })), v.maxLength(LIMITS.perSeed))),
  fit: v.optional(v.object({ before: unit, after: unit, underTrained: v.boolean(), reason: v.nullable(text(LIMITS.longText)) })),
  lossPerEpoch: v.optional(v.pipe(v.array(v.pipe(num, v.minValue(0), v.maxValue(1e6))), v.maxLength(LIMITS.epochs))),
});

const signed = v.pipe(num, v.minValue(-1), v.maxValue(1));
/** What every contrast of the report carries: the mean difference, its interval, p, and the verdict. */
const contrastStats = {
  mean: signed,
  lo: signed,
  hi: signed,
  p: unit,
  seeds: v.pipe(count, v.maxValue(LIMITS.seeds)),
  n: count,
  holds: v.boolean(),
  reversed: v.boolean(),
};
const contrast = v.object({
  a: text(LIMITS.shortText),
  b: text(LIMITS.shortText),
  set: v.picklist(['homo', 'id', 'ood']),
  group: v.picklist(['overall', 'known', 'unknown']),
  ...contrastStats,
});

/** The report keys its tables on these values (Svelte's keyed each): a repeated one would blank the page. */
const unique = <T>(key: (x: T) => string, what: string) =>
  v.check((xs: T[]) => new Set(xs.map(key)).size === xs.length, `${what} appears twice (each must be unique)`);

const teaching = v.object({
  groups: v.pipe(
    v.array(v.object({ id: text(LIMITS.shortText), label: text(LIMITS.shortText), n: count })),
    v.maxLength(LIMITS.groups),
    unique((g) => g.id, 'a group id'),
  ),
  accuracy: v.pipe(
    v.array(v.object({ model: text(LIMITS.shortText), acc: v.pipe(v.array(v.nullable(unit)), v.maxLength(LIMITS.groups)) })),
    v.maxLength(LIMITS.conditions + 2),
    unique((r) => r.model, 'a model'),
  ),
  contrasts: v.pipe(
    v.array(v.object({ a: text(LIMITS.shortText), b: text(LIMITS.shortText), teaching: text(LIMITS.shortText), ...contrastStats })),
    v.maxLength(LIMITS.contrasts),
  ),
});

const curve = v.pipe(v.array(unit), v.maxLength(LIMITS.epochs));
const category = v.picklist(SLICK_CATEGORIES);
const unknownShare = v.object({
  size: count,
  devSize: count,
  rest: v.pipe(v.array(text(LIMITS.shortText)), v.maxLength(4)),
  shares: v.pipe(
    v.array(
      v.object({
        share: unit,
        seeds: v.pipe(count, v.maxValue(LIMITS.seeds)),
        earlyStop: v.pipe(v.array(v.pipe(count, v.maxValue(LIMITS.epochs))), v.maxLength(LIMITS.seeds)),
        dev: curve,
        test: v.object({ homo: v.optional(curve), id: v.optional(curve), ood: v.optional(curve) }),
        fit: v.pipe(v.array(v.object({ category, acc: v.pipe(v.array(v.nullable(unit)), v.maxLength(LIMITS.epochs)) })), v.maxLength(4)),
        early: v.object({ dev: unit, test: v.object({ homo: v.optional(unit), id: v.optional(unit), ood: v.optional(unit) }) }),
        byCategory: v.pipe(v.array(v.object({ set: v.picklist(TEST_SETS), category, n: count, early: v.nullable(unit), last: v.nullable(unit) })), v.maxLength(12)),
      }),
    ),
    v.maxLength(LIMITS.shares),
  ),
  contrasts: v.pipe(
    v.array(
      v.object({
        a: text(LIMITS.shortText),
        b: text(LIMITS.shortText),
        set: v.picklist(TEST_SETS),
        stop: v.picklist(['early', 'last', 'early-last']),
        group: v.picklist(['overall', ...SLICK_CATEGORIES]),
        ...contrastStats,
      }),
    ),
    v.maxLength(LIMITS.contrasts),
  ),
});

const hex = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'a SHA-256 in hex'));
const plan = v.object({
  hash: hex,
  configHash: hex,
  arm: v.picklist(['main', 'fit'], 'main or fit'),
  createdAt: v.pipe(text(40), v.isoTimestamp('an ISO date and time')),
  json: v.optional(text(LIMITS.planJson)),
});

/** Nesting of a carried plan's configuration (a configuration is 4 levels deep). */
const MAX_DEPTH = 8;
const depthOf = (x: unknown): number => (x && typeof x === 'object' ? 1 + Math.max(0, ...Object.values(x as object).map(depthOf)) : 0);
const endpoint = v.strictObject({ id: text(80), a: text(LIMITS.shortText), b: text(LIMITS.shortText), measure: text(40), set: text(40), protocol: text(40) });

/**
 * The shape of a carried plan.json (src/lab/plan.ts writes it; its full check, the configuration's hash
 * included, is the lab's parsePlan, which the Worker runs before a plan is kept). Strict: an unknown field is
 * refused, never dropped, since a plan's hash covers every field.
 */
const planDocument = v.strictObject({
  schema: v.literal('ift-lab/plan@1', 'ift-lab/plan@1'),
  name: text(LIMITS.shortText),
  createdAt: v.pipe(text(40), v.isoTimestamp('an ISO date and time')),
  configHash: hex,
  config: v.pipe(
    v.record(v.string(), v.unknown()),
    v.check((c) => depthOf(c) <= MAX_DEPTH, `nested at most ${MAX_DEPTH} levels`),
  ),
  seeds: v.pipe(v.array(v.pipe(num, v.integer())), v.maxLength(LIMITS.seeds)),
  primary: endpoint,
  secondary: v.pipe(v.array(endpoint), v.maxLength(16)),
  alpha: v.pipe(num, v.gtValue(0), v.ltValue(1)),
  decisionRule: text(2000),
  bootstrap: v.strictObject({ samples: num, precision: num, seed: num }),
  fitArm: v.optional(v.strictObject({ threshold: unit, maxEpochs: v.pipe(num, v.integer(), v.minValue(1), v.maxValue(100)), configHash: hex })),
  notes: v.pipe(v.array(text(LIMITS.longText)), v.maxLength(32)),
});

export type PlanDocument = v.InferOutput<typeof planDocument>;

/** Reads a result's carried plan.json: its shape, and that it is the plan the result names (date, configuration). */
export function readPlanJson(p: { json: string; createdAt: string; configHash: string; arm: 'main' | 'fit' }): { ok: true; plan: PlanDocument } | { ok: false; issues: string[] } {
  let json: unknown;
  try {
    json = JSON.parse(p.json);
  } catch {
    return { ok: false, issues: ['plan.json: not valid JSON'] };
  }
  const r = v.safeParse(planDocument, json);
  if (!r.success) return { ok: false, issues: r.issues.slice(0, 10).map((i) => `plan.json.${v.getDotPath(i) ?? '(top level)'}: ${i.message}`.slice(0, 300)) };
  if (r.output.createdAt !== p.createdAt) return { ok: false, issues: ['plan.json.createdAt: not the date of the plan the result names'] };
  const armHash = p.arm === 'fit' ? r.output.fitArm?.configHash : r.output.configHash;
  if (armHash !== p.configHash) return { ok: false, issues: [`plan.json.configHash: not the configuration of the plan the result names (${p.arm === 'fit' ? 'its stop-at-fit arm' : 'its main arm'})`] };
  return { ok: true, plan: r.output };
}

const hyperValue = v.union([num, v.boolean(), text(LIMITS.shortText)]);

export const sharedResultSchema = v.pipe(
  v.object({
    v: v.literal(SHARE_VERSION),
    title: text(LIMITS.longText),
    status: v.optional(v.picklist(['confirmatory', 'exploratory'], 'confirmatory or exploratory')),
    plan: v.optional(plan),
    manifest: v.object({
      model: v.object({ id: text(LIMITS.shortText), revision: text(LIMITS.shortText) }),
      engineVersion: text(LIMITS.shortText),
      device: v.object({ description: text(LIMITS.longText), fallback: v.boolean(), shaderF16: v.boolean() }),
      seeds: v.pipe(v.array(v.pipe(num, v.integer())), v.maxLength(LIMITS.seeds)),
      hyper: v.pipe(
        v.record(text(LIMITS.shortText), hyperValue),
        v.check((r) => Object.keys(r).length <= LIMITS.hyper, `at most ${LIMITS.hyper} hyper-parameters`),
      ),
      datasets: v.pipe(v.array(v.object({ name: text(LIMITS.shortText), hash: text(LIMITS.shortText) })), v.maxLength(LIMITS.datasets)),
      protocol: text(LIMITS.longText),
      date: v.pipe(text(40), v.isoTimestamp('an ISO date and time')),
    }),
    base: v.object({ homo: accuracy, id: accuracy, ood: accuracy }),
    counts: v.object({ known: count, unknown: count }),
    conditions: v.pipe(v.array(condition), v.maxLength(LIMITS.conditions), unique((c) => c.name, 'a condition name')),
    partial: v.nullable(v.object({ r: v.pipe(num, v.minValue(-1), v.maxValue(1)), n: count, p: unit })),
    partialNote: v.optional(text(LIMITS.longText)),
    chatBase: v.optional(v.object({ homo: accuracy, id: accuracy, ood: accuracy })),
    contrasts: v.optional(v.pipe(v.array(contrast), v.maxLength(LIMITS.contrasts))),
    method: v.optional(text(LIMITS.shortText)),
    teaching: v.optional(teaching),
    unknownShare: v.optional(unknownShare),
  }),
  // A result of Ren's design has conditions; one of the Unknown-share design may have none.
  v.forward(
    v.check((r) => r.conditions.length > 0 || r.unknownShare !== undefined, 'at least one condition'),
    ['conditions'],
  ),
);

// The schema and the hand-written type must describe the same thing.
type Parsed = v.InferOutput<typeof sharedResultSchema>;
const _sameShape: (x: Parsed) => SharedResult = (x) => x;
const _sameShapeBack: (x: SharedResult) => Parsed = (x) => x;
void _sameShape;
void _sameShapeBack;

/** A confirmatory result names its plan, and only a confirmatory one does. */
const statusAgrees = (r: SharedResult) => (r.status === 'confirmatory') === (r.plan !== undefined);

export type ValidationResult = { ok: true; value: SharedResult } | { ok: false; issues: string[] };

/** Validates any value as a SharedResult; issues are short "path: expected …" lines (at most 10). */
export function validateSharedResult(value: unknown): ValidationResult {
  const r = v.safeParse(sharedResultSchema, value);
  if (r.success) {
    if (!statusAgrees(r.output)) return { ok: false, issues: [`status: ${r.output.status === 'confirmatory' ? 'a confirmatory result names the plan it ran under' : 'only a confirmatory result names a plan'}`] };
    const p = r.output.plan;
    if (p?.json !== undefined) {
      const read = readPlanJson({ ...p, json: p.json });
      // Its issues already name the field inside the result: plan.json, plan.json.alpha…
      if (!read.ok) return { ok: false, issues: read.issues };
    }
    return { ok: true, value: r.output };
  }
  return {
    ok: false,
    issues: r.issues.slice(0, 10).map((i) => {
      const path = v.getDotPath(i) ?? '(top level)';
      return `${path}: ${i.message}`.slice(0, 300);
    }),
  };
}
