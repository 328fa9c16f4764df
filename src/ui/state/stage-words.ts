/**
 * What the Worker is doing, in words (issue 26): every page prints stages through this, never the Worker's
 * stage ids ("baseline", "train"), and says how far the stage is in its own unit.
 */
export const STAGE_WORDS: Record<string, string> = {
  questions: 'Loading the questions',
  probe: 'Probing what the model knows',
  datasets: 'Building the datasets',
  explanations: 'Writing explanations',
  baseline: 'Scoring the untuned model',
  train: 'Training',
  evaluate: 'Evaluating',
  'evaluate-epoch': 'Evaluating after each epoch',
  fit: 'Checking the fit',
  download: 'Loading the model',
  upload: 'Loading the model',
  estimate: 'Timing this device for an estimate',
  report: 'Writing the report (bootstrap intervals)',
  resume: 'Resuming the run',
};

export function stageWords(stage: string): string {
  return STAGE_WORDS[stage] ?? (stage ? stage[0].toUpperCase() + stage.slice(1) : '');
}

/** How far a stage is, in its unit: "120 of 464 questions", "step 3 of 60". Empty where there is no count. */
export function stageCount(stage: string, done: number, total: number): string {
  if (!(total > 0)) return '';
  if (stage === 'probe' || stage === 'baseline' || stage === 'evaluate') return `${done} of ${total} questions scored`;
  if (stage === 'train') return `step ${done} of ${total}`;
  if (stage === 'evaluate-epoch') return `epoch ${done} of ${total}`;
  return '';
}

/** "12 s", "4 min", "1.3 h". */
export function fmtDuration(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '–';
  return s < 90 ? `${Math.max(0, Math.round(s))} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
}

/**
 * The time left in words: one number where the estimate and the measured pace agree (within a third), else
 * the range between them around the blended reading.
 */
export function timeLeftWords(eta: number | null, lo: number | null, hi: number | null): string {
  if (eta === null) return 'time left: estimating';
  if (eta < 1) return 'almost done';
  if (lo !== null && hi !== null && hi > 1.33 * lo && hi - lo > 20) return `about ${fmtDuration(eta)} left (between ${fmtDuration(lo)} and ${fmtDuration(hi)})`;
  return `about ${fmtDuration(eta)} left`;
}
