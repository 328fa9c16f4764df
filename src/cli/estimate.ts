/**
 * `ift-lab estimate <config.json>`: the grid's counted work (src/lab/estimate.ts) and this device's speed on
 * the model's shapes (src/model/speed.ts), printed as expected time per stage; and the same estimate before
 * `ift-lab experiment`, with a stage clock so that the manifest records estimate and actual side by side.
 */
import { readJsonText } from './files';
import { parseJsonText } from '../lab/errors';
import { formatDuration, formatEstimate, type RunEstimate } from '../lab/estimate';
import { stageClock } from '../lab/stage-clock';
import { parseExperimentConfig, type ExperimentConfig, type QuestionBank } from '../lab/experiment';
import type { EngineModel } from '../model/engine-model';
import { estimateExperiment } from '../lab/estimate';
import { measureSpeed } from '../model/speed';
import { loadBank } from './bank';
import { createModel } from './models';
import type { DeviceChoice } from '../engine/backend';

interface Io {
  out(s: string): void;
  err(s: string): void;
}

/** A configuration file, parsed and validated (every problem with its path). */
/** The configuration with --device applied over its own `device` (absent: the configuration's). */
export function withDevice(config: ExperimentConfig, device?: DeviceChoice): ExperimentConfig {
  return device ? { ...config, device } : config;
}

export function readConfig(file: string): ExperimentConfig {
  const text = readJsonText(file, 2 ** 20, 'The configuration');
  return parseExperimentConfig(parseJsonText(file, text, 'Fix the syntax; examples/ has valid configurations.'));
}

/** The `estimate` command (errors are thrown; the caller reports them like every command's). */
export async function estimateCommand(file: string, io: Io, device?: DeviceChoice): Promise<number> {
  const config = withDevice(readConfig(file), device);
  const bank = await loadBank(config);
  io.err(`[load] ${bank.pool.length} questions, ${bank.fewShot.length} few-shot examples`);
  const model = await createModel(config, (s) => io.err(`[model] ${s}`));
  try {
    io.err('[estimate] timing a few scoring calls and LoRA steps on this device…');
    const e = await estimateExperiment(model, config, bank, (shapes) => measureSpeed(model, shapes));
    io.out(`Estimate for ${config.name} (${config.model.id}, ${model.precision} weights):`);
    for (const line of formatEstimate(e)) io.out(`  ${line}`);
    return 0;
  } finally {
    model.dispose();
  }
}

/**
 * Before `ift-lab experiment`: the estimate (printed), a stage clock to feed with the run's events, and the
 * ExperimentEnv fields that carry both (and the weights' precision) into the manifest.
 */
export async function estimateBeforeRun(model: EngineModel, config: ExperimentConfig, bank: QuestionBank, io: Io, enabled = true) {
  const estimate: RunEstimate | null = enabled ? await estimateExperiment(model, config, bank, (shapes) => measureSpeed(model, shapes)) : null;
  for (const line of estimate ? formatEstimate(estimate) : []) io.err(`[estimate] ${line}`);
  const clock = stageClock();
  return {
    clock,
    env: { estimate, stageSeconds: clock.seconds, precision: { used: model.precision, reason: model.precisionReason } },
    /** After the run: actual ÷ estimate, from the manifest's timing record. */
    report(timing: { actualSeconds: number; ratio: number | null }) {
      if (timing.ratio !== null) io.err(`[estimate] actual ${formatDuration(timing.actualSeconds)} = ${timing.ratio.toFixed(2)} × the estimate (manifest.json: timing)`);
    },
  };
}
