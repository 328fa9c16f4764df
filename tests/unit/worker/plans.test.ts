// The browser's plans (src/worker/plans.ts): frozen by the lab's makePlan, kept under their hash as the
// plan.json text the CLI reads, imported from such a file, and read again through parsePlan before a run.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makePlan, parsePlan, planHash } from '../../../src/lab/plan';
import { importPlan, planJson, readPlanText, storedPlan, storePlan } from '../../../src/worker/plans';
import type { PlanRecord } from '../../../src/worker/protocol';
import { openFsStore } from '../../helpers/fs-store';
import { repoRoot } from '../../helpers/paths';

const committed = JSON.parse(readFileSync(path.join(repoRoot, 'docs/results/toy-world-oneclick-debiased-e15/config.json'), 'utf8'));
const config = { ...committed, name: 'toy-plan', seeds: [1, 2, 3], evaluation: { batchSize: committed.evaluation.batchSize } };

describe('plans in the browser store', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ift-plans-'));
  const store = openFsStore(dir);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps a plan under its hash, as the plan.json the CLI writes; the same plan twice is kept once', async () => {
    const plan = await makePlan(config, { fitArm: true, now: () => new Date('2025-01-02T03:04:05Z') });
    const info = await storePlan(store, plan, 'browser');
    expect(info.planId).toBe(await planHash(plan));
    expect(info).toMatchObject({ name: 'toy-plan', createdAt: '2025-01-02T03:04:05.000Z', seeds: [1, 2, 3], alpha: 0.05, source: 'browser' });
    expect(info.primary).toBe('H − I: accuracy, HOMO, ID and OOD pooled, paper protocol');
    expect(info.fitArm?.threshold).toBe(0.9);
    expect(info.notes.join(' ')).toMatch(/cannot reach α = 0\.05 with fewer than 6 seeds/);
    // The text is the CLI's plan.json: the CLI's reader takes it, and it hashes to the id it is kept under.
    expect(info.json).toBe(planJson(plan));
    expect(await planHash(await parsePlan(JSON.parse(info.json)))).toBe(info.planId);
    expect(await storePlan(store, plan, 'file')).toEqual(info);
    expect(await store.list('plans')).toHaveLength(1);
    expect(await planHash(await storedPlan(store, info.planId))).toBe(info.planId);
  });

  it('imports a plan.json; refuses one that is not JSON, not a plan, edited after it was frozen, or too large', async () => {
    const plan = await makePlan({ ...config, name: 'from-cli' });
    const info = await importPlan(store, 'plan.json', planJson(plan));
    expect(info.source).toBe('file');
    await expect(readPlanText('plan.json', '{"schema": ')).rejects.toMatchObject({ code: 'invalid-json', message: expect.stringMatching(/^plan\.json is not valid JSON/) });
    await expect(readPlanText('x.json', JSON.stringify({ hello: 1 }))).rejects.toMatchObject({ message: expect.stringMatching(/plan/) });
    const edited = { ...plan, config: { ...plan.config, training: { ...plan.config.training, epochs: 99 } } };
    await expect(readPlanText('plan.json', JSON.stringify(edited))).rejects.toMatchObject({ code: 'plan-tampered' });
    const seeds = { ...plan, seeds: [7] };
    await expect(readPlanText('plan.json', JSON.stringify(seeds))).rejects.toMatchObject({ code: 'plan-tampered' });
    await expect(readPlanText('big.json', ' '.repeat(2 ** 20 + 1))).rejects.toMatchObject({ code: 'file-too-large' });
    // A share link's plan must be the plan its result names (its hash), else it is not kept.
    const other = await makePlan({ ...config, name: 'linked' });
    await expect(importPlan(store, 'The plan in this link', planJson(other), info.hash)).rejects.toMatchObject({ code: 'plan-not-the-results' });
    expect((await store.list('plans')).map((r) => r.id)).not.toContain(await planHash(other));
    expect((await importPlan(store, 'The plan in this link', planJson(other), await planHash(other))).hash).toBe(await planHash(other));
  });

  it('a kept plan changed in the store, or one that is not kept, is refused before a run', async () => {
    await expect(storedPlan(store, 'f'.repeat(64))).rejects.toMatchObject({ code: 'no-plan' });
    const plan = await makePlan({ ...config, name: 'changed-later' });
    const info = await storePlan(store, plan, 'browser');
    const rec = (await store.get<PlanRecord & { [k: string]: unknown }>('plans', info.planId))!;
    // A plan re-frozen with other seeds, put under the first one's id: parsePlan takes it, its hash does not match.
    const other = await makePlan({ ...config, name: 'changed-later', seeds: [9] });
    await store.put('plans', { ...rec, info: { ...rec.info, json: planJson(other) } });
    await expect(storedPlan(store, info.planId)).rejects.toMatchObject({ code: 'plan-tampered' });
  });
});
