import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseExperimentConfig } from '../../../src/lab/experiment';
import { TOY_SPLIT } from '../../../src/worker/bank';
import { TOY_EXPERIMENT } from '../../../src/worker/toy-defaults';
import { probeForm, trainForm } from '../../../src/ui/state/forms.svelte';
import { repoRoot } from '../../helpers/paths';

describe('the toy world one-click experiment (TOY_EXPERIMENT)', () => {
  it('is a valid experiment configuration: 4 conditions × 3 seeds, data redrawn per seed', () => {
    const c = parseExperimentConfig(TOY_EXPERIMENT);
    expect([c.conditions.length, c.seeds, c.dataSeed, c.probe.method, c.probe.shots]).toEqual([4, [1, 2, 3], 'per-seed', 'debiased', 3]);
    expect(c.training.schedule).toEqual({ kind: 'constant', warmupFraction: 0 });
  });

  it('is examples/toy-world-quick.json (the one-click protocol fits ten minutes on the CPU backend), but for names, the world seed and batch sizes', () => {
    const quick = parseExperimentConfig(JSON.parse(fs.readFileSync(path.join(repoRoot, 'examples/toy-world-quick.json'), 'utf8')));
    const c = parseExperimentConfig(TOY_EXPERIMENT);
    // The world's seed: the Worker reads the shipped world.json's own; the CLI config names it (42).
    const science = (x: typeof c) => ({ ...x, name: '', questions: null, probe: { ...x.probe, batchSize: 0, minPerCondition: 0 }, evaluation: { ...x.evaluation, batchSize: 0 } });
    expect(science(quick)).toEqual(science(c));
  });

  it('is the experiment of the committed one-click result (docs/results/toy-world-oneclick-debiased-e15), but for names and batch sizes', () => {
    const committed = parseExperimentConfig(JSON.parse(fs.readFileSync(path.join(repoRoot, 'docs/results/toy-world-oneclick-debiased-e15/config.json'), 'utf8')));
    const c = parseExperimentConfig(TOY_EXPERIMENT);
    // The world's seed: the Worker reads the shipped world.json's own; the CLI config names it (42). The probe's
    // minPerCondition only sets when it warns (the run's 64 known / 40 unknown are above 10 and 20 alike).
    // The committed run predates the 10,000-resample bootstrap and the spread per-seed draws: its config says
    // 1,000 resamples and "random" draws; the one click now uses the lab's defaults for both.
    const science = (x: typeof c) => ({ ...x, name: '', questions: null, dataDraws: null, probe: { ...x.probe, batchSize: 0, minPerCondition: 0 }, evaluation: { ...x.evaluation, batchSize: 0, bootstrapSamples: 0 } });
    expect(science(c)).toEqual(science(committed));
    expect([committed.evaluation.bootstrapSamples, committed.dataDraws]).toEqual([1000, 'random']);
    expect([c.evaluation.bootstrapSamples, c.dataDraws]).toEqual([10_000, 'spread']);
    expect(c.size).toBe(30);
  });

  it('is the one source of the toy split and of the pages’ defaults', () => {
    expect(TOY_SPLIT.trainSubjects).toEqual([...TOY_EXPERIMENT.subjects.train]);
    expect(TOY_SPLIT.caps).toEqual(TOY_EXPERIMENT.splits.caps);
    expect([probeForm.defaults.k, probeForm.defaults.method, probeForm.defaults.threshold]).toEqual([3, 'debiased', 0.5]);
    expect([trainForm.defaults.rank, trainForm.defaults.lr, trainForm.defaults.epochs, trainForm.defaults.seeds, trainForm.defaults.targets]).toEqual([8, 1e-2, 15, '1, 2, 3', ['q_proj', 'v_proj']]);
  });
});
