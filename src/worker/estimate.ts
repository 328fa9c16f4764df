/**
 * The Worker's `estimate` request: an experiment configuration's expected time per stage on this device,
 * before anything runs (src/lab/estimate.ts for the counted work, src/model/speed.ts for the timing).
 * The questions come from the configuration where the browser can reach them (the toy world, MMLU from the
 * Hub); a user's file arrives with the request, as for the probe.
 */
import { LabError } from '../lab/errors';
import type { RunEstimate } from '../lab/estimate';
import { parseExperimentConfig, type ExperimentConfig } from '../lab/experiment-config';
import type { EngineModel } from '../model/engine-model';
import { estimateExperiment } from '../lab/estimate';
import type { Store } from '../store/types';
import { loadSource } from './bank';
import type { EstimateOutcome, QuestionSource } from './protocol';
import { cachedSpeed } from './speed-cache';
import type { Ctx } from './session-records';

/** The protocol's question source for a configuration's `questions`, where the browser can load it. */
export function sourceOfConfig(c: ExperimentConfig): QuestionSource {
  const q = c.questions;
  if (q.kind === 'toyworld') return { type: 'toyworld', seed: q.seed };
  if (q.kind === 'mmlu-hub') {
    const related = Array.isArray(c.subjects.related) ? c.subjects.related : [];
    return { type: 'mmlu', subjects: [...new Set([...c.subjects.train, ...related])] };
  }
  throw new LabError(
    'estimate-source',
    `The browser cannot read ${q.kind === 'file' ? `the file ${q.path}` : `the MMLU folder ${q.path}`} named in the configuration.`,
    'Choose the file on the page (it is sent with the request), or use MMLU from the Hub or the toy world.',
  );
}

export async function estimateRequest(
  req: { config: unknown; source?: QuestionSource },
  deps: { model(id: string, ctx: Ctx): Promise<EngineModel>; worldJson(): Promise<unknown>; store?: Store },
  ctx: Ctx,
): Promise<EstimateOutcome> {
  const config = parseExperimentConfig(req.config);
  const src = await loadSource(req.source ?? sourceOfConfig(config), config.probe.shots, { worldJson: deps.worldJson, signal: ctx.signal });
  const model = await deps.model(config.model.id, ctx);
  ctx.progress({ stage: 'estimate', done: 0, total: 1, detail: 'timing a few scoring calls and LoRA steps on this device' });
  let timed = { measuredAt: Date.now(), cached: false };
  const e: RunEstimate = await estimateExperiment(model, config, src.bank, async (shapes) => {
    const r = await cachedSpeed(deps.store ?? null, model, shapes);
    timed = { measuredAt: r.measuredAt, cached: r.cached };
    return r.speed;
  });
  ctx.progress({ stage: 'estimate', done: 1, total: 1 });
  return { ...e, ...timed };
}
