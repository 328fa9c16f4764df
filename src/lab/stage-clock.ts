import type { Stage } from './estimate';
import type { ExperimentEvent } from './experiment.types';

/**
 * Measured seconds per stage from an experiment's event stream, for the manifest's estimate-vs-actual record:
 * the probe and baseline stages by their boundaries, training as the runs' own training time, evaluation as
 * the rest of the runs stage. `seconds` fills in as events arrive (pass it as ExperimentEnv.stageSeconds).
 */
export function stageClock(now: () => number = () => performance.now() / 1000): {
  onEvent(e: ExperimentEvent): void;
  seconds: Partial<Record<Stage, number>>;
} {
  const seconds: Partial<Record<Stage, number>> = {};
  let current: string | null = null;
  let since = 0;
  let training = 0;
  return {
    seconds,
    onEvent(e) {
      if (e.type === 'run-done' || e.type === 'share-run-done') {
        training += e.run.train.seconds;
        seconds.training = training;
      }
      if (e.type !== 'stage') return;
      const t = now();
      if (current === 'probe') seconds.probe = t - since;
      else if (current === 'baseline') seconds.baseline = t - since;
      else if (current === 'runs') seconds.evaluation = Math.max(0, t - since - training);
      current = e.stage;
      since = t;
    },
  };
}
