import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CancelledError, ConfigError } from '../../../src/lab/errors';
import { experimentFingerprint, MemoryProgressStore, parseExperimentConfig, planGrid, runExperiment, type ExperimentEvent, type ExperimentOutput } from '../../../src/lab/experiment';
import { exportRecipe } from '../../../src/lab/recipe';
import { configHash, fitArmConfig, makePlan, parsePlan, planHash, PlanMismatchError, type Plan } from '../../../src/lab/plan';
import { MemoryCheckpointSink } from '../../../src/lab/train';
import type { BowModel } from '../../helpers/bow-model';
import { repoRoot } from '../../helpers/paths';
import { pretrainedModel, TINY_EXPERIMENT, tinyWorld } from '../../helpers/tiny-world';

const config = {
  name: 'tiny',
  ...TINY_EXPERIMENT,
  conditions: ['harmonious', 'incompatible', 'selfAligning', 'randomWrong', 'mixture'],
  ratios: [0, 0.5, 1],
  seeds: [1, 2],
  training: { lora: { rank: 4, alpha: 8, targets: ['q', 'v'] }, learningRate: 0.05, epochs: 2, batchSize: 8, schedule: { kind: 'constant', warmupFraction: 0 } },
  evaluation: { bootstrapSamples: 50 },
};

describe('experiment configuration', () => {
  it('fills defaults from the paper', () => {
    const c = parseExperimentConfig(config);
    expect(c.model.revision).toBe('main');
    expect(c.probe.method).toBe('letter');
    expect(c.training.betas).toEqual([0.9, 0.999]);
    expect(c.protocols).toEqual(['paper', 'like-for-like']);
    expect(c.responses).toBe('letter');
    const d = parseExperimentConfig({ ...config, ratios: undefined, training: { ...config.training, schedule: undefined } });
    expect(d.ratios).toEqual([0, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(d.training.schedule).toEqual({ kind: 'cosine', warmupFraction: 0.03 });
  });

  it('lists every problem with its path, unknown keys included', () => {
    try {
      parseExperimentConfig({ ...config, seeds: [1, 1], ratios: [0.5, 2], typo: true, training: { ...config.training, lora: { ...config.training.lora, rank: 0 } } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const issues = (e as ConfigError).issues.join('\n');
      expect(issues).toMatch(/^ratios\.1: /m);
      expect(issues).toMatch(/^training\.lora\.rank: /m);
      expect(issues).toMatch(/typo/);
    }
    expect(() => parseExperimentConfig({ ...config, seeds: [3, 3] })).toThrow(/a seed appears twice/);
    // The toy world's options were never read: now an error naming them, not silence.
    expect(() => parseExperimentConfig({ ...config, questions: { kind: 'toyworld', seed: 5, options: { entities: 9, typo: 1 } } })).toThrow(/questions\.options: "entities", "typo" would be ignored/);
    expect(() => parseExperimentConfig({ ...config, questions: { kind: 'web', url: 'x' } })).toThrow(/questions/);
  });

  it('plans conditions × ratios × seeds', () => {
    const g = planGrid(parseExperimentConfig(config));
    expect(g).toHaveLength((4 + 3) * 2);
    expect(g.map((r) => r.runId).slice(0, 3)).toEqual(['harmonious-s1', 'harmonious-s2', 'incompatible-s1']);
    expect(g.filter((r) => r.kind === 'mixture').map((r) => r.ratio)).toEqual([0, 0, 0.5, 0.5, 1, 1]);
  });

  it('the example configs are valid', () => {
    const dir = path.join(repoRoot, 'examples');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const f of files) expect(() => parseExperimentConfig(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))), f).not.toThrow();
  });
});

describe('runExperiment (bag-of-words model, tiny world)', () => {
  const { questions, dev } = tinyWorld(5, 24);
  let model: BowModel;
  let out: ExperimentOutput;
  const events: ExperimentEvent[] = [];
  const sink = new MemoryCheckpointSink();

  beforeAll(async () => {
    model = await pretrainedModel(questions, dev, questions.filter((_, i) => i % 2 === 0));
    let t = Date.UTC(2026, 0, 1);
    out = await runExperiment(config, {
      model,
      bank: { pool: questions, fewShot: dev },
      sink,
      onEvent: (e) => events.push(e),
      env: { engineVersion: 'test', weightsHash: 'abc123', device: { vendor: 'cpu', f16: false }, now: () => new Date((t += 1000)) },
    });
  }, 120_000);

  it('runs the whole grid and records every run under both protocols', () => {
    const r = out.result;
    expect(r.runs).toHaveLength(14);
    for (const run of r.runs) {
      expect(Object.keys(run.evals)).toEqual(['paper', 'like-for-like']);
      for (const set of ['homo', 'id', 'ood'] as const) {
        const s = run.evals.paper.sets[set]!;
        expect(s.overall.n).toBe(r.splits.counts[set]);
        expect(s.known.n + s.unknown.n).toBe(s.overall.n);
      }
      expect(run.train.steps).toBeGreaterThan(0);
    }
    expect(model.loadedAdapters).toBe(0);
    expect(sink.saved.size).toBe(14);
    expect(r.datasets.every((d) => d.size === r.datasets[0].size)).toBe(true);
    expect(new Set(r.datasets.map((d) => d.hash)).size).toBe(r.datasets.length);
    expect(events.filter((e) => e.type === 'run-done')).toHaveLength(14);
    expect(events.find((e) => e.type === 'probe')).toBeTruthy();
  });

  it('computes the partial correlation across the mixture sweep (incompatible = r 0, self-aligning = r 1)', () => {
    const s = out.result.sweep.paper!;
    if (s.status !== 'ok') throw new Error('expected a sweep');
    // Ratios 0, 0.5, 1 as mixtures, plus Incompatible (r 0) and Self-aligning (r 1): 5 runs × 2 seeds × 3 test sets.
    expect(s.points).toHaveLength(30);
    expect(s.ratios).toBe(3);
    expect(s.r).toBeGreaterThanOrEqual(-1);
    expect(s.r).toBeLessThanOrEqual(1);
    expect(s.n).toBe(30);
    // The run is the unit: 10 runs, each run's 3 test sets permuted together (Monte Carlo beyond 8 runs).
    expect(s.unit).toBe('run');
    expect(s.runs).toBe(10);
    expect(s.exact).toBe(false);
    expect(s.permutations).toBe(10_000);
    expect(s.p).toBeGreaterThan(0);
  });

  it('is exploratory without a plan; its endpoints are measured but 2 seeds cannot reach α', () => {
    const r = out.result;
    expect(r.status).toBe('exploratory');
    expect(r.plan).toBeNull();
    expect(r.configHash).toMatch(/^[0-9a-f]{64}$/);
    expect(out.manifest.status).toBe('exploratory');
    expect(out.manifest.configHash).toBe(r.configHash);
    expect(r.analysis.primary.spec.id).toBe('H − I');
    expect(r.analysis.primary.seeds).toBe(2);
    expect(r.analysis.primary.decision).toBe('cannot reach α');
    // The pooled primary's mean is the size-weighted mean of the per-set contrasts.
    const per = (['homo', 'id', 'ood'] as const).map((set) => r.contrasts.find((c) => c.a === 'harmonious' && c.b === 'incompatible' && c.set === set && c.protocol === 'paper' && c.group === 'overall')!);
    const pooled = per.reduce((a, c) => a + c.mean * c.n, 0) / per.reduce((a, c) => a + c.n, 0);
    expect(r.analysis.primary.mean).toBeCloseTo(pooled, 12);
    expect(r.analysis.secondary.map((e) => e.spec.id)).toEqual(['S − I', 'S − R', 'H − I (HOMO)', 'H − I (ID)', 'H − I (OOD)', 'C: S − I']);
    expect(r.consistency.some((c) => c.a === 'harmonious' && c.b === 'incompatible' && c.perSeed.length === 2)).toBe(true);
    expect(r.dataOverlap.unknown!.seeds).toBe(2);
    expect(r.dataOverlap.unknown!.meanPairwise).toBeCloseTo(r.dataOverlap.unknown!.floor, 12);
    expect(out.markdown.split('\n')[2]).toMatch(/^\*\*Status: exploratory\*\*/);
    expect(out.markdown).toMatch(/cannot reach α = 0.05 with 2 seeds/);
    expect(out.markdown).not.toMatch(/✓/);
  });

  it('redraws the data per seed and pairs every contrast over seeds', () => {
    const r = out.result;
    expect(r.config.dataSeed).toBe('per-seed');
    const h = r.datasets.filter((d) => d.name === 'randomWrong');
    expect(h.map((d) => d.dataSeed)).toEqual([1, 2]);
    expect(h[0].hash).not.toBe(h[1].hash);
    for (const run of r.runs) expect(run.datasetHash).toBe(r.datasets.find((d) => d.name === run.condition && d.dataSeed === run.seed)!.hash);
    const hi = r.contrasts.find((c) => c.a === 'harmonious' && c.b === 'incompatible' && c.set === 'ood' && c.protocol === 'paper' && c.group === 'overall')!;
    expect(hi.seeds).toBe(2);
    expect(hi.n).toBe(r.splits.counts.ood);
    // The contrast's mean is the difference of the two conditions' mean tuned accuracies.
    const acc = (cond: string) => r.runs.filter((x) => x.condition === cond).map((x) => x.evals.paper.sets.ood!.overall.tunedAccuracy.value);
    const m = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(hi.mean).toBeCloseTo(m(acc('harmonious')) - m(acc('incompatible')), 12);
    expect(hi.holds).toBe(hi.lo > 0);
    expect(hi.p).toBeGreaterThan(0);
    // Every condition against the untuned base in the tuned format, and each mixture against Incompatible.
    expect(r.contrasts.some((c) => c.a === 'selfAligning' && c.b === 'base-chat')).toBe(true);
    expect(r.contrasts.some((c) => c.a === 'mixture-0.5' && c.b === 'incompatible')).toBe(true);
    expect(r.contrasts.some((c) => c.a === 'selfAligning' && c.b === 'randomWrong')).toBe(true);
  });

  it('measures every run\'s fit and the base in both formats (no constants)', () => {
    const r = out.result;
    for (const run of r.runs) {
      expect(run.fit.n).toBe(r.datasets.find((d) => d.name === run.condition && d.dataSeed === run.seed)!.size);
      expect(run.fit.after).toBeGreaterThanOrEqual(0);
      expect(run.fit.lossPerEpoch).toHaveLength(2);
      expect(run.fit.underTrained).toBe(run.fit.after < 0.9 || run.fit.lossPerEpoch[1] > run.fit.lossPerEpoch[0] / 2);
    }
    expect(r.underTrained).toEqual(r.runs.filter((x) => x.fit.underTrained).map((x) => x.runId));
    expect(Object.keys(r.base.formats)).toEqual(['homo', 'id', 'ood']);
    expect(r.base.formats.ood!.consistency).toBeGreaterThanOrEqual(-1);
    expect(r.baseAccuracy['like-for-like'].ood).toBe(r.base.chat.accuracy.ood);
    expect(r.baseAccuracy.paper.ood).toBe(r.base.kshot.accuracy.ood);
    expect(out.markdown).not.toMatch(/\| 1\.000 \| 0\.000 \|/);
  });

  it('writes a manifest with hashes, hyper-parameters and environment', () => {
    const m = out.manifest;
    expect(m.model).toEqual({ id: 'test:bow-tiny', revision: 'main', weightsHash: 'abc123', precision: 'auto', precisionUsed: null, precisionReason: null });
    expect(m.engineVersion).toBe('test');
    expect(m.device).toEqual({ vendor: 'cpu', f16: false });
    expect(m.datasets.map((d) => d.hash)).toEqual(out.datasets.map((d) => d.hash));
    expect(m.hyperparameters.training.learningRate).toBe(0.05);
    expect(m.hyperparameters.seeds).toEqual([1, 2]);
    expect(m.startedAt < m.finishedAt).toBe(true);
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
  });

  it('exports a PEFT/accelerate recipe with the same data and hyper-parameters (more in recipe.test.ts)', () => {
    const files = exportRecipe({ config: out.result.config, datasets: out.datasets, tests: { homo: out.splits.homo, id: out.splits.id, ood: out.splits.ood }, fewShot: dev });
    expect(Object.keys(files).sort()).toEqual(
      [
        'README.md',
        'accelerate-ddp.yaml',
        'accelerate-fsdp.yaml',
        'config.json',
        'fewshot.jsonl',
        'labmath.py',
        'requirements.txt',
        'train.py',
        'tests/homo.jsonl',
        'tests/id.jsonl',
        'tests/ood.jsonl',
        ...out.datasets.map((d) => `datasets/${d.name}-d${d.dataSeed}.jsonl`),
      ].sort(),
    );
    const rows = files['datasets/harmonious-d1.jsonl'].trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toHaveLength(out.datasets[0].conversations.length);
    expect(rows[0].prompt[0].role).toBe('user');
    expect(rows[0].completion).toEqual([{ role: 'assistant', content: expect.stringMatching(/^[ABCD]$/) }]);
    const cfg = JSON.parse(files['config.json']);
    expect(cfg.training.learningRate).toBe(0.05);
    expect(cfg.training.lora.targetModules).toEqual(['q_proj', 'v_proj']);
    expect(cfg.protocols[0]).toEqual({ name: 'paper', base: { kind: 'kshot', shots: 2 }, tuned: { kind: 'chat', shots: 0 } });
    expect(cfg.runs).toHaveLength(14);
    expect(cfg.datasets.map((d: { sha256: string }) => d.sha256)).toEqual(out.datasets.map((d) => d.hash));
    // No warmup_ratio (gone from transformers 5) and no device_map="auto" by default (refused under accelerate launch).
    expect(files['train.py']).not.toContain('warmup_ratio');
    expect(files['train.py']).not.toContain('device_map="auto"');
    // The script is valid Python (parsed, not run: torch/transformers/peft are not installed here).
    const py = spawnSync('python3', ['-c', 'import ast,sys; ast.parse(sys.stdin.read())'], { input: files['train.py'] });
    if (!py.error) expect(py.status, String(py.stderr)).toBe(0);
  });

  it('cancels cleanly through the signal', async () => {
    const ctl = new AbortController();
    const run = runExperiment(config, {
      model,
      bank: { pool: questions, fewShot: dev },
      signal: ctl.signal,
      onEvent: (e) => {
        if (e.type === 'probe') ctl.abort();
      },
      env: { engineVersion: 'test' },
    });
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    expect(model.loadedAdapters).toBe(0);
  });

  it('renders a Markdown table per protocol', () => {
    const md = out.markdown;
    expect(md).toContain('## Protocol: paper');
    expect(md).toContain('## Protocol: like-for-like');
    expect(md).toContain('| condition | HOMO | ID | OOD | known | unknown | C | KL |');
    for (const c of ['harmonious', 'incompatible', 'selfAligning', 'randomWrong', 'mixture-0.5']) expect(md).toMatch(new RegExp(`^\\| ${c} \\| \\d`, 'm'));
    expect(md).toMatch(/partial Spearman r\(C, tuned accuracy \| base accuracy\) = -?\d\.\d{3} over 30 points/);
    expect(md).toContain('### Paired contrasts (paper)');
    expect(md).toMatch(/^- Harmonious (beat|fell below|did not clearly differ from) Incompatible/m);
    expect(md).toContain('## Training fit');
  });
});

describe('a pre-registered plan', () => {
  const { questions, dev } = tinyWorld(5, 24);
  // A plan takes at least 10,000 resamples (fixed: no doubling to a precision, to keep the test short).
  const small = { ...config, name: 'tiny-plan', conditions: ['harmonious', 'incompatible'], seeds: [1, 2], training: { ...config.training, epochs: 1 }, evaluation: { ...config.evaluation, bootstrapSamples: 10_000, bootstrapPrecision: 0 } };
  let model: BowModel;
  beforeAll(async () => {
    model = await pretrainedModel(questions, dev, questions.filter((_, i) => i % 2 === 0));
  }, 120_000);
  const run = (c: unknown, plan?: Plan) => runExperiment(c, { model, bank: { pool: questions, fewShot: dev }, plan, env: { engineVersion: 'test', weightsHash: 'abc' } });

  it('a run under the plan is confirmatory and names the plan; a changed config or seeds is refused before any training', async () => {
    const plan = await makePlan(small, { fitArm: { maxEpochs: 3 } });
    expect(plan.configHash).toBe(await configHash(parseExperimentConfig(small)));
    expect(plan.notes.join(' ')).toMatch(/cannot reach α = 0.05 with fewer than 6 seeds/);
    const out = await run(small, plan);
    expect(out.result.status).toBe('confirmatory');
    expect(out.result.plan).toMatchObject({ hash: await planHash(plan), configHash: plan.configHash, arm: 'main' });
    expect(out.manifest.plan!.hash).toBe(await planHash(plan));
    expect(out.markdown).toMatch(/^\*\*Status: confirmatory\*\* — run under the pre-registered plan/m);
    const started: string[] = [];
    await expect(runExperiment({ ...small, seeds: [1, 3] }, { model, bank: { pool: questions, fewShot: dev }, plan, onEvent: (e) => started.push(e.type), env: { engineVersion: 'test' } })).rejects.toThrow(/differs from the pre-registered plan: seeds \[1,2\] → \[1,3\]/);
    expect(started).toEqual([]);
    await expect(run({ ...small, training: { ...small.training, learningRate: 0.1 } }, plan)).rejects.toBeInstanceOf(PlanMismatchError);
    // A plan edited after it was frozen is not a pre-registration.
    await expect(parsePlan({ ...plan, config: { ...plan.config, seeds: [1, 2, 3] } })).rejects.toThrow(/edited after it was frozen/);
    expect(await parsePlan(JSON.parse(JSON.stringify(plan)))).toEqual(plan);
  }, 120_000);

  it("the fit arm trains every condition under one stop-at-fit rule and records each run's epochs", async () => {
    const plan = await makePlan(small, { fitArm: { threshold: 0.9, maxEpochs: 3 } });
    const arm = fitArmConfig(parseExperimentConfig(small), plan.fitArm!);
    const out = await run(arm, plan);
    expect(out.result.plan!.arm).toBe('fit');
    for (const r of out.result.runs) {
      const f = r.fit;
      expect(f.epochs).toBeGreaterThanOrEqual(1);
      expect(f.epochs).toBeLessThanOrEqual(3);
      expect(f.fitPerEpoch!.map((x) => x.epoch)).toEqual(Array.from({ length: f.epochs! }, (_, i) => i + 1));
      // It stopped at the first epoch that fit, or at the ceiling; the recorded fit is the last one checked.
      const last = f.fitPerEpoch!.at(-1)!.fit;
      expect(last >= 0.9 || f.epochs === 3).toBe(true);
      expect(f.fitPerEpoch!.slice(0, -1).every((x) => x.fit < 0.9)).toBe(true);
      expect(f.after).toBeCloseTo(last, 12);
    }
    expect(out.markdown).toMatch(/Stop-at-fit arm: every condition trained until it answers at least 90.0 % of its own items/);
  }, 120_000);
});

describe('resuming an experiment from its progress store', () => {
  const { questions, dev } = tinyWorld(5, 24);
  const small = { ...config, conditions: ['harmonious', 'incompatible', 'selfAligning'], seeds: [1, 2] };
  const strip = (o: ExperimentOutput) => ({ ...o.result, runs: o.result.runs.map((r) => ({ ...r, train: { ...r.train, seconds: 0, resumedFromStep: null } })), startedAt: '', finishedAt: '' });

  it('continues after a cut-off and gives the numbers of an uninterrupted run; a changed config starts fresh', async () => {
    const model = await pretrainedModel(questions, dev, questions.filter((_, i) => i % 2 === 0));
    const env = { engineVersion: 'test', weightsHash: 'w1' };
    const whole = await runExperiment(small, { model, bank: { pool: questions, fewShot: dev }, env });

    const progress = new MemoryProgressStore();
    const sink = new MemoryCheckpointSink();
    const ctl = new AbortController();
    let trained = 0;
    await expect(
      runExperiment(small, {
        model,
        bank: { pool: questions, fewShot: dev },
        progress,
        sink,
        signal: ctl.signal,
        env,
        onEvent: (e) => {
          if (e.type === 'run-done' && ++trained === 2) ctl.abort();
        },
      }),
    ).rejects.toBeInstanceOf(CancelledError);
    expect(progress.value!.runs).toHaveLength(2);
    expect(progress.value!.probe).toBeTruthy();

    const stages: string[] = [];
    const resumed = await runExperiment(small, {
      model,
      bank: { pool: questions, fewShot: dev },
      progress,
      sink,
      env,
      onEvent: (e) => {
        if (e.type === 'stage') stages.push(e.stage);
        if (e.type === 'run-start') stages.push(e.run.runId);
      },
    });
    // The probe is not run again, and only the runs left are trained.
    expect(stages).not.toContain('probe');
    expect(stages.filter((s) => s.includes('-s'))).toEqual(['incompatible-s1', 'incompatible-s2', 'selfAligning-s1', 'selfAligning-s2']);
    expect(strip(resumed)).toEqual(strip(whole));

    // Another learning rate: the stored progress is for another experiment and is not reused.
    const changed = { ...small, training: { ...small.training, learningRate: 0.01 } };
    const runStarts: string[] = [];
    await runExperiment(changed, { model, bank: { pool: questions, fewShot: dev }, progress, env, onEvent: (e) => e.type === 'run-start' && runStarts.push(e.run.runId) });
    expect(runStarts).toHaveLength(6);
    expect(progress.value!.fingerprint).toBe(await experimentFingerprint(parseExperimentConfig(changed), env, { bank: { pool: questions, fewShot: dev } }));
  }, 120_000);

  it('a corrected answer key is never answered with the stored results: the run says what changed and probes again', async () => {
    const model = await pretrainedModel(questions, dev, questions.filter((_, i) => i % 2 === 0));
    const env = { engineVersion: 'test', weightsHash: 'w1', inputs: { 'q.csv': 'aaaa1111' } };
    const one = { ...small, conditions: ['harmonious'], seeds: [1] };
    const progress = new MemoryProgressStore();
    await runExperiment(one, { model, bank: { pool: questions, fewShot: dev }, progress, env });
    // Every answer moved one letter, and the runner's hash of the file changed with it.
    const moved = questions.map((q) => ({ ...q, answer: ((q.answer + 1) % 4) as 0 | 1 | 2 | 3 }));
    const events: ExperimentEvent[] = [];
    const again = await runExperiment(one, { model, bank: { pool: moved, fewShot: dev }, progress, env: { ...env, inputs: { 'q.csv': 'bbbb2222' } }, onEvent: (e) => events.push(e) });
    const stale = events.find((e) => e.type === 'stale-progress');
    expect(stale && stale.type === 'stale-progress' && stale.changes).toEqual(['the questions (their content) changed', 'the file q.csv changed (content aaaa1111 → bbbb2222)']);
    expect(events.some((e) => e.type === 'stage' && e.stage === 'probe')).toBe(true);
    expect(events.filter((e) => e.type === 'run-start')).toHaveLength(1);
    // The probe and datasets follow the new key: each probed item's gold is its new answer.
    const gold = new Map(moved.map((q) => [q.id, q.answer]));
    for (const it of again.result.probe.items) expect(it.gold).toBe(gold.get(it.id));
  }, 120_000);
});
