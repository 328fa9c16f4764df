// The front page's estimate before the click (issue 26): made with the toy world, timed once and then kept
// (a second estimate reuses the timing), and never by replacing a model the student loaded.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TOY_WORLD_ID } from '../../../src/model/builtin';
import { Session } from '../../../src/worker/session';
import { TOY_EXPERIMENT } from '../../../src/worker/toy-defaults';
import { openFsStore } from '../../helpers/fs-store';
import { haveToyWorld, toySessionDeps } from '../../helpers/toy-session';

const ctx = () => ({ progress: () => {}, signal: new AbortController().signal });
const shrunk = { ...TOY_EXPERIMENT, splits: { ...TOY_EXPERIMENT.splits, caps: { train: 40, homo: 8, id: 8, ood: 8 } }, seeds: [1], training: { ...TOY_EXPERIMENT.training, epochs: 1 } };

describe.skipIf(!haveToyWorld)('estimate before the click', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ift-estimate-'));
  const store = openFsStore(dir);
  const session = new Session(toySessionDeps(store));
  afterAll(() => {
    session.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('times the device once, then reuses the timing; refuses to replace another loaded model', { timeout: 120_000 }, async () => {
    const first = await session.estimate({ config: shrunk, keepLoaded: true }, ctx());
    expect(first.cached).toBe(false);
    expect(first.totalSeconds).toBeGreaterThan(0);
    const again = await session.estimate({ config: shrunk, keepLoaded: true }, ctx());
    expect(again.cached).toBe(true);
    expect(again.measuredAt).toBe(first.measuredAt);
    expect(again.totalSeconds).toBeCloseTo(first.totalSeconds, 6);
    // Another model loaded: the front page's request is refused, the model stays.
    await expect(session.estimate({ config: { ...shrunk, model: { id: 'someone/else' } }, keepLoaded: true }, ctx())).rejects.toMatchObject({ code: 'estimate-other-model' });
    expect((await session.loadModel(TOY_WORLD_ID, 'main', ctx())).id).toBe(TOY_WORLD_ID);
  });
});
