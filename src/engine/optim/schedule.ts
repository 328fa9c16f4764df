/**
 * Learning-rate schedules with linear warm-up, as Hugging Face transformers' get_*_schedule_with_warmup
 * (LambdaLR multipliers times the peak). `step` is the number of optimizer steps already taken (0 for the
 * first update, as LambdaLR's last_epoch), so the first update of a warm-up runs at lr 0 — like HF.
 */
export type ScheduleKind = 'constant' | 'linear' | 'cosine';

export interface Schedule {
  kind: ScheduleKind;
  warmupSteps: number;
  peak: number;
}

export function learningRateAt(step: number, totalSteps: number, s: Schedule): number {
  const { warmupSteps: w, peak } = s;
  if (step < w) return (peak * step) / Math.max(1, w);
  switch (s.kind) {
    case 'constant':
      return peak;
    case 'linear':
      return peak * Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - w));
    case 'cosine': {
      // num_cycles = 0.5: half a cosine from peak to 0.
      const progress = (step - w) / Math.max(1, totalSteps - w);
      return peak * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * 2 * 0.5 * progress)));
    }
  }
}
