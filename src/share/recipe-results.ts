/**
 * A recipe's results.json (the exported Python recipe, src/lab/recipe/train.py, run on a GPU machine) → lab
 * results: one SharedResult per evaluation protocol and training seed, built by the same code as a browser run's
 * (from-runs.ts sharedResult), so a 7B run shows in the same charts and share links. Never throws: bad input
 * comes back as issues a student can act on.
 */
import * as v from 'valibot';
import type { EvalReport, GroupMetrics, SetReport, TestSetName } from '../lab/evaluate';
import type { Interval } from '../lab/metrics';
import { sharedResult, type RunForShare } from './from-runs';
import { validateSharedResult } from './schema';
import { CONDITION_KINDS, TEST_SETS, type SharedManifest, type SharedResult } from './types';

export const RECIPE_RESULTS_FORMAT = 'ift-lab-recipe-results';

// JSON has no NaN: the recipe writes null for a measure of an empty group. Every measure has its range (an
// accuracy of 5.0 would show as 100 %, -3 as 0 %), and an interval's lower end is not above its upper end.
const measureIn = (lo: number, hi: number, what: string) =>
  v.nullable(v.pipe(v.number(), v.finite(), v.minValue(lo, `${what} must be ≥ ${lo}`), v.maxValue(hi, `${what} must be ≤ ${hi}`)));
const intervalIn = (lo: number, hi: number, what: string) =>
  v.pipe(
    v.object({ value: measureIn(lo, hi, what), lo: measureIn(lo, hi, what), hi: measureIn(lo, hi, what) }),
    v.check((i) => i.lo === null || i.hi === null || i.lo <= i.hi, 'the interval\'s lo is above its hi'),
  );
const group = v.object({
  n: v.pipe(v.number(), v.integer(), v.minValue(0)),
  baseAccuracy: intervalIn(0, 1, 'an accuracy (a share of questions)'),
  tunedAccuracy: intervalIn(0, 1, 'an accuracy (a share of questions)'),
  consistency: intervalIn(-1, 1, 'a consistency'),
  kl: intervalIn(0, Infinity, 'a KL divergence'),
  cosine: intervalIn(-1, 1, 'a cosine'),
});
/** The lab's own bounds (src/lab/limits.ts; share runs none of the lab's code, so they are repeated here). */
const BOUNDS = { rank: 256, learningRate: 1, epochs: 100, items: 1_000_000, seed: 2 ** 31 - 1 } as const;
const positive = (what: string) => v.pipe(v.number(), v.finite(), v.gtValue(0, `${what} must be > 0`));
const whole = (min: number, max: number, what: string) => v.pipe(v.number(), v.integer(`${what} must be a whole number`), v.minValue(min, `${what} must be ≥ ${min}`), v.maxValue(max, `${what} must be ≤ ${max}`));
const share = (what: string, open = false) => v.pipe(v.number(), v.minValue(0, `${what} must be ≥ 0`), open ? v.ltValue(1, `${what} must be < 1`) : v.maxValue(1, `${what} must be ≤ 1`));
const setReport = v.object({ overall: group, known: group, unknown: group });
const text = (max: number) => v.pipe(v.string(), v.maxLength(max));

const recipeSchema = v.object({
  format: v.literal(RECIPE_RESULTS_FORMAT),
  version: v.literal(1),
  name: text(200),
  model: v.object({ id: text(200), revision: text(200) }),
  labModel: v.optional(v.nullable(v.object({ id: text(200), revision: v.optional(text(200)) }))),
  method: v.optional(text(40)),
  protocols: v.pipe(
    v.array(
      v.object({
        name: text(60),
        base: v.object({ kind: text(20), shots: v.optional(v.number()) }),
        tuned: v.object({ kind: text(20) }),
      }),
    ),
    v.minLength(1),
    v.maxLength(8),
  ),
  training: v.object({
    lora: v.object({
      rank: whole(1, BOUNDS.rank, 'the LoRA rank'),
      alpha: positive('lora_alpha'),
      dropout: v.optional(share('the dropout', true), 0),
      targets: v.optional(v.array(text(10)), []),
    }),
    learningRate: v.pipe(positive('the learning rate'), v.maxValue(BOUNDS.learningRate, `the learning rate must be ≤ ${BOUNDS.learningRate} (a LoRA learning rate above 1 diverges at the first step)`)),
    epochs: whole(1, BOUNDS.epochs, 'epochs'),
    batchSize: whole(1, 1_000_000, 'the batch size'),
    schedule: v.object({ kind: text(20), warmupFraction: share('the warm-up fraction', true) }),
  }),
  datasets: v.pipe(
    v.array(
      v.object({
        name: text(120),
        kind: v.picklist(CONDITION_KINDS),
        ratio: v.optional(v.nullable(share('a mixture ratio')), null),
        items: whole(0, BOUNDS.items, 'a dataset\'s item count'),
        sha256: text(120),
      }),
    ),
    v.maxLength(64),
  ),
  probe: v.optional(v.nullable(v.object({ counts: v.object({ known: whole(0, 1e9, 'a probe count'), unknown: whole(0, 1e9, 'a probe count') }) }))),
  startedAt: v.optional(v.nullable(v.string())),
  finishedAt: v.optional(v.nullable(v.string())),
  environment: v.optional(v.record(v.string(), v.unknown()), {}),
  runs: v.pipe(
    v.array(
      v.object({
        runId: text(160),
        dataset: text(120),
        seed: whole(0, BOUNDS.seed, 'a seed'),
        evals: v.record(text(60), v.record(v.string(), setReport)),
      }),
    ),
    v.maxLength(2000),
    // One seed's run listed twice would count as two seeds (and weigh twice in every mean).
    v.check((runs) => new Set(runs.map((r) => r.runId)).size === runs.length, 'a run id appears twice (one run must be listed once)'),
    v.check((runs) => new Set(runs.map((r) => `${r.dataset}\u0000${r.seed}`)).size === runs.length, 'a dataset is listed twice with the same seed (one run counted twice)'),
  ),
});

type Recipe = v.InferOutput<typeof recipeSchema>;

export interface RecipeImport {
  results: SharedResult[];
  /** Why the file (or one of its results) could not be read; empty when all went well. */
  issues: string[];
}

export function isRecipeResults(json: unknown): boolean {
  return !!json && typeof json === 'object' && (json as { format?: unknown }).format === RECIPE_RESULTS_FORMAT;
}


const nan = (x: number | null) => (x === null ? NaN : x);
const iv = (i: { value: number | null; lo: number | null; hi: number | null }): Interval => ({ value: nan(i.value), lo: nan(i.lo), hi: nan(i.hi) });
const grp = (g: v.InferOutput<typeof group>): GroupMetrics => ({
  n: g.n,
  baseAccuracy: iv(g.baseAccuracy),
  tunedAccuracy: iv(g.tunedAccuracy),
  consistency: iv(g.consistency),
  kl: iv(g.kl),
  cosine: iv(g.cosine),
});

function report(protocol: string, sets: Record<string, v.InferOutput<typeof setReport>>): EvalReport {
  const out: EvalReport['sets'] = {};
  for (const s of TEST_SETS) {
    const r = sets[s];
    if (r)
      out[s as TestSetName] = {
        overall: grp(r.overall),
        known: grp(r.known),
        unknown: grp(r.unknown),
      } satisfies SetReport;
  }
  return { protocol, sets: out };
}

function iso(x: string | null | undefined): string {
  const t = x ? Date.parse(x) : NaN;
  return new Date(Number.isFinite(t) ? t : 0).toISOString();
}

function protocolText(p: Recipe['protocols'][number]): string {
  if (p.name === 'paper') return `paper (base ${p.base.shots ?? 0}-shot, tuned 0-shot with template)`;
  if (p.name === 'like-for-like') return 'like-for-like (both 0-shot with template)';
  return p.name;
}

function manifestOf(
  r: Recipe,
  p: Recipe['protocols'][number],
  seed: number,
  datasets: { name: string; hash: string }[],
): SharedManifest {
  const env = r.environment ?? {};
  const str = (k: string) => (typeof env[k] === 'string' ? (env[k] as string) : '?');
  const processes = typeof env.processes === 'number' ? env.processes : 1;
  const layout =
    env.fsdp === true
      ? 'FSDP'
      : typeof env.deviceMap === 'string'
        ? `device_map=${env.deviceMap}`
        : processes > 1
          ? 'data parallel'
          : 'one GPU';
  const t = r.training;
  return {
    model: { id: r.model.id.slice(0, 120), revision: r.model.revision.slice(0, 120) },
    engineVersion:
      `recipe: torch ${str('torch')}, transformers ${str('transformers')}, peft ${str('peft')}, accelerate ${str('accelerate')}`.slice(
        0,
        120,
      ),
    device: { description: `${processes} process(es), ${layout} (IFT Lab recipe)`, fallback: false, shaderF16: false },
    seeds: [seed],
    hyper: {
      method: 'LoRA',
      rank: t.lora.rank,
      alpha: t.lora.alpha,
      dropout: t.lora.dropout,
      targets: t.lora.targets.join(',').slice(0, 120),
      lr: t.learningRate,
      epochs: t.epochs,
      batch: t.batchSize,
      schedule: t.schedule.kind,
      warmup: t.schedule.warmupFraction,
      k: p.base.shots ?? 0,
      scoring: (r.method ?? 'letter').slice(0, 120),
      source: 'recipe',
      labModel: (r.labModel?.id ?? '').slice(0, 120),
    },
    datasets,
    protocol: protocolText(p),
    date: iso(r.finishedAt ?? r.startedAt),
  };
}

/** Reads a recipe's results.json (parsed) into one lab result per protocol and seed, each validated. */
export function recipeToShared(json: unknown): RecipeImport {
  const parsed = v.safeParse(recipeSchema, json);
  if (!parsed.success) {
    return {
      results: [],
      issues: [
        'This is not a results.json written by an IFT Lab recipe (train.py), or it was edited:',
        ...parsed.issues.slice(0, 8).map((i) => `${v.getDotPath(i) ?? '(top level)'}: ${i.message}`),
      ],
    };
  }
  const r = parsed.output;
  if (r.runs.length === 0)
    return {
      results: [],
      issues: [
        'The recipe has finished no run yet: results.json has no runs. Run train.py to the end (or --only some runs) first.',
      ],
    };
  const byName = new Map(r.datasets.map((d) => [d.name, d]));
  const results: SharedResult[] = [];
  const issues: string[] = [];
  const seeds = [...new Set(r.runs.map((x) => x.seed))].sort((a, b) => a - b);
  for (const p of r.protocols) {
    for (const seed of seeds) {
      const runs: (RunForShare & { hash: string })[] = [];
      for (const run of r.runs.filter((x) => x.seed === seed)) {
        const d = byName.get(run.dataset);
        const sets = run.evals[p.name];
        if (!d || !sets) {
          issues.push(
            `Run ${run.runId}: ${!d ? `its dataset ${run.dataset} is not listed in results.json` : `no scores under the ${p.name} protocol`}; left out.`,
          );
          continue;
        }
        const ratio = d.kind === 'mixture' ? d.ratio : null;
        runs.push({
          condition: d.kind === 'mixture' ? `mixture-${ratio}` : d.kind,
          kind: d.kind,
          ...(ratio === null ? {} : { ratio }),
          seed,
          trainSize: d.items,
          hash: d.sha256,
          evals: { [p.name]: report(p.name, sets) },
        });
      }
      if (runs.length === 0) continue;
      const datasets = runs.map((x) => ({ name: x.condition.slice(0, 120), hash: x.hash.slice(0, 120) }));
      const shared = sharedResult({
        title: `${r.name} on ${r.model.id} (recipe, ${p.name}${seeds.length > 1 ? `, seed ${seed}` : ''})`,
        manifest: manifestOf(r, p, seed, datasets),
        protocol: p.name,
        method: r.method ?? 'letter',
        counts: { known: r.probe?.counts.known ?? 0, unknown: r.probe?.counts.unknown ?? 0 },
        runs,
      });
      const ok = validateSharedResult(shared);
      if (ok.ok) results.push(ok.value);
      else issues.push(`The ${p.name} result for seed ${seed} does not validate: ${ok.issues.join('; ')}`);
    }
  }
  return { results, issues };
}
