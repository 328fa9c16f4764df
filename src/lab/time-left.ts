/**
 * How far an experiment is and how long it has left, from its event stream and its estimate (issue 26).
 *
 * The fraction done is counted in the estimate's seconds: each stage weighs what the estimate gave it
 * (probe, baseline, training, evaluation), and within a stage the work done counts by its own measure
 * (questions scored of total, optimizer steps of a run, runs of the grid). The time left is the estimate of
 * the work still to do, scaled by how long the work done since this session started took against its
 * estimate; the scale is trusted as much as the share of the work already done (none at the start: the
 * estimate; all at the end: the measured pace), so it converges instead of jumping. `lo` and `hi` are the two
 * pure readings (the estimate alone, the measured pace alone): the page shows a range while they disagree.
 */
import type { RunEstimate } from './estimate';
import type { ExperimentEvent } from './experiment';

export interface TimeLeft {
  /** Share of the whole experiment done, in estimated seconds (0–1). */
  fraction: number;
  /** Seconds left (null until there is an estimate or enough measured work). */
  etaSec: number | null;
  /** The estimate alone and the measured pace alone, smaller first (null as etaSec). */
  lo: number | null;
  hi: number | null;
}

type Weights = { probe: number; baseline: number; training: number; evaluation: number; report: number };

export class RunClock {
  private readonly w: Weights;
  private readonly total: number;
  private readonly hasEstimate: boolean;
  private probe = 0;
  private baseline = 0;
  /** The report stage: every run is done. */
  private runsDone = false;
  /** The report itself is written. */
  private reportDone = false;
  private runTotal = 1;
  private runTrain = 0;
  private runEval = 0;
  private runIndex = 0;
  private start: { t: number; f: number } | null = null;
  /** Seconds spent paused since the start (not work). */
  private pausedSec = 0;
  private pausedAt: number | null = null;

  constructor(
    // An estimate stored before the report had a stage of its own has no `report`.
    estimate: { seconds: Omit<RunEstimate['seconds'], 'report'> & { report?: number } } | null,
    private readonly now: () => number = () => performance.now() / 1000,
  ) {
    this.hasEstimate = !!estimate && Object.values(estimate.seconds).some((s) => s > 0);
    // Without an estimate every stage weighs the same share of a nominal run (the pace alone then times it).
    this.w = this.hasEstimate ? { ...estimate!.seconds, report: estimate!.seconds.report ?? 0 } : { probe: 1, baseline: 1, training: 6, evaluation: 2, report: 1 };
    this.total = Math.max(1e-9, this.w.probe + this.w.baseline + this.w.training + this.w.evaluation + this.w.report);
  }

  /** Pausing stops the clock (paused time is not work). */
  pause(on: boolean): void {
    const t = this.now();
    if (on && this.pausedAt === null) this.pausedAt = t;
    if (!on && this.pausedAt !== null) {
      this.pausedSec += t - this.pausedAt;
      this.pausedAt = null;
    }
  }

  onEvent(e: ExperimentEvent): void {
    const before = this.fraction();
    const firstStep = (e.type === 'train' || e.type === 'share-train') && e.event.type === 'step' && (e.index !== this.runIndex || this.runTrain === 0);
    this.apply(e);
    const f = this.fraction();
    // Work a resume restored (the probe, the baseline, finished runs, a run's steps before its checkpoint)
    // arrives as a jump without time spent on it: the pace is measured from after it.
    const restored = f - before > 0.01 && (e.type === 'stage' || e.type === 'run-start' || (firstStep && e.event.type === 'step' && e.event.step > 1));
    if (!this.start || restored) this.start = { t: this.now(), f };
  }

  private apply(e: ExperimentEvent): void {
    const frac = (d: number, t: number) => (t > 0 ? Math.min(1, Math.max(0, d / t)) : 0);
    if (e.type === 'stage') {
      if (e.stage === 'datasets' || e.stage === 'explanations' || e.stage === 'baseline') this.probe = 1;
      if (e.stage === 'runs') this.probe = this.baseline = 1;
      if (e.stage === 'report') {
        this.probe = this.baseline = 1;
        this.runsDone = true;
      }
    } else if (e.type === 'progress') {
      if (e.stage === 'probe') this.probe = frac(e.done, e.total);
      else if (e.stage === 'baseline') this.baseline = frac(e.done, e.total);
      else if (e.stage === 'evaluate') this.runEval = frac(e.done, e.total);
    } else if (e.type === 'run-start') {
      this.enterRun(e.index, e.total);
    } else if (e.type === 'train' || e.type === 'share-train') {
      this.enterRun(e.index, e.total);
      if (e.event.type === 'step') {
        this.runTrain = frac(e.event.step, e.event.totalSteps);
        // The Unknown-share design evaluates after every epoch: its evaluation keeps pace with training.
        if (e.type === 'share-train') this.runEval = this.runTrain;
      }
    } else if (e.type === 'run-done' || e.type === 'share-run-done') {
      this.enterRun(e.index, e.total);
      this.runTrain = this.runEval = 1;
    }
  }

  private enterRun(index: number, total: number): void {
    this.probe = this.baseline = 1;
    this.runTotal = Math.max(1, total);
    if (index !== this.runIndex) {
      this.runIndex = index;
      this.runTrain = this.runEval = 0;
    }
  }

  /** Share done, in estimated seconds. */
  fraction(): number {
    const w = this.w;
    const perRun = (w.training * this.runTrain + w.evaluation * this.runEval) / this.runTotal;
    // Runs are trained in grid order, skipping the finished ones: every run before this one is done.
    const runsDone = this.runsDone ? w.training + w.evaluation : ((w.training + w.evaluation) * this.runIndex) / this.runTotal + perRun;
    return Math.min(1, (w.probe * this.probe + w.baseline * this.baseline + runsDone + (this.reportDone ? w.report : 0)) / this.total);
  }

  read(): TimeLeft {
    const f = this.fraction();
    const start = this.start ?? { t: this.now(), f };
    const paused = this.pausedSec + (this.pausedAt !== null ? this.now() - this.pausedAt : 0);
    const spent = Math.max(0, this.now() - start.t - paused);
    const doneHere = f - start.f;
    const byEstimate = this.hasEstimate ? (1 - f) * this.total : null;
    // The measured pace: seconds per unit of fraction, once a little work (1 % of the run, or 2 s) is behind it.
    const byPace = doneHere > 0.01 && spent > 2 ? ((1 - f) * spent) / doneHere : null;
    if (byEstimate === null && byPace === null) return { fraction: f, etaSec: null, lo: null, hi: null };
    if (byEstimate === null || byPace === null) {
      const v = (byEstimate ?? byPace)!;
      return { fraction: f, etaSec: v, lo: v, hi: v };
    }
    // Trust the pace as much as the share of this session's work already done.
    const trust = Math.min(1, doneHere / Math.max(1e-9, 1 - start.f));
    const eta = (1 - trust) * byEstimate + trust * byPace;
    return { fraction: f, etaSec: eta, lo: Math.min(byEstimate, byPace), hi: Math.max(byEstimate, byPace) };
  }
}
