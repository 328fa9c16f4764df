/**
 * What makes a result reproducible (manifest) and readable (Markdown table).
 */
import type { ExperimentEnv, ExperimentResult, RunRecord } from './experiment';
import { estimateRecord, type EstimateRecord } from './estimate';
import type { Interval } from './metrics';

/** Adapter / device description as plain data (the engine's AdapterInfo, whatever the UI shows). */
export type DeviceInfo = Record<string, string | number | boolean | null | readonly string[]>;

export interface Manifest {
  schema: 'ift-lab/manifest@1';
  name: string;
  startedAt: string;
  finishedAt: string;
  /** `precision`: as configured (auto/f32/f16); `precisionUsed`: what the weights were loaded in, and why. */
  model: { id: string; revision: string; weightsHash: string | null; precision: string; precisionUsed: string | null; precisionReason: string | null };
  engineVersion: string;
  device: DeviceInfo | null;
  /** The estimate made before the run, the actual wall time, and actual ÷ estimate. */
  timing: EstimateRecord;
  questions: ExperimentResult['config']['questions'];
  subjects: ExperimentResult['config']['subjects'];
  splits: ExperimentResult['config']['splits'] & { counts: ExperimentResult['splits']['counts']; idSubjects: string[]; oodSubjects: string[] };
  probe: ExperimentResult['config']['probe'] & { counts: ExperimentResult['probe']['counts']; accuracy: number; warnings: string[] };
  datasets: ExperimentResult['datasets'];
  /** Every hyper-parameter that shaped the runs. */
  hyperparameters: {
    conditions: string[];
    ratios: number[];
    size: number | null;
    dataSeed: number;
    seeds: number[];
    responses: string;
    general: ExperimentResult['config']['general'] | null;
    training: ExperimentResult['config']['training'];
    protocols: string[];
    evaluation: ExperimentResult['config']['evaluation'];
  };
  runs: { runId: string; datasetHash: string; seed: number; steps: number }[];
}

export function buildManifest(r: ExperimentResult, env: ExperimentEnv): Manifest {
  const c = r.config;
  return {
    schema: 'ift-lab/manifest@1',
    name: r.name,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    model: {
      id: c.model.id, revision: c.model.revision, weightsHash: env.weightsHash ?? null,
      precision: c.model.precision ?? 'auto', precisionUsed: env.precision?.used ?? null, precisionReason: env.precision?.reason ?? null,
    },
    engineVersion: env.engineVersion,
    device: env.device ?? null,
    timing: estimateRecord(env.estimate, r.startedAt, r.finishedAt, env.stageSeconds),
    questions: c.questions,
    subjects: c.subjects,
    splits: { ...c.splits, counts: r.splits.counts, idSubjects: r.splits.idSubjects, oodSubjects: r.splits.oodSubjects },
    probe: { ...c.probe, counts: r.probe.counts, accuracy: r.probe.accuracy, warnings: r.probe.warnings },
    datasets: r.datasets,
    hyperparameters: {
      conditions: [...c.conditions],
      ratios: [...c.ratios],
      size: c.size ?? null,
      dataSeed: c.dataSeed,
      seeds: [...c.seeds],
      responses: c.responses,
      general: c.general ?? null,
      training: c.training,
      protocols: [...c.protocols],
      evaluation: c.evaluation,
    },
    runs: r.runs.map((x) => ({ runId: x.runId, datasetHash: x.datasetHash, seed: x.seed, steps: x.train.steps })),
  };
}

const pct = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(1) : '—');
const num = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const sd = (xs: number[]) => {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
};

/** Mean over seeds of a measure, with the mean of the per-seed 95 % bootstrap bounds, and the seed sd. */
function acrossSeeds(values: Interval[], scale: (x: number) => string): string {
  const v = mean(values.map((x) => x.value));
  const lo = mean(values.map((x) => x.lo));
  const hi = mean(values.map((x) => x.hi));
  const s = sd(values.map((x) => x.value));
  return `${scale(v)} [${scale(lo)}, ${scale(hi)}]${Number.isFinite(s) ? ` ±${scale(s)}` : ''}`;
}

/** Weighted by test-set size over HOMO, ID and OOD: one figure for all test questions of a group. */
function pooled(run: RunRecord, protocol: string, group: 'overall' | 'known' | 'unknown', key: 'tunedAccuracy' | 'consistency' | 'kl'): number {
  const ev = run.evals[protocol];
  let s = 0;
  let n = 0;
  for (const set of ['homo', 'id', 'ood'] as const) {
    const g = ev?.sets[set]?.[group];
    if (!g || g.n === 0) continue;
    s += g[key].value * g.n;
    n += g.n;
  }
  return n ? s / n : NaN;
}

export function markdownReport(r: ExperimentResult): string {
  const lines: string[] = [];
  const c = r.config;
  lines.push(`# ${r.name}`, '');
  lines.push(
    `Model \`${c.model.id}\` (${c.model.revision}); training subjects ${c.subjects.train.join(', ')}; ` +
      `train ${r.splits.counts.train}, HOMO ${r.splits.counts.homo}, ID ${r.splits.counts.id}, OOD ${r.splits.counts.ood} questions.`,
  );
  lines.push(
    `Probe (${c.probe.shots}-shot, ${c.probe.method}, threshold ${c.probe.threshold}): accuracy ${pct(r.probe.accuracy)} %, ` +
      `${r.probe.counts.known} known, ${r.probe.counts.unknown} unknown, ${r.probe.counts.discarded} discarded. ` +
      `Datasets of ${r.datasets[0]?.size ?? 0} items; seeds ${c.seeds.join(', ')}; LoRA r=${c.training.lora.rank}, α=${c.training.lora.alpha}, lr ${c.training.learningRate}, ${c.training.epochs} epochs.`,
  );
  for (const w of r.probe.warnings) lines.push('', `> ⚠ ${w}`);
  for (const protocol of c.protocols) {
    lines.push('', `## Protocol: ${protocol}`, '');
    lines.push(
      'Accuracy in % (mean over seeds [mean 95 % bootstrap bounds over questions] ±sd over seeds). Known/unknown: tuned accuracy on test questions the base model answers right/wrong, pooled over HOMO, ID and OOD; C and KL pooled likewise.',
      '',
    );
    lines.push('| condition | HOMO | ID | OOD | known | unknown | C | KL |', '|---|---|---|---|---|---|---|---|');
    const base = r.baseAccuracy[protocol] ?? {};
    lines.push(`| base | ${pct(base.homo ?? NaN)} | ${pct(base.id ?? NaN)} | ${pct(base.ood ?? NaN)} | 100.0 | 0.0 | 1.000 | 0.000 |`);
    const conditions = [...new Set(r.runs.map((x) => x.condition))];
    for (const cond of conditions) {
      const runs = r.runs.filter((x) => x.condition === cond && x.evals[protocol]);
      if (!runs.length) continue;
      const cell = (set: 'homo' | 'id' | 'ood') => {
        const ivs = runs.map((x) => x.evals[protocol].sets[set]?.overall.tunedAccuracy).filter((x): x is Interval => !!x);
        return ivs.length ? acrossSeeds(ivs, pct) : '—';
      };
      const p = (group: 'known' | 'unknown' | 'overall', key: 'tunedAccuracy' | 'consistency' | 'kl', f: (x: number) => string) =>
        f(mean(runs.map((x) => pooled(x, protocol, group, key))));
      lines.push(
        `| ${cond} | ${cell('homo')} | ${cell('id')} | ${cell('ood')} | ${p('known', 'tunedAccuracy', pct)} | ${p('unknown', 'tunedAccuracy', pct)} | ${p('overall', 'consistency', num)} | ${p('overall', 'kl', num)} |`,
      );
    }
    const s = r.sweep[protocol];
    lines.push('');
    lines.push(
      s
        ? `Mixture sweep: partial Spearman r(C, tuned accuracy | base accuracy) = ${num(s.r)} over ${s.n} points (runs × test sets), p = ${s.p === null ? '—' : num(s.p)}.`
        : 'Mixture sweep: too few points for the partial correlation (needs ≥ 4 runs × test sets).',
    );
  }
  return lines.join('\n') + '\n';
}
