/**
 * Pre-registration: a plan frozen before an experiment runs — the configuration (and its hash, computed as
 * the manifest's), the seeds, the primary endpoint, the secondary family, α and the decision rule, and the
 * sensitivity arm that trains every condition until it fits. A run under a plan whose configuration and seeds
 * match it is confirmatory; every other run is exploratory. A plan is plain JSON: the CLI writes it
 * (`ift-lab preregister`), the browser keeps it with the run (History, share link).
 */
import * as v from 'valibot';
import { DEFAULT_ALPHA, DEFAULT_PRIMARY, DEFAULT_SECONDARY, decisionRuleText, type EndpointSpec } from './analysis';
import { DEFAULT_BOOTSTRAP_SAMPLES, seedsNeeded } from './contrasts';
import { ConfigError, LabError } from './errors';
import { parseExperimentConfig, type ExperimentConfig } from './experiment-config';
import { stableJson } from './fingerprint';
import { sha256Hex } from './hash';

export const PLAN_SCHEMA = 'ift-lab/plan@1';

/**
 * The hash of a parsed configuration (defaults filled, keys sorted): the manifest's `configHash`, the plan's, the
 * CLI's output folder. `device` is left out: where a run computes is not what it computes (the manifest says
 * which backend ran), so a plan frozen on one machine governs its run on another.
 */
export function configHash(config: ExperimentConfig): Promise<string> {
  return sha256Hex(stableJson(scienceOf(config)));
}

/** The configuration without `device`. */
export function scienceOf(config: ExperimentConfig): Omit<ExperimentConfig, 'device'> {
  const { device: _device, ...science } = config;
  return science;
}

/** The hash of a plan as written (keys sorted): what a confirmatory manifest names. */
export function planHash(plan: Plan): Promise<string> {
  return sha256Hex(stableJson(plan));
}

const Endpoint = v.strictObject({
  id: v.pipe(v.string(), v.minLength(1), v.maxLength(80)),
  a: v.pipe(v.string(), v.minLength(1)),
  b: v.pipe(v.string(), v.minLength(1)),
  measure: v.picklist(['accuracy', 'consistency']),
  set: v.picklist(['pooled', 'homo', 'id', 'ood']),
  protocol: v.picklist(['paper', 'like-for-like']),
});

/**
 * The sensitivity arm: every condition trained under one stop-at-fit rule, alike — after each epoch the run
 * scores its own training items and stops once at least `threshold` are answered as trained, or at
 * `maxEpochs`. The arm is the plan's configuration with `training.untilFit` set (its own hash).
 */
const FitArm = v.strictObject({ threshold: v.pipe(v.number(), v.gtValue(0), v.maxValue(1)), maxEpochs: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100)), configHash: v.string() });

const PlanSchema = v.strictObject({
  schema: v.literal(PLAN_SCHEMA),
  name: v.string(),
  createdAt: v.string(),
  configHash: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
  config: v.record(v.string(), v.unknown()),
  seeds: v.array(v.pipe(v.number(), v.integer())),
  primary: Endpoint,
  secondary: v.array(Endpoint),
  alpha: v.pipe(v.number(), v.gtValue(0), v.ltValue(1)),
  decisionRule: v.string(),
  bootstrap: v.strictObject({ samples: v.number(), precision: v.number(), seed: v.number() }),
  fitArm: v.optional(FitArm),
  notes: v.array(v.string()),
});

export type Plan = Omit<v.InferOutput<typeof PlanSchema>, 'config' | 'primary' | 'secondary'> & {
  config: ExperimentConfig;
  primary: EndpointSpec;
  secondary: EndpointSpec[];
};

export interface PlanOptions {
  alpha?: number;
  primary?: EndpointSpec;
  secondary?: readonly EndpointSpec[];
  /** Add the stop-at-fit sensitivity arm (default: threshold 0.9, at most 4 × the configured epochs, ≤ 100). */
  fitArm?: boolean | { threshold?: number; maxEpochs?: number };
  now?: () => Date;
}

/** The sensitivity arm's configuration: the plan's, every condition trained until it fits (one rule, alike). */
export function fitArmConfig(config: ExperimentConfig, arm: { threshold: number; maxEpochs: number }): ExperimentConfig {
  return parseExperimentConfig({
    ...config,
    name: `${config.name}-fit`.slice(0, 120),
    training: { ...config.training, epochs: arm.maxEpochs, untilFit: { threshold: arm.threshold } },
  });
}

/** Freezes a plan for a configuration. */
export async function makePlan(configInput: unknown, o: PlanOptions = {}): Promise<Plan> {
  const config = parseExperimentConfig(configInput);
  const alpha = o.alpha ?? DEFAULT_ALPHA;
  const primary = o.primary ?? DEFAULT_PRIMARY;
  const secondary = [...(o.secondary ?? DEFAULT_SECONDARY)];
  if (config.evaluation.bootstrapSamples < DEFAULT_BOOTSTRAP_SAMPLES) {
    throw new ConfigError('plan', [`evaluation.bootstrapSamples: ${config.evaluation.bootstrapSamples} resamples; a plan needs at least ${DEFAULT_BOOTSTRAP_SAMPLES.toLocaleString('en-US')} (fewer let a verdict flip with the bootstrap's seed). Leave it out for the default.`]);
  }
  const notes: string[] = [];
  const need = seedsNeeded(alpha);
  if (config.seeds.length < need) {
    notes.push(`${config.seeds.length} seed(s): the exact sign-flip test cannot reach α = ${alpha} with fewer than ${need} seeds, so no endpoint can be decided.`);
  }
  for (const e of [primary, ...secondary]) {
    for (const c of [e.a, e.b]) {
      const kind = c.startsWith('mixture-') ? 'mixture' : c;
      if (c !== 'base-chat' && !config.conditions.includes(kind as ExperimentConfig['conditions'][number])) notes.push(`${e.id}: the configuration does not train ${c}; the endpoint will be "not measured".`);
    }
    if (!config.protocols.includes(e.protocol as 'paper') && e.protocol !== 'like-for-like') notes.push(`${e.id}: the configuration does not score the ${e.protocol} protocol.`);
  }
  if (config.dataSeed !== 'per-seed') notes.push('dataSeed is fixed: every seed trains on the same data draw, so seeds are not independent draws of data.');
  let fitArm: Plan['fitArm'];
  if (o.fitArm) {
    const given = typeof o.fitArm === 'object' ? o.fitArm : {};
    const threshold = given.threshold ?? 0.9;
    const maxEpochs = given.maxEpochs ?? Math.min(100, 4 * config.training.epochs);
    fitArm = { threshold, maxEpochs, configHash: await configHash(fitArmConfig(config, { threshold, maxEpochs })) };
  }
  return {
    schema: PLAN_SCHEMA,
    name: config.name,
    createdAt: (o.now?.() ?? new Date()).toISOString(),
    configHash: await configHash(config),
    config,
    seeds: [...config.seeds],
    primary,
    secondary,
    alpha,
    decisionRule: decisionRuleText(alpha),
    bootstrap: { samples: config.evaluation.bootstrapSamples, precision: config.evaluation.bootstrapPrecision, seed: config.evaluation.bootstrapSeed },
    ...(fitArm ? { fitArm } : {}),
    notes,
  };
}

/** Reads a plan: its shape, and that its recorded hash is its configuration's (a hand-edited plan is refused). */
export async function parsePlan(input: unknown): Promise<Plan> {
  const r = v.safeParse(PlanSchema, input);
  if (!r.success) throw new ConfigError('plan', r.issues.map((i) => `${v.getDotPath(i) ?? '(root)'}: ${i.message}`));
  const config = parseExperimentConfig(r.output.config);
  const hash = await configHash(config);
  if (hash !== r.output.configHash) {
    throw new LabError('plan-tampered', `The plan's configuration hashes to ${hash.slice(0, 12)}…, not the ${r.output.configHash.slice(0, 12)}… it records: it was edited after it was frozen.`, 'Register a new plan (ift-lab preregister) before the run; a plan changed afterwards is not a pre-registration.');
  }
  if (stableJson(r.output.seeds) !== stableJson(config.seeds)) throw new LabError('plan-tampered', 'The plan lists other seeds than its configuration.', 'Register a new plan.');
  return { ...r.output, config, primary: r.output.primary as EndpointSpec, secondary: r.output.secondary as EndpointSpec[] };
}

function flatten(x: unknown, prefix: string, out: Map<string, string>): void {
  if (x && typeof x === 'object' && !Array.isArray(x)) for (const [k, y] of Object.entries(x as Record<string, unknown>)) flatten(y, prefix ? `${prefix}.${k}` : k, out);
  else out.set(prefix, JSON.stringify(x));
}

/** How a configuration differs from the plan's, field by field ("seeds [1,2,3] → [1,2]"); empty when it matches. */
export function planDifferences(plan: Plan, config: ExperimentConfig): string[] {
  const a = new Map<string, string>();
  const b = new Map<string, string>();
  flatten(scienceOf(plan.config), '', a);
  flatten(scienceOf(config), '', b);
  const out: string[] = [];
  for (const k of [...new Set([...a.keys(), ...b.keys()])].sort()) if (a.get(k) !== b.get(k)) out.push(`${k} ${a.get(k) ?? '(unset)'} → ${b.get(k) ?? '(unset)'}`);
  return out;
}

/** Which arm of the plan a configuration is: the main one, the fit arm, or none (then the differences). */
export async function armOf(plan: Plan, config: ExperimentConfig): Promise<{ arm: 'main' | 'fit' } | { arm: null; differences: string[] }> {
  const hash = await configHash(config);
  if (hash === plan.configHash) return { arm: 'main' };
  if (plan.fitArm && hash === plan.fitArm.configHash) return { arm: 'fit' };
  return { arm: null, differences: planDifferences(plan, config) };
}

/** The refusal when a configuration is not the plan's. */
export class PlanMismatchError extends LabError {
  constructor(
    readonly differences: string[],
    advice = 'Run the plan\'s configuration unchanged (its seeds included), or register a new plan before running a changed one; without --plan the run is exploratory.',
  ) {
    super('plan-mismatch', `The configuration differs from the pre-registered plan: ${differences.slice(0, 8).join('; ')}${differences.length > 8 ? `; and ${differences.length - 8} more` : ''}.`, advice);
  }
}
