import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/ift-lab';
import { configHash, parsePlan } from '../../../src/lab/plan';
import { parseExperimentConfig } from '../../../src/lab/experiment-config';
import { repoRoot } from '../../helpers/paths';

const committed = path.join(repoRoot, 'docs/results/toy-world-oneclick-debiased-e15/config.json');

function run(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  return main(args, { out: (s) => out.push(s), err: (s) => err.push(s) }).then((code) => ({ code, out: out.join('\n'), err: err.join('\n') }));
}

describe('ift-lab preregister and experiment --plan', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ift-plan-'));
  const old = JSON.parse(fs.readFileSync(committed, 'utf8'));
  // The committed run's protocol on six new seeds, with the default (10,000-resample) bootstrap.
  const config = { ...old, name: 'toy-confirm', seeds: [101, 102, 103, 104, 105, 106], evaluation: { batchSize: old.evaluation.batchSize } };
  const configFile = path.join(dir, 'config.json');
  fs.writeFileSync(configFile, JSON.stringify(config));
  const planFile = path.join(dir, 'plan.json');

  it('freezes a self-describing plan whose hash is the configuration hash the manifest records', async () => {
    const r = await run('preregister', configFile, '--out', planFile, '--fit-arm');
    expect(r.code).toBe(0);
    const plan = JSON.parse(fs.readFileSync(planFile, 'utf8'));
    expect(plan.schema).toBe('ift-lab/plan@1');
    expect(plan.configHash).toBe(await configHash(parseExperimentConfig(config)));
    expect(plan.seeds).toEqual([101, 102, 103, 104, 105, 106]);
    expect(plan.primary).toEqual({ id: 'H − I', a: 'harmonious', b: 'incompatible', measure: 'accuracy', set: 'pooled', protocol: 'paper' });
    expect(plan.secondary).toHaveLength(6);
    expect(plan.alpha).toBe(0.05);
    expect(plan.decisionRule).toMatch(/exact two-sided sign-flip test/);
    expect(plan.bootstrap.samples).toBeGreaterThanOrEqual(10_000);
    expect(plan.notes).toEqual([]);
    expect(await parsePlan(plan)).toBeTruthy();
    expect(fs.existsSync(path.join(dir, 'plan.fit-config.json'))).toBe(true);
    // A plan with a 1,000-resample bootstrap is refused.
    const weak = path.join(dir, 'weak.json');
    fs.writeFileSync(weak, JSON.stringify(old));
    const w = await run('preregister', weak, '--out', path.join(dir, 'weak-plan.json'));
    expect(w.code).toBe(1);
    expect(w.err).toMatch(/a plan needs at least 10,000/);
    // A plan is frozen once.
    expect((await run('preregister', configFile, '--out', planFile)).code).toBe(1);
  });

  it('refuses a changed configuration or changed seeds before loading anything, and a tampered plan', async () => {
    const changed = path.join(dir, 'changed.json');
    fs.writeFileSync(changed, JSON.stringify({ ...config, seeds: [1, 2, 3] }));
    const r = await run('experiment', changed, '--plan', planFile, '--no-estimate');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/error: The configuration differs from the pre-registered plan: seeds \[101,102,103,104,105,106\] → \[1,2,3\]/);
    expect(r.err).not.toMatch(/\[load\]/);
    fs.writeFileSync(changed, JSON.stringify({ ...config, training: { ...config.training, epochs: 16 } }));
    expect((await run('experiment', changed, '--plan', planFile, '--no-estimate')).err).toMatch(/training\.epochs 15 → 16/);
    const tampered = path.join(dir, 'tampered.json');
    const plan = JSON.parse(fs.readFileSync(planFile, 'utf8'));
    fs.writeFileSync(tampered, JSON.stringify({ ...plan, config: { ...plan.config, training: { ...plan.config.training, epochs: 16 } } }));
    expect((await run('experiment', changed, '--plan', tampered, '--no-estimate')).err).toMatch(/edited after it was frozen/);
  });
});
