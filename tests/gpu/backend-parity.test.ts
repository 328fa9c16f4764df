// One toy-world experiment through both backends — WebGPU (here SwiftShader) and the CPU — from the same
// weights and configuration. Float sums run in another order on each (the WGSL accumulates in f32 in its own
// tiling, the CPU in f64 along each row), so the numbers agree to rounding, not to the bit:
// - the untuned model's option probabilities (the probe) differ by rounding alone: < 1e-5;
// - training repeats that rounding for every step, and AdamW divides by √v, which magnifies it where a
//   gradient is near 0: after the few steps here the tuned models' probabilities stay within 1e-3;
// - so every belief whose top two options are more than 1e-3 apart is the same, and accuracies and contrasts
//   can differ only by the questions inside that margin (none, in practice: the test counts them).
import { existsSync, openAsBlob } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CpuRuntime } from '../../src/engine/cpu-runtime';
import type { Runtime } from '../../src/engine/runtime';
import { loadBank } from '../../src/cli/bank';
import { parseExperimentConfig, runExperiment, type ExperimentResult } from '../../src/lab/experiment';
import { BUILTIN_MODELS, TOY_WORLD_ID } from '../../src/model/builtin';
import { createEngineModel } from '../../src/model/engine-model';
import { loadFolderFiles } from '../../src/model/hub';
import { checkModelFiles } from '../../src/model/load';
import { testRuntime } from '../helpers/gpu';

const DIR = path.join('public', BUILTIN_MODELS[TOY_WORLD_ID]);

const CONFIG = parseExperimentConfig({
  name: 'backend-parity',
  model: { id: TOY_WORLD_ID, precision: 'f32' },
  questions: { kind: 'toyworld', seed: 42 },
  subjects: { train: ['toy_continents', 'toy_currencies', 'toy_founders'], related: ['toy_languages', 'toy_exports'] },
  splits: { seed: 42, homoFraction: 0.35, caps: { train: 24, homo: 8, id: 8, ood: 8 } },
  probe: { shots: 1, threshold: 0.5, method: 'letter', batchSize: 16, minPerCondition: 1 },
  conditions: ['harmonious', 'incompatible'],
  seeds: [1],
  size: 4,
  training: { lora: { rank: 8, alpha: 16, targets: ['q', 'v'] }, learningRate: 0.01, schedule: { kind: 'constant', warmupFraction: 0 }, epochs: 2, batchSize: 4, maxSeqLen: 256 },
  protocols: ['paper'],
  // Few resamples: the contrasts are compared between backends, not read as findings.
  evaluation: { bootstrapSamples: 200, bootstrapPrecision: 0, batchSize: 16 },
});

async function run(rt: Runtime): Promise<ExperimentResult> {
  const files = await loadFolderFiles(TOY_WORLD_ID, async (f) => (existsSync(path.join(DIR, f)) ? openAsBlob(path.join(DIR, f)) : null));
  const model = await createEngineModel(rt, checkModelFiles(files), { precision: 'f32', id: TOY_WORLD_ID });
  try {
    return (await runExperiment(CONFIG, { model, bank: await loadBank(CONFIG), env: { engineVersion: 'test', weightsHash: 'same' } })).result;
  } finally {
    model.dispose();
  }
}

function maxDiff(a: readonly number[][], b: readonly number[][]): number {
  let d = 0;
  a.forEach((row, i) => row.forEach((x, j) => (d = Math.max(d, Math.abs(x - b[i][j])))));
  return d;
}

describe.skipIf(!existsSync(path.join(DIR, 'model.safetensors')))('one experiment on WebGPU and on the CPU', () => {
  it('probe within 1e-5, tuned scores within 1e-3, the same beliefs outside that margin, and the same contrasts', { timeout: 400_000 }, async () => {
    const gpu = await run(await testRuntime());
    const cpu = await run(new CpuRuntime());
    const pg = gpu.probe.items.map((x) => [...x.probs]);
    const pc = cpu.probe.items.map((x) => [...x.probs]);
    expect(pc.length).toBe(pg.length);
    const probeDiff = maxDiff(pg, pc);
    expect(probeDiff).toBeLessThan(1e-5);
    expect(cpu.datasets).toEqual(gpu.datasets);
    let tunedDiff = 0;
    let nearTies = 0;
    let differ = 0;
    gpu.runs.forEach((rg, i) => {
      const rc = cpu.runs[i];
      for (const set of Object.keys(rg.scores) as (keyof typeof rg.scores)[]) {
        const g = rg.scores[set] ?? [], c = rc.scores[set] ?? [];
        expect(c.map((x) => x.id)).toEqual(g.map((x) => x.id));
        tunedDiff = Math.max(tunedDiff, maxDiff(g.map((x) => [...x.probs]), c.map((x) => [...x.probs])));
        g.forEach((x, q) => {
          const sorted = [...x.probs].sort((u, v) => v - u);
          if (sorted[0] - sorted[1] <= 1e-3) nearTies++;
          else if (x.pred !== c[q].pred) differ++;
        });
      }
    });
    console.log(`backend parity: probe max |Δp| ${probeDiff.toExponential(2)}, tuned max |Δp| ${tunedDiff.toExponential(2)}, ${nearTies} near-ties (≤ 1e-3), ${differ} beliefs differ outside them`);
    expect(tunedDiff).toBeLessThan(1e-3);
    expect(differ).toBe(0);
    if (nearTies === 0) expect(cpu.contrasts).toEqual(gpu.contrasts);
  });
});
