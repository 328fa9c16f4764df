// The front page's estimate before the click (issue 26): made with the toy world, timed once and then kept
// (a second estimate reuses the timing), and never by replacing a model the student loaded.
import { describe, expect, it } from 'vitest';
import { TOY_WORLD_ID } from '../../../src/model/builtin';
import { TOY_EXPERIMENT } from '../../../src/worker/toy-defaults';
import { haveToyWorld, quietCtx as ctx, useToySession } from '../../helpers/toy-session';

const shrunk = { ...TOY_EXPERIMENT, splits: { ...TOY_EXPERIMENT.splits, caps: { train: 40, homo: 8, id: 8, ood: 8 } }, seeds: [1], training: { ...TOY_EXPERIMENT.training, epochs: 1 } };

describe.skipIf(!haveToyWorld)('estimate before the click', () => {
  const { session } = useToySession('ift-estimate-');

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
