import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CancelledError, ConfigError } from '../../../src/lab/errors';
import { parseExperimentConfig, planGrid, runExperiment, type ExperimentEvent, type ExperimentOutput } from '../../../src/lab/experiment';
import { exportRecipe } from '../../../src/lab/recipe';
import { MemoryCheckpointSink } from '../../../src/lab/train';
import type { BowModel } from '../../helpers/bow-model';
import { repoRoot } from '../../helpers/paths';
import { pretrainedModel, tinyWorld } from '../../helpers/tiny-world';

const config = {
  name: 'tiny',
  model: { id: 'test:bow-tiny' },
  questions: { kind: 'toyworld', seed: 5 },
  subjects: { train: ['toy_geography'], related: ['toy_biology'] },
  splits: { homoFraction: 0.25 },
  probe: { shots: 2, threshold: 0.4, minPerCondition: 5 },
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

  it('computes the partial correlation across the mixture sweep', () => {
    const s = out.result.sweep.paper!;
    // 3 ratios × 2 seeds × 3 test sets.
    expect(s.points).toHaveLength(18);
    expect(s.r).toBeGreaterThanOrEqual(-1);
    expect(s.r).toBeLessThanOrEqual(1);
    expect(s.n).toBe(18);
  });

  it('writes a manifest with hashes, hyper-parameters and environment', () => {
    const m = out.manifest;
    expect(m.model).toEqual({ id: 'test:bow-tiny', revision: 'main', weightsHash: 'abc123' });
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
        ...out.datasets.map((d) => `datasets/${d.name}.jsonl`),
      ].sort(),
    );
    const rows = files['datasets/harmonious.jsonl'].trim().split('\n').map((l) => JSON.parse(l));
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
    expect(md).toMatch(/partial Spearman r\(C, tuned accuracy \| base accuracy\) = -?\d\.\d{3} over 18 points/);
  });
});
