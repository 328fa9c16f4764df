/**
 * The exported recipe against the lab's own run: the same datasets (hashes), test sets, few-shot examples,
 * prompts (byte for byte, rendered by the recipe's Python), hyper-parameters and grid; and a results.json
 * written by the recipe's own functions comes back into the lab (`ift-lab import-results`, the History import)
 * as results with the numbers the lab computes from the same scores.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/ift-lab';
import { compareScores, type EvalReport, type TestSetName } from '../../../src/lab/evaluate';
import { datasetFileStem, planGrid, protocolsOf, runExperiment, type ExperimentOutput } from '../../../src/lab/experiment';
import { sha256Hex } from '../../../src/lab/hash';
import { toJsonl } from '../../../src/lab/intervene';
import type { ChatMessage } from '../../../src/lab/model';
import type { ScoredQuestion } from '../../../src/lab/probe';
import { chatUserText, fewShotPrefix, formatQuestion, pickShots } from '../../../src/lab/prompts';
import type { Question } from '../../../src/lab/questions/types';
import { exportRecipe, RECIPE_FILES } from '../../../src/lab/recipe';
import { parseImport, recipeToShared, validateSharedResult, type SharedResult } from '../../../src/share';
import { sharedResult, type RunForShare } from '../../../src/share/from-runs';
import { repoRoot } from '../../helpers/paths';
import { python } from '../../helpers/python';
import { pretrainedModel, TINY_EXPERIMENT, tinyWorld } from '../../helpers/tiny-world';

const config = {
  name: 'recipe-tiny',
  ...TINY_EXPERIMENT,
  conditions: ['harmonious', 'incompatible', 'mixture'],
  ratios: [0, 1],
  seeds: [1, 2],
  training: {
    lora: { rank: 4, alpha: 8, targets: ['q', 'v', 'down'] },
    learningRate: 0.05,
    epochs: 2,
    batchSize: 8,
    schedule: { kind: 'cosine', warmupFraction: 0.1 },
  },
  evaluation: { bootstrapSamples: 40, bootstrapSeed: 3 },
};

const readJsonl = (file: string) =>
  fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

/** Deeply equal, numbers within 1e-12 (Python's and V8's log may differ in the last bit). */
function expectClose(a: unknown, b: unknown, where = ''): void {
  if (typeof b === 'number') {
    expect(typeof a, where).toBe('number');
    if (Number.isNaN(b)) expect(Number.isNaN(a as number), where).toBe(true);
    else
      expect(Math.abs((a as number) - b), `${where}: ${a} vs ${b}`).toBeLessThanOrEqual(
        1e-12 * Math.max(1, Math.abs(b)),
      );
  } else if (Array.isArray(b)) {
    expect((a as unknown[]).length, where).toBe(b.length);
    b.forEach((x, i) => expectClose((a as unknown[])[i], x, `${where}[${i}]`));
  } else if (b && typeof b === 'object') {
    expect(Object.keys(a as object).sort(), where).toEqual(Object.keys(b).sort());
    for (const k of Object.keys(b))
      expectClose((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${where}.${k}`);
  } else expect(a, where).toEqual(b);
}

describe('the exported recipe', () => {
  const { questions, dev } = tinyWorld(5, 24);
  let out: ExperimentOutput;
  let dir: string;
  let files: Record<string, string>;

  beforeAll(async () => {
    const model = await pretrainedModel(
      questions,
      dev,
      questions.filter((_, i) => i % 2 === 0),
    );
    out = await runExperiment(config, {
      model,
      bank: { pool: questions, fewShot: dev },
      env: { engineVersion: 'test' },
    });
    files = exportRecipe({
      config: out.result.config,
      datasets: out.datasets,
      tests: { homo: out.splits.homo, id: out.splits.id, ood: out.splits.ood },
      fewShot: dev,
      probe: { counts: out.result.probe.counts },
    });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ift-recipe-'));
    for (const [name, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), text);
    }
  }, 120_000);

  it('has the lab datasets, byte for byte and with the same hashes', async () => {
    const cfg = JSON.parse(files['config.json']);
    expect(cfg.datasets.map((d: { name: string; sha256: string }) => [d.name, d.sha256])).toEqual(
      out.datasets.map((d) => [datasetFileStem(d, out.result.config), d.hash]),
    );
    for (const ds of out.datasets) {
      const rows = readJsonl(path.join(dir, 'datasets', `${datasetFileStem(ds, out.result.config)}.jsonl`));
      const conversations: ChatMessage[][] = rows.map((r: { prompt: ChatMessage[]; completion: ChatMessage[] }) => [
        ...r.prompt,
        ...r.completion,
      ]);
      expect(conversations).toEqual(ds.conversations);
      expect(
        rows.every(
          (r: { completion: { role: string }[] }) => r.completion.length === 1 && r.completion[0].role === 'assistant',
        ),
      ).toBe(true);
      expect(await sha256Hex(toJsonl({ conversations }))).toBe(ds.hash);
    }
  });

  it('has the lab test sets, few-shot examples, grid and hyper-parameters', () => {
    const cfg = JSON.parse(files['config.json']);
    const c = out.result.config;
    const strip = (q: Question) => ({
      id: q.id,
      subject: q.subject,
      question: q.question,
      options: q.options,
      answer: q.answer,
    });
    for (const s of ['homo', 'id', 'ood'] as const)
      expect(readJsonl(path.join(dir, 'tests', `${s}.jsonl`))).toEqual(out.splits[s].map(strip));
    expect(readJsonl(path.join(dir, 'fewshot.jsonl'))).toEqual(dev.map(strip));
    expect(cfg.testSets).toEqual(['homo', 'id', 'ood']);
    const { lora, ...rest } = cfg.training;
    const { lora: labLora, ...labRest } = c.training;
    expect(rest).toEqual(labRest);
    expect(lora).toEqual({ ...labLora, targetModules: ['q_proj', 'v_proj', 'down_proj'] });
    expect(cfg.training.schedule).toEqual({ kind: 'cosine', warmupFraction: 0.1 });
    expect(cfg.runs).toEqual(planGrid(c).map((r) => ({ runId: r.runId, dataset: datasetFileStem({ name: r.condition, dataSeed: r.dataSeed }, c), seed: r.seed })));
    expect(cfg.protocols).toEqual(
      protocolsOf(c).map((p) => ({
        name: p.name,
        base: p.base.kind === 'kshot' ? p.base : { kind: 'chat', shots: 0 },
        tuned: { kind: 'chat', shots: 0 },
      })),
    );
    expect(cfg.evaluation).toEqual({
      bootstrapSamples: 40,
      bootstrapSeed: 3,
      batchSize: c.evaluation.batchSize,
      method: 'letter',
    });
    expect(cfg.probe.counts).toEqual({
      known: out.result.probe.counts.known,
      unknown: out.result.probe.counts.unknown,
    });
    expect(cfg.model).toEqual(c.model);
    for (const name of Object.keys(RECIPE_FILES))
      expect(files[name], name).toBe(fs.readFileSync(path.join(repoRoot, 'src/lab/recipe', name), 'utf8'));
    expect(files['README.md']).toContain('accelerate launch --config_file accelerate-ddp.yaml');
    expect(files['README.md']).toContain('--device-map auto');
  });

  it("the README's commands use only options train.py has and files the recipe ships", () => {
    const readme = files['README.md'];
    const blocks = [...readme.matchAll(/```\n([\s\S]*?)```/g)].map((m) => m[1]);
    const commands = blocks.flatMap((b) => b.split('\n')).filter((l) => /train\.py/.test(l));
    expect(commands.length).toBeGreaterThanOrEqual(5);
    const options = new Set([...files['train.py'].matchAll(/add_argument\("(--[a-z-]+)"/g)].map((m) => m[1]));
    for (const c of commands) {
      const script = c.replace(/#.*$/, '');
      for (const flag of script.match(/(?<=\s)--[\w-]+/g) ?? []) {
        const launcher = ['--config_file', '--num_processes'];
        if (script.indexOf(flag) < script.indexOf('train.py')) expect(launcher, `${flag} in: ${c}`).toContain(flag);
        else expect(options.has(flag), `${flag} in: ${c}`).toBe(true);
      }
      for (const f of script.match(/[\w-]+\.yaml/g) ?? []) expect(Object.keys(files), f).toContain(f);
    }
    // One GPU, several GPUs (data parallel), FSDP, and one process over several GPUs.
    expect(commands.some((c) => /^python train\.py --model/.test(c))).toBe(true);
    expect(commands.some((c) => c.includes('accelerate-ddp.yaml') && c.includes('--num_processes'))).toBe(true);
    expect(commands.some((c) => c.includes('accelerate-fsdp.yaml'))).toBe(true);
    expect(commands.some((c) => c.includes('--device-map auto') && !c.includes('accelerate'))).toBe(true);
    expect(files['accelerate-ddp.yaml']).toMatch(/distributed_type: MULTI_GPU/);
    expect(files['accelerate-fsdp.yaml']).toMatch(/distributed_type: FSDP/);
    expect(files['requirements.txt']).toMatch(/^transformers>=4\.46,<6$/m);
    expect(files['requirements.txt']).not.toMatch(/^trl/m);
  });

  let fake: { hashes: Record<string, string>; prompts: Record<string, { chat: string; kshot: string }[]> };
  let runsDir: string;

  it("renders the lab's prompts byte for byte in Python, and checks the lab's dataset hashes", () => {
    runsDir = path.join(dir, 'runs');
    const r = python(['tests/python/fake_recipe_run.py', dir, runsDir]);
    expect(r.status, r.stderr).toBe(0);
    fake = JSON.parse(r.stdout);
    expect(fake.hashes).toEqual(Object.fromEntries(out.datasets.map((d) => [datasetFileStem(d, out.result.config), d.hash])));
    for (const s of ['homo', 'id', 'ood'] as const) {
      const qs = out.splits[s];
      expect(fake.prompts[s].map((p) => p.chat)).toEqual(qs.map(chatUserText));
      expect(fake.prompts[s].map((p) => p.kshot)).toEqual(
        qs.map((q) => fewShotPrefix(q.subject, pickShots(dev, q.subject, 2, q.id)) + formatQuestion(q)),
      );
    }
  });

  it('imports back into the lab with the numbers the lab computes from the same scores', async () => {
    const lines: string[] = [];
    const io = { out: (s: string) => lines.push(s), err: (s: string) => lines.push(s) };
    expect(await main(['import-results', runsDir], io), lines.join('\n')).toBe(0);
    const exported = fs.readFileSync(path.join(runsDir, 'lab-results.json'), 'utf8');
    const imported = parseImport(exported);
    expect(imported.fatal).toBeNull();
    expect(imported.errors).toEqual([]);
    // 2 protocols × 2 seeds, each a complete result the charts and share links take.
    expect(imported.results).toHaveLength(4);
    for (const x of imported.results) expect(validateSharedResult(x).ok).toBe(true);
    // The History page reads the raw results.json through the same converter.
    const raw = fs.readFileSync(path.join(runsDir, 'results.json'), 'utf8');
    expect(parseImport(raw).results).toEqual(imported.results);

    // The lab's own computation from the recipe's scores.
    const rec = JSON.parse(raw);
    const tests: Record<TestSetName, Question[]> = { homo: out.splits.homo, id: out.splits.id, ood: out.splits.ood };
    const scored = (qs: Question[], probs: number[][]): ScoredQuestion[] =>
      qs.map((q, i) => {
        const p = probs[i] as [number, number, number, number];
        let pred = 0;
        for (let k = 1; k < 4; k++) if (p[k] > p[pred]) pred = k;
        return {
          id: q.id,
          subject: q.subject,
          gold: q.answer,
          probs: p,
          pred,
          confidence: p[pred],
          correct: pred === q.answer,
        };
      });
    const result = imported.results.find((x) => x.manifest.protocol.startsWith('paper') && x.manifest.seeds[0] === 2)!;
    const runs: RunForShare[] = rec.runs
      .filter((r: { seed: number }) => r.seed === 2)
      .map(
        (r: {
          dataset: string;
          tunedScores: Record<string, Record<TestSetName, number[][]>>;
          evals: Record<string, Record<TestSetName, unknown>>;
        }) => {
          const ds = out.datasets.find((d) => datasetFileStem(d, out.result.config) === r.dataset)!;
          const report: EvalReport = { protocol: 'paper', sets: {} };
          for (const s of ['homo', 'id', 'ood'] as const) {
            report.sets[s] = compareScores(
              scored(tests[s], rec.baseScores.paper[s]),
              scored(tests[s], r.tunedScores.paper[s]),
              { samples: 40, seed: 3 },
            );
            // The recipe's SetReport (labmath.set_report) is the lab's compareScores, NaN written as null.
            const lab = JSON.parse(
              JSON.stringify(report.sets[s], (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)),
            );
            expectClose(r.evals.paper[s], lab, `${r.dataset}.${s}`);
          }
          return { condition: ds.name, kind: ds.kind, ...(ds.ratio === undefined ? {} : { ratio: ds.ratio }), seed: 2, trainSize: ds.items.length, evals: { paper: report } };
        },
      );
    const lab: SharedResult = sharedResult({
      title: result.title,
      manifest: result.manifest,
      protocol: 'paper',
      method: 'letter',
      counts: { known: out.result.probe.counts.known, unknown: out.result.probe.counts.unknown },
      runs,
    });
    expectClose(result.conditions, lab.conditions, 'conditions');
    expectClose(result.base, lab.base, 'base');
    expect(result.counts).toEqual({ known: out.result.probe.counts.known, unknown: out.result.probe.counts.unknown });
    expect(result.manifest.model).toEqual({ id: 'org/fake-7b', revision: 'main' });
    expect(result.manifest.hyper.source).toBe('recipe');
    expect(result.conditions.map((c) => c.name)).toEqual([
      'Harmonious',
      'Incompatible',
      'Mixture r = 0',
      'Mixture r = 1',
    ]);
    // Base accuracy as the lab's experiment summary computes it.
    const homoBase = scored(tests.homo, rec.baseScores.paper.homo);
    expect(result.base.homo.acc).toBeCloseTo(homoBase.filter((q) => q.correct).length / homoBase.length, 12);
  });

  it('explains a file that is not a recipe result, or has no runs yet', () => {
    expect(recipeToShared({ format: 'ift-lab-recipe-results', version: 1 }).issues[0]).toMatch(
      /not a results.json written by an IFT Lab recipe/,
    );
    const raw = JSON.parse(fs.readFileSync(path.join(runsDir, 'results.json'), 'utf8'));
    expect(recipeToShared({ ...raw, runs: [] }).issues[0]).toMatch(/no run yet/);
    expect(parseImport(JSON.stringify({ ...raw, runs: [] })).fatal).toMatch(/no run yet/);
  });

  it('range-checks what it imports: accuracy 5.0 or -3, lo > hi, rank -5, lr -3, one run listed twice', () => {
    const raw = JSON.parse(fs.readFileSync(path.join(runsDir, 'results.json'), 'utf8'));
    const edit = (f: (r: typeof raw) => void) => {
      const r = structuredClone(raw);
      f(r);
      return recipeToShared(r);
    };
    const set = (r: typeof raw) => Object.values(Object.values(r.runs[0].evals)[0] as Record<string, { overall: Record<string, { value: number; lo: number; hi: number }> }>)[0].overall;
    const cases: [string, (r: typeof raw) => void, RegExp][] = [
      ['accuracy 5.0', (r) => (set(r).tunedAccuracy.value = 5), /tunedAccuracy\.value: an accuracy .* must be ≤ 1/],
      ['accuracy -3', (r) => (set(r).baseAccuracy.value = -3), /baseAccuracy\.value: an accuracy .* must be ≥ 0/],
      ['lo > hi', (r) => Object.assign(set(r).consistency, { lo: 0.9, hi: 0.1 }), /consistency: the interval's lo is above its hi/],
      ['rank -5', (r) => (r.training.lora.rank = -5), /training\.lora\.rank: the LoRA rank must be ≥ 1/],
      ['lr -3', (r) => (r.training.learningRate = -3), /training\.learningRate: the learning rate must be > 0/],
      ['one run twice', (r) => r.runs.push(structuredClone(r.runs[0])), /runs: a run id appears twice/],
      ['one seed twice', (r) => r.runs.push({ ...structuredClone(r.runs[0]), runId: 'copy' }), /runs: a dataset is listed twice with the same seed/],
    ];
    for (const [name, f, msg] of cases) {
      const got = edit(f);
      expect(got.results, name).toEqual([]);
      expect(got.issues.join('\n'), name).toMatch(msg);
    }
  });

  it('ift-lab import-results and export-adapter never write over their own input', async () => {
    const lines: string[] = [];
    const io = { out: (s: string) => lines.push(s), err: (s: string) => lines.push(s) };
    const file = path.join(runsDir, 'results.json');
    const before = fs.readFileSync(file, 'utf8');
    expect(await main(['import-results', runsDir, '--out', file], io)).toBe(1);
    expect(lines.join('\n')).toMatch(/--out .*results\.json is the input file .*: writing it would destroy what the command reads/);
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
  });

  it('ift-lab import-results: a missing folder is exit 1 with advice, no argument is usage (exit 2)', async () => {
    const lines: string[] = [];
    const io = { out: (s: string) => lines.push(s), err: (s: string) => lines.push(s) };
    expect(await main(['import-results', path.join(dir, 'nowhere')], io)).toBe(1);
    expect(lines.join('\n')).toMatch(/what to do: .*train\.py --out/);
    expect(await main(['import-results'], io)).toBe(2);
  });
});
