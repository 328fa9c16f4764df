#!/usr/bin/env node
// The toy world's protocol sweep: runs `ift-lab experiment` for a base configuration under each setting of a
// small grid (learning rate, epochs, LoRA targets, rank) and tabulates what decides a default — every
// condition's training fit and the paired Harmonious − Incompatible contrast with its interval, per test set.
//
//   npm run build:node
//   node tools/toyworld/sweep.mjs examples/toy-world-quick.json --out docs/results/toy-sweep \
//       --lr 1e-3,3e-3 --epochs 5,10 [--targets q,v] [--rank 8] [--seeds 1,2,3]
//
// Writes <out>/<setting>/ (the experiment's own outputs) and <out>/sweep.json + sweep.md (the table).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: 'string', default: 'docs/results/toy-sweep' },
    lr: { type: 'string' },
    epochs: { type: 'string' },
    targets: { type: 'string' },
    rank: { type: 'string' },
    seeds: { type: 'string' },
    method: { type: 'string' },
  },
});
if (positionals.length !== 1) {
  console.error('usage: node tools/toyworld/sweep.mjs <base config.json> [--lr a,b] [--epochs a,b] [--targets q,v|q,v,o] [--rank a,b] [--seeds 1,2,3] [--method letter|debiased] [--out dir]');
  process.exit(2);
}
const base = JSON.parse(readFileSync(positionals[0], 'utf8'));
const list = (s) => (s ? s.split(',').map(Number) : null);
const axes = {
  lr: list(values.lr) ?? [base.training.learningRate],
  epochs: list(values.epochs) ?? [base.training.epochs],
  targets: values.targets ? values.targets.split(';').map((t) => t.split(',')) : [base.training.lora.targets],
  rank: list(values.rank) ?? [base.training.lora.rank],
};
const seeds = list(values.seeds) ?? base.seeds;
const rows = [];
for (const lr of axes.lr)
  for (const epochs of axes.epochs)
    for (const targets of axes.targets)
      for (const rank of axes.rank) {
        const tag = `lr${lr}-e${epochs}-${targets.join('')}-r${rank}`;
        const dir = path.join(values.out, tag);
        mkdirSync(dir, { recursive: true });
        const config = {
          ...base,
          name: `${base.name}-${tag}`,
          seeds,
          ...(values.method ? { probe: { ...base.probe, method: values.method } } : {}),
          training: { ...base.training, learningRate: lr, epochs, lora: { ...base.training.lora, targets, rank, alpha: 2 * rank } },
        };
        writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
        const t0 = Date.now();
        const r = spawnSync(process.execPath, ['bin/ift-lab.mjs', 'experiment', path.join(dir, 'config.json'), '--out', dir, '--fresh'], { stdio: ['ignore', 'ignore', 'inherit'] });
        const seconds = (Date.now() - t0) / 1000;
        if (r.status !== 0) {
          rows.push({ tag, lr, epochs, targets, rank, seconds, error: `exit ${r.status}` });
          continue;
        }
        const res = JSON.parse(readFileSync(path.join(dir, 'result.json'), 'utf8'));
        const fit = {};
        for (const run of res.runs) (fit[run.condition] ??= []).push(run.fit.after);
        const hi = Object.fromEntries(
          ['homo', 'id', 'ood'].map((set) => {
            const c = res.contrasts.find((x) => x.a === 'harmonious' && x.b === 'incompatible' && x.set === set && x.protocol === 'like-for-like' && x.group === 'overall');
            return [set, c ? { mean: c.mean, lo: c.lo, hi: c.hi, holds: c.holds } : null];
          }),
        );
        rows.push({
          tag, lr, epochs, targets, rank, seconds,
          fit: Object.fromEntries(Object.entries(fit).map(([k, v]) => [k, Math.min(...v)])),
          underTrained: res.underTrained.length,
          hMinusI: hi,
        });
        writeFileSync(path.join(values.out, 'sweep.json'), JSON.stringify({ base: positionals[0], seeds, rows }, null, 1));
      }

const pt = (x) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}`;
const md = [
  `# Toy-world protocol sweep (base ${positionals[0]}, seeds ${seeds.join(', ')})`,
  '',
  'Fit: the lowest share of its own training items any run of a condition answers as trained. H − I: Harmonious − Incompatible tuned accuracy, like-for-like protocol, points, mean over seeds [95 % paired bootstrap]; ✓ holds.',
  '',
  '| setting | seconds | fit (min over runs) | under-trained runs | H − I HOMO | ID | OOD |',
  '|---|---|---|---|---|---|---|',
  ...rows.map((r) =>
    r.error
      ? `| ${r.tag} | ${r.seconds.toFixed(0)} | ${r.error} | | | | |`
      : `| ${r.tag} | ${r.seconds.toFixed(0)} | ${Object.entries(r.fit).map(([k, v]) => `${k} ${(100 * v).toFixed(0)} %`).join(', ')} | ${r.underTrained} | ${['homo', 'id', 'ood'].map((s) => (r.hMinusI[s] ? `${pt(r.hMinusI[s].mean)} [${pt(r.hMinusI[s].lo)}, ${pt(r.hMinusI[s].hi)}]${r.hMinusI[s].holds ? ' ✓' : ''}` : '—')).join(' | ')} |`,
  ),
];
writeFileSync(path.join(values.out, 'sweep.md'), md.join('\n') + '\n');
console.log(md.join('\n'));
