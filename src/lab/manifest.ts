/**
 * What makes a result reproducible (manifest) and readable (Markdown table).
 */
import { decisionWords, orderingWords, type EndpointResult } from './analysis';
import type { Contrast } from './contrasts';
import type { DeviceInfo, ExperimentEnv, ExperimentResult, RunRecord } from './experiment.types';
import { estimateRecord, type EstimateRecord } from './estimate';
import type { Interval } from './metrics';
import { conditionLabel, TEACHING_LABEL } from '../util/condition-names';
import type { TeachingBreakdown } from './teaching';
import { SLICK_CATEGORIES, slickTeachingMarkdown, type SlickSettings } from './slick';
import { unknownShareMarkdown } from './unknown-share';

export type { DeviceInfo } from './experiment.types';

export interface Manifest {
  schema: 'ift-lab/manifest@1';
  name: string;
  /** Confirmatory (run under the plan named here) or exploratory. */
  status: ExperimentResult['status'];
  /** Hash of the parsed configuration (the plan's `configHash` when confirmatory). */
  configHash: string;
  plan: ExperimentResult['plan'];
  startedAt: string;
  finishedAt: string;
  /** `precision`: as configured (auto/f32/f16); `precisionUsed`: what the weights were loaded in, and why. */
  model: {
    id: string;
    revision: string;
    weightsHash: string | null;
    precision: string;
    precisionUsed: string | null;
    precisionReason: string | null;
    chatTemplate?: 'model' | 'vicuna-fallback';
  };
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
    dataSeed: number | 'per-seed';
    dataDraws: string;
    seeds: number[];
    responses: string;
    general: ExperimentResult['config']['general'] | null;
    training: ExperimentResult['config']['training'];
    protocols: string[];
    evaluation: ExperimentResult['config']['evaluation'];
    /** The Unknown-share design (Gekhman et al. 2024), when it replaced the conditions (then `conditions` is empty). */
    unknownShare?: NonNullable<ExperimentResult['config']['unknownShare']>;
  };
  runs: { runId: string; datasetHash: string; seed: number; dataSeed: number; steps: number; underTrained: boolean; fit: number; epochs?: number }[];
}

export function buildManifest(r: ExperimentResult, env: ExperimentEnv): Manifest {
  const c = r.config;
  return {
    schema: 'ift-lab/manifest@1',
    name: r.name,
    status: r.status ?? 'exploratory',
    configHash: r.configHash ?? '',
    plan: r.plan ?? null,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    model: {
      id: c.model.id, revision: c.model.revision, weightsHash: env.weightsHash ?? null,
      precision: c.model.precision ?? 'auto', precisionUsed: env.precision?.used ?? null, precisionReason: env.precision?.reason ?? null,
      ...(env.chatTemplate ? { chatTemplate: env.chatTemplate } : {}),
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
      conditions: c.unknownShare ? [] : [...c.conditions],
      ratios: [...c.ratios],
      size: c.size ?? null,
      dataSeed: c.dataSeed,
      dataDraws: c.dataDraws ?? 'random',
      seeds: [...c.seeds],
      responses: c.responses,
      general: c.general ?? null,
      training: c.training,
      protocols: [...c.protocols],
      evaluation: c.evaluation,
      ...(c.unknownShare ? { unknownShare: c.unknownShare } : {}),
    },
    runs: [
      ...r.runs.map((x) => ({
        runId: x.runId, datasetHash: x.datasetHash, seed: x.seed, dataSeed: x.dataSeed, steps: x.train.steps, underTrained: x.fit.underTrained, fit: x.fit.after,
        ...(x.fit.epochs === undefined ? {} : { epochs: x.fit.epochs }),
      })),
      // Unknown-share runs: "under-trained" has no threshold in that design (the fit per epoch is the finding).
      ...(r.unknownShare?.runs ?? []).map((x) => ({ runId: x.runId, datasetHash: x.datasetHash, seed: x.seed, dataSeed: x.dataSeed, steps: x.train.steps, underTrained: false, fit: x.epochs.at(-1)?.fit.overall ?? 0, epochs: x.epochs.length })),
    ],
  };
}

const pct = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(1) : '—');
const pt = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}` : '—');
const num = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const pval = (p: number) => (!Number.isFinite(p) ? '—' : p < 0.001 ? '< 0.001' : p.toFixed(3));
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
function pooled(run: RunRecord, protocol: string, group: 'overall' | 'known' | 'unknown', key: 'tunedAccuracy' | 'baseAccuracy' | 'consistency' | 'kl'): number {
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

const SET_LABEL = { homo: 'HOMO', id: 'ID', ood: 'OOD' } as const;

/** How close to chance (1 in 4) a protocol's base may be before its known/unknown split is called luck. */
export const CHANCE_MARGIN = 0.05;

/**
 * A warning when a protocol's base model answers at chance (its mean accuracy over the test sets within
 * CHANCE_MARGIN of 1/4): its "known" questions are then mostly lucky guesses, and tuned accuracy on them
 * regresses to the mean, whatever the condition.
 */
export function chanceNote(baseAccuracies: readonly number[]): string | null {
  const xs = baseAccuracies.filter(Number.isFinite);
  if (!xs.length) return null;
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  if (Math.abs(m - 0.25) >= CHANCE_MARGIN) return null;
  return `> ⚠ This protocol's base model answers at chance (${pct(m)} % on average, chance 25 %): its known/unknown split is mostly luck, and tuned accuracy on its "known" questions falls back towards chance whatever the condition (regression to the mean). Read known and unknown in a protocol whose base is above chance.`;
}

/** One contrast in words: "Harmonious beat Incompatible by 8.1 points [3.0, 13.2] on OOD (p = 0.031, 5 seeds)". */
export function contrastSentence(c: Contrast): string {
  const verb = c.holds ? 'beat' : c.reversed ? 'fell below' : 'did not clearly differ from';
  const by = c.holds || c.reversed ? ` by ${Math.abs(100 * c.mean).toFixed(1)} points` : ` (${pt(c.mean)} points)`;
  return `${conditionLabel(c.a)} ${verb} ${conditionLabel(c.b)}${by} [${pt(c.lo)}, ${pt(c.hi)}] on ${SET_LABEL[c.set]} (p = ${pval(c.p)}, ${c.seeds} seed${c.seeds === 1 ? '' : 's'}, ${c.n} questions)`;
}

export function markdownReport(r: ExperimentResult): string {
  const lines: string[] = [];
  const c = r.config;
  lines.push(`# ${r.name}`, '');
  lines.push(...statusLines(r), '');
  lines.push(
    `Model \`${c.model.id}\` (${c.model.revision}); training subjects ${c.subjects.train.join(', ')}; ` +
      `train ${r.splits.counts.train}, HOMO ${r.splits.counts.homo}, ID ${r.splits.counts.id}, OOD ${r.splits.counts.ood} questions.`,
  );
  lines.push(
    `Probe (${c.probe.shots}-shot, ${c.probe.method}, threshold ${c.probe.threshold}): accuracy ${pct(r.probe.accuracy)} %, ` +
      `${r.probe.counts.known} known, ${r.probe.counts.unknown} unknown, ${r.probe.counts.discarded} discarded. ` +
      `${r.unknownShare ? `Unknown-share training sets of ${r.unknownShare.size} items` : `Datasets of ${r.datasets[0]?.size ?? 0} items`} (data ${c.dataSeed === 'per-seed' ? 'redrawn per seed' : `seed ${c.dataSeed} for every seed`}); seeds ${c.seeds.join(', ')}; ` +
      `LoRA r=${c.training.lora.rank}, α=${c.training.lora.alpha} on ${c.training.lora.targets.join(', ')}, lr ${c.training.learningRate} (${c.training.schedule.kind}), ${c.training.epochs} epochs, batch ${c.training.batchSize}.`,
  );
  const bias = r.probe.letterBias;
  if (bias) {
    const share = (xs: readonly number[]) => xs.map((x, i) => `${'ABCD'[i]} ${pct(x)}`).join(', ');
    lines.push('', `Letter position of the base model's beliefs on the probed pool (${bias.scoredBy}): predicted ${share(bias.predicted)}; gold ${share(bias.gold)}.`);
  }
  for (const w of r.probe.warnings) lines.push('', `> ⚠ ${w}`);
  if (r.probe.slick && r.probe.settings.slick) lines.push('', ...slickSection(r.probe.slick, r.probe.settings.slick, r.probe.items.length));
  for (const o of [r.dataOverlap?.known, r.dataOverlap?.unknown]) if (o?.limitation) lines.push('', `> ⚠ Limitation: ${o.limitation}`);
  for (const w of [...new Set(r.datasets.flatMap((d) => d.warnings))]) lines.push('', `> ⚠ ${w}`);
  if (r.underTrained.length) {
    lines.push('', `> ⚠ ${r.underTrained.length} of ${r.runs.length} runs did not fit their training data (fit < 90 % or loss not halved); their numbers say little about the condition:`);
    for (const run of r.runs.filter((x) => x.fit.underTrained)) lines.push(`> - ${run.runId}: ${run.fit.reason}`);
  }
  const f = r.base.formats;
  lines.push(
    '',
    `Untuned base, accuracy in % (HOMO / ID / OOD): ${c.probe.shots}-shot ${(['homo', 'id', 'ood'] as const).map((s) => pct(r.base.kshot.accuracy[s] ?? NaN)).join(' / ')}; ` +
      `chat format ${(['homo', 'id', 'ood'] as const).map((s) => pct(r.base.chat.accuracy[s] ?? NaN)).join(' / ')}. ` +
      `Consistency of its two formats with each other, C = ${(['homo', 'id', 'ood'] as const).map((s) => num(f[s]?.consistency ?? NaN)).join(' / ')}.`,
  );
  // The Unknown-share design trains no Ren conditions: its own section (below) replaces their tables.
  if (!r.unknownShare) {
    if (r.analysis) lines.push('', ...analysisLines(r));
    const untilFit = c.training.untilFit;
    lines.push(
      '',
      '## Training fit',
      '',
      untilFit
        ? `Stop-at-fit arm: every condition trained until it answers at least ${pct(untilFit.threshold)} % of its own items as trained, checked after each epoch (at least 1, at most ${c.training.epochs}); one rule for every condition.`
        : `Fixed epochs: every condition trained ${c.training.epochs} epochs.`,
      '',
      `| condition | fit before | fit after | loss, first → last epoch | under-trained |${untilFit ? ' epochs (per seed) |' : ''}`,
      `|---|---|---|---|---|${untilFit ? '---|' : ''}`,
    );
    for (const cond of [...new Set(r.runs.map((x) => x.condition))]) {
      const runs = r.runs.filter((x) => x.condition === cond);
      const first = mean(runs.map((x) => x.fit.lossPerEpoch[0] ?? NaN));
      const last = mean(runs.map((x) => x.fit.lossPerEpoch.at(-1) ?? NaN));
      const under = runs.filter((x) => x.fit.underTrained).length;
      const epochs = untilFit ? ` ${runs.map((x) => x.fit.epochs ?? '—').join(', ')} |` : '';
      lines.push(`| ${cond} | ${pct(mean(runs.map((x) => x.fit.before)))} | ${pct(mean(runs.map((x) => x.fit.after)))} | ${num(first)} → ${num(last)} | ${under ? `${under} of ${runs.length}` : 'no'} |${epochs}`);
    }
    for (const protocol of Object.keys(r.baseAccuracy)) {
      lines.push('', `## Protocol: ${protocol}`, '');
      lines.push(
        'Accuracy in % (mean over seeds [mean 95 % bootstrap bounds over questions] ±sd over seeds). Known/unknown: tuned accuracy on test questions the base model answers right/wrong in this protocol\'s base format, pooled over HOMO, ID and OOD; C and KL against this protocol\'s base, pooled likewise.',
        '',
      );
      const base = r.baseAccuracy[protocol] ?? {};
      const note = chanceNote(Object.values(base));
      if (note) lines.push(note, '');
      lines.push('| condition | HOMO | ID | OOD | known | unknown | C | KL |', '|---|---|---|---|---|---|---|---|');
      const anyRun = r.runs.find((x) => x.evals[protocol]);
      const baseGroup = (g: 'known' | 'unknown') => (anyRun ? pct(pooled(anyRun, protocol, g, 'baseAccuracy')) : '—');
      lines.push(`| base (untuned) | ${pct(base.homo ?? NaN)} | ${pct(base.id ?? NaN)} | ${pct(base.ood ?? NaN)} | ${baseGroup('known')} | ${baseGroup('unknown')} | — | — |`);
      for (const cond of [...new Set(r.runs.map((x) => x.condition))]) {
        const runs = r.runs.filter((x) => x.condition === cond && x.evals[protocol]);
        if (!runs.length) continue;
        const cell = (set: 'homo' | 'id' | 'ood') => {
          const ivs = runs.map((x) => x.evals[protocol].sets[set]?.overall.tunedAccuracy).filter((x): x is Interval => !!x);
          return ivs.length ? acrossSeeds(ivs, pct) : '—';
        };
        const p = (group: 'known' | 'unknown' | 'overall', key: 'tunedAccuracy' | 'consistency' | 'kl', fmt: (x: number) => string) =>
          fmt(mean(runs.map((x) => pooled(x, protocol, group, key))));
        const mark = runs.some((x) => x.fit.underTrained) ? ' ⚠' : '';
        lines.push(
          `| ${cond}${mark} | ${cell('homo')} | ${cell('id')} | ${cell('ood')} | ${p('known', 'tunedAccuracy', pct)} | ${p('unknown', 'tunedAccuracy', pct)} | ${p('overall', 'consistency', num)} | ${p('overall', 'kl', num)} |`,
        );
      }
      const cs = r.contrasts.filter((x) => x.protocol === protocol);
      if (cs.length) {
        lines.push('', `### Paired contrasts (${protocol})`, '');
        lines.push(
          `Descriptive (no decision is made here; see "Decisions" above): a − b in tuned accuracy, points: mean over seeds [95 % paired bootstrap over questions and seeds, ${samplesText(cs)}], sign-flip p across seeds (uncorrected; with ${cs[0].seeds} seeds it cannot go below ${pval(2 / 2 ** cs[0].seeds)}).`,
          '',
          '| a − b | set | overall | known | unknown |',
          '|---|---|---|---|---|',
        );
        const keys = [...new Set(cs.map((x) => `${x.a}\u0000${x.b}\u0000${x.set}`))];
        for (const k of keys) {
          const [a, b, set] = k.split('\u0000');
          const cell = (g: string) => {
            const x = cs.find((y) => y.a === a && y.b === b && y.set === set && y.group === g);
            return x ? `${pt(x.mean)} [${pt(x.lo)}, ${pt(x.hi)}] p ${pval(x.p)}` : '—';
          };
          lines.push(`| ${conditionLabel(a)} − ${conditionLabel(b)} | ${SET_LABEL[set as 'homo']} | ${cell('overall')} | ${cell('known')} | ${cell('unknown')} |`);
        }
        const headline = cs.filter((x) => x.group === 'overall' && x.b !== 'base-chat');
        if (headline.length) {
          lines.push('');
          for (const x of headline) lines.push(`- ${contrastSentence(x)}.`);
          lines.push('', '(Interval words are descriptive: an interval that excludes 0 on one of many contrasts is not a finding.)');
        }
      }
      const s = r.sweep[protocol];
      lines.push('');
      if (!s) lines.push('Mixture sweep: none in this grid.');
      else if (s.status !== 'ok') lines.push(`Mixture sweep: not enough ratios for the partial correlation (${s.ratios} distinct, needs ${s.needed}).`);
      else if (s.unit === 'run')
        lines.push(
          `Mixture sweep: partial Spearman r(C, tuned accuracy | base accuracy) = ${num(s.r)} over ${s.n} points (${s.runs} runs × test sets, ${s.ratios} ratios); the run is the unit: p ${s.p === null ? '= —' : s.p < 0.001 ? `= ${s.p.toExponential(1)}${s.exact ? '' : ' (the smallest these permutations can give)'}` : `= ${num(s.p)}`} from ${s.exact ? 'all' : ''} ${s.permutations.toLocaleString('en-US')} ${s.exact ? '' : 'random '}permutations of whole runs (each run's test sets kept together).`.replace(/ {2,}/g, ' '),
        );
      else lines.push(`Mixture sweep: partial Spearman r(C, tuned accuracy | base accuracy) = ${num(s.r)} over ${s.n} points (${s.ratios} ratios × seeds × test sets), p = ${s.p === null ? '—' : num(s.p)} (Student's t over the points, as if runs × test sets were independent: pseudo-replication; a result from before the run was the unit).`);
      const cc = (r.consistency ?? []).filter((x) => x.protocol === protocol);
      if (cc.length) {
        lines.push('', `### Consistency C, paired (${protocol}; descriptive)`, '', 'An ordering is stated only where the paired interval of the C difference (per-question C, HOMO, ID and OOD pooled, seeds and questions resampled) excludes 0; every seed\'s difference is shown.', '');
        for (const w of orderingWords(cc, conditionLabel)) lines.push(`- ${w}`);
      }
    }
  }
  if (r.teaching) lines.push('', ...teachingSection(r.teaching));
  if (r.unknownShare) lines.push('', ...unknownShareMarkdown(r.unknownShare));
  return lines.join('\n') + '\n';
}

/** SliCK categories (docs/slick.md): the counts, and on the toy world category × teaching group. */
function slickSection(sl: NonNullable<ExperimentResult['probe']['slick']>, st: SlickSettings, n: number): string[] {
  const out = [
    '## Knowledge categories (SliCK, Gekhman et al. 2024)',
    '',
    `${st.prompts} exemplar sets per question; greedy right under every prompt = highlyKnown, under some = maybeKnown; never, but at least one of ${st.samples} draws per prompt at T = ${st.temperature} right with chance ≥ ${st.threshold} = weaklyKnown; else unknown. ` +
      `Of ${n} probed questions: ${SLICK_CATEGORIES.map((c) => `${sl.counts[c]} ${c}`).join(', ')}.`,
  ];
  if (sl.byTeaching) {
    out.push('', 'Category × teaching group (how pretraining taught each fact; count, and share of the group):', '', slickTeachingMarkdown(sl.byTeaching));
    const t = sl.byTeaching;
    const of = (g: string, cats: readonly (typeof SLICK_CATEGORIES)[number][]) => cats.reduce((a, c) => a + t.counts[g][c], 0);
    if (t.totals.misconception) {
      const k = of('misconception', ['weaklyKnown', 'unknown']);
      out.push('', `Of ${t.totals.misconception} facts taught wrongly, ${k} (${pct(k / t.totals.misconception)} %) are weaklyKnown or unknown, as if never taught: scored against gold, a held misconception looks like ignorance.`);
    }
    if (t.totals.none) {
      const k = of('none', ['highlyKnown', 'maybeKnown']);
      out.push('', `Of ${t.totals.none} facts never taught, ${k} (${pct(k / t.totals.none)} %) are highlyKnown or maybeKnown: right answers by luck or letter habit under some prompts.`);
    }
  }
  return out;
}

/** The teaching-group breakdown as the report prints it: accuracy per group, then the paired contrasts per group. */
function teachingSection(t: TeachingBreakdown): string[] {
  const groups = Object.keys(t.accuracy);
  const models = [...new Set(groups.flatMap((g) => Object.keys(t.accuracy[g])))];
  const n = (g: string) => (['homo', 'id', 'ood'] as const).reduce((a, set) => a + (t.counts[g]?.[set] ?? 0), 0);
  const label = (g: string) => `${TEACHING_LABEL[g] ?? g} (${n(g)})`;
  const out = [
    '## By teaching group (how pretraining taught each fact; HOMO, ID and OOD pooled)',
    '',
    'Descriptive: no decision is made per group.',
    '',
    `| model | ${groups.map(label).join(' | ')} |`,
    `|---|${groups.map(() => '---|').join('')}`,
  ];
  for (const m of models) out.push(`| ${m.startsWith('base') ? m : conditionLabel(m)} | ${groups.map((g) => (t.accuracy[g][m] === undefined ? '—' : pct(t.accuracy[g][m]))).join(' | ')} |`);
  const pairs = [...new Set(t.contrasts.map((c) => `${c.a}\u0000${c.b}`))];
  if (pairs.length) {
    out.push('', `| a − b | ${groups.map(label).join(' | ')} |`, `|---|${groups.map(() => '---|').join('')}`);
    for (const k of pairs) {
      const [a, b] = k.split('\u0000');
      const cell = (g: string) => {
        const x = t.contrasts.find((c) => c.a === a && c.b === b && c.teaching === g);
        return x ? `${pt(x.mean)} [${pt(x.lo)}, ${pt(x.hi)}] p ${pval(x.p)}` : '—';
      };
      out.push(`| ${conditionLabel(a)} − ${conditionLabel(b)} | ${groups.map(cell).join(' | ')} |`);
    }
  }
  return out;
}

/** How many resamples the intervals drew (the adaptive bootstrap may draw more than the configured number). */
function samplesText(cs: readonly { samples?: number; mcLo?: number; mcHi?: number }[]): string {
  const ns = cs.map((x) => x.samples).filter((x): x is number => x !== undefined);
  if (!ns.length) return 'resamples not recorded';
  const lo = Math.min(...ns);
  const hi = Math.max(...ns);
  const mc = Math.max(...cs.map((x) => Math.max(x.mcLo ?? 0, x.mcHi ?? 0)));
  return `${lo === hi ? lo.toLocaleString('en-US') : `${lo.toLocaleString('en-US')}–${hi.toLocaleString('en-US')}`} resamples, largest Monte Carlo error of an end ${(100 * mc).toFixed(2)} points`;
}

/** The first lines of a report: confirmatory or exploratory, and what that allows. */
export function statusLines(r: Pick<ExperimentResult, 'status' | 'plan' | 'config'>): string[] {
  const seeds = r.config.seeds.length;
  if (r.status === 'confirmatory' && r.plan) {
    return [
      `**Status: confirmatory** — run under the pre-registered plan \`${r.plan.hash.slice(0, 12)}\` (frozen ${r.plan.createdAt}; configuration \`${r.plan.configHash.slice(0, 12)}\`, ${r.plan.arm === 'fit' ? 'its stop-at-fit sensitivity arm' : 'its main arm'}); ${seeds} seeds. Only the plan's endpoints below are decided.`,
    ];
  }
  return [
    `**Status: exploratory** — no pre-registered plan; ${seeds} seed${seeds === 1 ? '' : 's'}. Nothing here is a confirmed finding: decisions below are previews of what a plan would test.`,
  ];
}

/** The plan's endpoints: the primary decided by the sign-flip test at α, the secondary family Holm-corrected. */
function analysisLines(r: ExperimentResult): string[] {
  const a = r.analysis;
  const row = (e: EndpointResult) => {
    const measure = e.spec.measure === 'accuracy' ? 'points' : 'C';
    const f = e.spec.measure === 'accuracy' ? pt : (x: number) => (Number.isFinite(x) ? `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}` : '—');
    const mc = e.mcLo === undefined ? '' : ` (MC error ±${e.spec.measure === 'accuracy' ? (100 * Math.max(e.mcLo, e.mcHi ?? 0)).toFixed(2) : Math.max(e.mcLo, e.mcHi ?? 0).toFixed(4)})`;
    const per = e.perSeed ? e.perSeed.map(f).join(', ') : '—';
    const set = e.spec.set === 'pooled' ? 'HOMO+ID+OOD' : SET_LABEL[e.spec.set];
    return `| ${e.role} | ${e.spec.id} (${measure}, ${set}, ${e.spec.protocol}) | ${e.mean === undefined ? '—' : `${f(e.mean)} [${f(e.lo!)}, ${f(e.hi!)}]${mc}`} | ${per} | ${e.p === undefined ? '—' : pval(e.p)} | ${decisionWords(e, a.alpha, a.status)} |`;
  };
  return [
    `## Decisions (${a.status})`,
    '',
    `${a.rule} With ${a.seeds} seed${a.seeds === 1 ? '' : 's'} the smallest possible p is ${pval(a.seeds ? Math.min(1, 2 / 2 ** a.seeds) : NaN)}; α = ${a.alpha} needs at least ${a.seedsNeeded}.`,
    '',
    '| role | endpoint | a − b [95 % interval] | per seed | p | decision |',
    '|---|---|---|---|---|---|',
    row(a.primary),
    ...a.secondary.map(row),
  ];
}
