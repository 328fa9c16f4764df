#!/usr/bin/env node
// The paper's directions, checked on `ift-lab experiment` results:
//   node tools/report/directions.mjs result.json [more-seeds.json …] [protocol]
// Several files (the same experiment run with other seeds) are pooled: their probe, splits and base model
// must agree. Prints Markdown: per condition the mean over seeds (and the seeds' range) of tuned accuracy
// overall, on known and on unknown test questions, and consistency C; then each headline contrast and
// whether it holds; then each file's partial correlation of C with accuracy (computed per run grid).
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const files = args.filter((a) => a.endsWith('.json'));
const protocol = args.find((a) => !a.endsWith('.json')) ?? 'paper';
if (files.length === 0) {
  console.error('usage: node tools/report/directions.mjs result.json [more-seeds.json …] [protocol]');
  process.exit(2);
}
const results = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
const same = (get, what) => {
  const first = JSON.stringify(get(results[0]));
  const off = results.findIndex((x) => JSON.stringify(get(x)) !== first);
  if (off >= 0) {
    console.error(`${files[off]} differs from ${files[0]} in ${what}: these are not the same experiment`);
    process.exit(2);
  }
};
same((x) => x.splits, 'its splits');
same((x) => x.probe?.counts ?? x.probe?.summary ?? null, 'its probe');
same((x) => x.baseAccuracy, 'its base accuracy');
const seeds = results.flatMap((x) => x.runs.map((run) => `${run.condition}|${run.ratio ?? ''}|${run.seed}`));
if (new Set(seeds).size !== seeds.length) {
  console.error('the files repeat a (condition, seed) run: pool files with different seeds');
  process.exit(2);
}
const r = { ...results[0], runs: results.flatMap((x) => x.runs) };
const SETS = ['homo', 'id', 'ood'];
const pct = (x) => (x * 100).toFixed(1);
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

const byCondition = new Map();
for (const run of r.runs) {
  const key = run.kind === 'mixture' ? `mixture r=${run.ratio}` : run.condition;
  if (!byCondition.has(key)) byCondition.set(key, []);
  byCondition.get(key).push(run);
}
const metric = (runs, set, group, m) => runs.map((run) => run.evals[protocol]?.sets[set]?.[group]?.[m]?.value).filter((v) => v !== undefined);
const cell = (xs, f = pct) => (xs.length ? `${f(mean(xs))}${xs.length > 1 ? ` (${f(Math.min(...xs))}–${f(Math.max(...xs))})` : ''}` : '–');

const out = [];
out.push(`Protocol: ${protocol}. Seeds per condition: ${[...byCondition.values()].map((v) => v.length).join('/')}. Accuracy in %; brackets: the range over seeds.`, '');
const base = r.baseAccuracy[protocol] ?? {};
out.push(`Base model: HOMO ${pct(base.homo ?? NaN)} %, ID ${pct(base.id ?? NaN)} %, OOD ${pct(base.ood ?? NaN)} %.`, '');
for (const set of SETS) {
  out.push(`**${set.toUpperCase()}**`, '', '| condition | accuracy | on known | on unknown | C (overall) | KL |', '|---|---|---|---|---|---|');
  for (const [name, runs] of byCondition) {
    out.push(`| ${name} | ${cell(metric(runs, set, 'overall', 'tunedAccuracy'))} | ${cell(metric(runs, set, 'known', 'tunedAccuracy'))} | ${cell(metric(runs, set, 'unknown', 'tunedAccuracy'))} | ${cell(metric(runs, set, 'overall', 'consistency'), (x) => x.toFixed(3))} | ${cell(metric(runs, set, 'overall', 'kl'), (x) => x.toFixed(3))} |`);
  }
  out.push('');
}
const acc = (name, set) => {
  const runs = byCondition.get(name);
  return runs ? mean(metric(runs, set, 'overall', 'tunedAccuracy')) : NaN;
};
const contrast = (a, b, paper) => {
  const d = SETS.map((s) => (acc(a, s) - acc(b, s)) * 100);
  const holds = d.map((x) => (Number.isNaN(x) ? '–' : x > 0 ? 'yes' : 'no'));
  return `| ${a} − ${b} | ${d.map((x) => x.toFixed(1)).join(' / ')} | ${holds.join(' / ')} | ${paper} |`;
};
out.push('**Headline contrasts** (percentage points, HOMO / ID / OOD)', '', '| contrast | here | holds | paper (LLaMA-2, Mistral) |', '|---|---|---|---|');
out.push(contrast('harmonious', 'incompatible', '+11.3 / +14.6 / +14.6'));
out.push(contrast('selfAligning', 'incompatible', '+5.3 / +9.8 / +7.0'));
if (byCondition.has('randomWrong')) out.push(contrast('selfAligning', 'randomWrong', 'not in the paper'));
for (const name of byCondition.keys()) if (name.startsWith('mixture')) out.push(contrast(name, 'incompatible', 'an intermediate r usually wins'));
out.push('');
results.forEach((x, i) => {
  const sweep = x.sweep?.[protocol];
  const from = files.length > 1 ? `${files[i]}: ` : '';
  out.push(sweep ? `${from}Partial Spearman of C with tuned accuracy, controlling for base accuracy: r = ${sweep.r?.toFixed(3)}, p = ${sweep.p?.toFixed(3)}, n = ${sweep.n} (paper: 0.78–0.87).` : `${from}No mixture sweep: no partial correlation.`);
});
console.log(out.join('\n'));
