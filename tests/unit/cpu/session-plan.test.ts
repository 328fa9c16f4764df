// A run under a pre-registered plan through the Worker's session, on the toy world and the CPU backend: the
// Train page's settings frozen as a plan (the CLI's makePlan), a changed setting refused with its differences
// before anything trains, then the plan's own settings run to a confirmatory result whose manifest names the
// plan's hash — the same fields `ift-lab experiment --plan` writes.
import { describe, expect, it } from 'vitest';
import type { ExperimentResult } from '../../../src/lab/experiment';
import type { Manifest } from '../../../src/lab/manifest';
import { parsePlan, planHash } from '../../../src/lab/plan';
import { TOY_WORLD_ID } from '../../../src/model/builtin';
import type { StoredRecord } from '../../../src/store/types';
import { haveToyWorld, quietCtx, tinyTrain, useToySession } from '../../helpers/toy-session';

describe.skipIf(!haveToyWorld)('a run under a plan (Worker session, CPU)', () => {
  const { session, store } = useToySession('ift-session-plan-');
  const quiet = quietCtx;

  it('register → a changed setting refused → the plan’s settings run confirmatory', { timeout: 120_000 }, async () => {
    await session.loadModel(TOY_WORLD_ID, 'main', quiet());
    const probe = await session.probe({ source: { type: 'toyworld', seed: 1 }, k: 1, threshold: 0.25, strict: false, seed: 1, maxPerSplit: 8 }, quiet());
    const ds = await session.buildDatasets({ probeId: probe.probeId, conditions: ['harmonious', 'incompatible'], ratios: [], size: 4, responses: 'letter', seed: 3 }, quiet());
    const train = tinyTrain(ds.datasets.map((d) => d.datasetId), { seeds: [1] });
    const info = await session.registerPlan(train, true, quiet());
    expect(info.seeds).toEqual([1]);
    expect(info.fitArm).toMatchObject({ threshold: 0.9, maxEpochs: 4 });
    const plan = await parsePlan(JSON.parse(info.json));
    expect(plan.config.training.epochs).toBe(1);
    expect(await store.list('plans')).toHaveLength(1);

    // Other epochs, other seeds: refused with the differences, and nothing is stored or trained.
    await expect(session.experiment({ ...train, epochs: 2 }, 'paper', quiet(), { planId: info.planId, arm: 'main' })).rejects.toMatchObject({
      code: 'plan-mismatch',
      message: 'The configuration differs from the pre-registered plan: training.epochs 1 → 2.',
    });
    await expect(session.experiment({ ...train, seeds: [1, 2] }, 'paper', quiet(), { planId: info.planId, arm: 'main' })).rejects.toMatchObject({
      message: expect.stringMatching(/seeds \[1\] → \[1,2\]/),
    });
    expect(await store.list('runs')).toHaveLength(0);

    const out = await session.experiment(train, 'paper', quiet(), { planId: info.planId, arm: 'main' });
    expect(out.result.status).toBe('confirmatory');
    // The plan travels with the result (History, the share link): its hashes and its plan.json.
    expect(out.result.plan).toMatchObject({ hash: info.hash, configHash: info.configHash, arm: 'main', createdAt: info.createdAt });
    expect(await planHash(await parsePlan(JSON.parse(out.result.plan!.json!)))).toBe(info.hash);
    const rec = await store.get<StoredRecord & { lab: { experiment: ExperimentResult; manifest: Manifest; markdown: string } }>('runs', out.runId);
    expect(rec!.lab.experiment.status).toBe('confirmatory');
    expect(rec!.lab.manifest.status).toBe('confirmatory');
    expect(rec!.lab.manifest.plan?.hash).toBe(await planHash(plan));
    expect(rec!.lab.manifest.configHash).toBe(plan.configHash);
    expect(rec!.lab.markdown).toMatch(/\*\*Status: confirmatory\*\*/);

    // Without the plan the same settings are an exploratory run.
    const free = await session.experiment(train, 'paper', quiet());
    expect(free.result.status).toBe('exploratory');
    expect(free.result.plan).toBeUndefined();
  });
});
