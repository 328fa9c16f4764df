/** The experiment in this tab: the probe, the datasets, and the training run with its live progress. */
import type { ConditionId, DatasetSummary, ExperimentConfigInput, ExperimentOutcome, LabRequestOf, ProbeSummary, Progress, TrainSettings, UnderPlan } from '../../worker/protocol';
import { CONDITIONS } from './forms.svelte';
import { history } from './history.svelte';
import { labCall } from './lab.svelte';

export interface PlannedDataset {
  key: string;
  condition: ConditionId;
  ratio: number | null;
  label: string;
}

/** Every live number of the run; arrays grow by one per optimizer step. */
export interface LiveRun {
  steps: number[];
  loss: number[];
  lr: number[];
  tokensPerSec: number | null;
  etaSec: number | null;
  /** The two pure readings of the time left (the estimate alone, the measured pace alone). */
  etaLo: number | null;
  etaHi: number | null;
  /** Share of the whole run done, in estimated seconds (the Worker's run clock, src/lab/time-left.ts). */
  fraction: number;
  /** The current stage's own count (questions scored, steps) and its total. */
  stageDone: number;
  stageTotal: number;
  /** The Worker's estimate of the whole run, made before it started (seconds). */
  estimateSec: number | null;
  gpuBytes: number | null;
  step: number;
  totalSteps: number;
  condition: number;
  /** Index of the current run in the grid of conditions × seeds, and the grid's size. */
  run: number;
  runs: number;
  /** Runs finished (trained and evaluated). */
  runsDone: number;
  /** One loss curve per run (condition × seed), each from step 0. */
  curves: RunCurve[];
  /** Training fit of every finished run. */
  fits: { condition: number; seed: number; before: number; after: number; underTrained: boolean }[];
}

export interface RunCurve {
  key: string;
  condition: number;
  seed: number;
  loss: number[];
}

const emptyLive = (): LiveRun => ({ steps: [], loss: [], lr: [], tokensPerSec: null, etaSec: null, etaLo: null, etaHi: null, fraction: 0, stageDone: 0, stageTotal: 0, estimateSec: null, gpuBytes: null, step: 0, totalSteps: 0, condition: 0, run: 0, runs: 0, runsDone: 0, curves: [], fits: [] });

/** The probe and datasets of this experiment survive a reload (the Worker keeps their data in IndexedDB). */
const SAVED = 'ift-lab:experiment';
function saved(): { probe: ProbeSummary | null; datasets: DatasetSummary | null } {
  try {
    const v = JSON.parse(globalThis.localStorage?.getItem(SAVED) ?? 'null');
    return { probe: v?.probe ?? null, datasets: v?.datasets ?? null };
  } catch {
    return { probe: null, datasets: null };
  }
}

class Experiment {
  #probe = $state<ProbeSummary | null>(saved().probe);
  #datasets = $state<DatasetSummary | null>(saved().datasets);
  get probe(): ProbeSummary | null {
    return this.#probe;
  }
  set probe(v: ProbeSummary | null) {
    this.#probe = v;
    this.save();
  }
  get datasets(): DatasetSummary | null {
    return this.#datasets;
  }
  set datasets(v: DatasetSummary | null) {
    this.#datasets = v;
    this.save();
  }
  private save(): void {
    try {
      globalThis.localStorage?.setItem(SAVED, JSON.stringify({ probe: this.#probe, datasets: this.#datasets }));
    } catch {
      // Storage denied: the state lives as long as the tab.
    }
  }
  outcome = $state<ExperimentOutcome | null>(null);
  running = $state(false);
  paused = $state(false);
  error = $state<unknown>(null);
  live = $state<LiveRun>(emptyLive());
  private abort: AbortController | null = null;

  /**
   * The datasets the forms describe, in training order. A mixture with r = 0 is Incompatible and one with
   * r = 1 is Self-aligning: when those conditions are trained anyway, the sweep reuses them.
   */
  plan(conditions: ConditionId[], ratios: number[]): PlannedDataset[] {
    const out: PlannedDataset[] = [];
    const same = (r: number) => (r === 0 && conditions.includes('incompatible')) || (r === 1 && conditions.includes('selfAligning'));
    for (const c of CONDITIONS) {
      if (!conditions.includes(c.id)) continue;
      if (c.id !== 'mixture') {
        out.push({ key: c.id, condition: c.id, ratio: null, label: c.label });
        continue;
      }
      for (const r of ratios) if (!same(r)) out.push({ key: `mixture:${r}`, condition: 'mixture', ratio: r, label: `Mixture r = ${r}` });
    }
    return out;
  }

  /** What the Worker is doing now (probe, baseline, train, evaluate), in words. */
  stage = $state('');

  onProgress(p: Progress): void {
    const m = p.metrics ?? {};
    // A run's condition by its name (the detail is the lab's run id, e.g. "incompatible-s1").
    const name = m.condition !== undefined ? this.conditionNames[m.condition] : undefined;
    const what = name ? `${name}${m.seed !== undefined ? `, seed ${m.seed}` : ''}` : p.detail;
    this.stage = what ? `${p.stage} — ${what}` : p.stage;
    const l = this.live;
    if (m.step !== undefined && m.loss !== undefined) {
      // The current run's curve (loss and learning rate), restarted with every run.
      if (m.run !== undefined && m.run !== l.run) {
        l.steps = [];
        l.loss = [];
        l.lr = [];
      }
      l.steps.push(l.steps.length);
      l.loss.push(m.loss);
      l.lr.push(m.lr ?? NaN);
      const key = `${m.run ?? 0}`;
      let c = l.curves.find((x) => x.key === key);
      if (!c) {
        c = { key, condition: m.condition ?? 0, seed: m.seed ?? 0, loss: [] };
        l.curves.push(c);
      }
      c.loss.push(m.loss);
    }
    if ((p.stage === 'evaluate' || p.stage === 'evaluate-epoch') && m.run !== undefined && m.fitAfter !== undefined) {
      l.runsDone = Math.max(l.runsDone, m.run + 1);
      l.fits.push({ condition: m.condition ?? 0, seed: m.seed ?? 0, before: m.fitBefore ?? NaN, after: m.fitAfter, underTrained: m.underTrained === 1 });
    }
    if (m.run !== undefined) l.run = m.run;
    if (m.runs !== undefined) l.runs = m.runs;
    if (m.tokensPerSec !== undefined) l.tokensPerSec = m.tokensPerSec;
    if (m.etaSec !== undefined) l.etaSec = m.etaSec;
    if (m.etaLo !== undefined) l.etaLo = m.etaLo;
    if (m.etaHi !== undefined) l.etaHi = m.etaHi;
    if (m.fraction !== undefined) l.fraction = m.fraction;
    l.stageDone = p.done;
    l.stageTotal = p.total;
    this.etaAt = Date.now();
    if (m.estimateSec !== undefined) l.estimateSec = m.estimateSec;
    if (m.gpuBytes !== undefined) l.gpuBytes = m.gpuBytes;
    if (m.step !== undefined) l.step = m.step;
    if (m.totalSteps !== undefined) l.totalSteps = m.totalSteps;
    if (m.condition !== undefined) l.condition = m.condition;
  }

  /** Names of the conditions in training order (the progress metric `condition` indexes them). */
  conditionNames = $state<string[]>([]);
  /** When the last time left arrived (ms): the page counts it down between messages. */
  etaAt = $state(0);
  /** How the last run ended when it did not finish: cancelled by the student, or an error. */
  ended = $state<{ runId: string | null; how: 'cancelled' | 'failed' } | null>(null);
  /** The stored run this page is driving (its id arrives with the first progress, or with a resume). */
  runId = $state<string | null>(null);
  /** When this run started (ms), for the elapsed time. */
  startedAt = $state(0);

  /** Under a plan, the Worker refuses settings that are not the plan's; the result is then confirmatory. */
  start(train: TrainSettings, protocol: 'paper' | 'likeForLike', names: string[] = [], plan?: UnderPlan): Promise<void> {
    this.conditionNames = names;
    return this.run({ kind: 'experiment', train, protocol, ...(plan ? { plan } : {}) });
  }

  /** The whole experiment from one configuration (the front page's one click). */
  runConfig(config: ExperimentConfigInput, names: string[]): Promise<void> {
    this.conditionNames = names;
    return this.run({ kind: 'runConfig', config });
  }

  /** Continue a stored run that a reload (or a cancel) cut off, from its last checkpoint. */
  resume(runId: string, names: string[] = []): Promise<void> {
    this.conditionNames = names;
    this.runId = runId;
    return this.run({ kind: 'resumeExperiment', runId });
  }

  private async run(request: LabRequestOf<'experiment'> | LabRequestOf<'resumeExperiment'> | LabRequestOf<'runConfig'>): Promise<void> {
    this.running = true;
    this.startedAt = Date.now();
    this.paused = false;
    this.error = null;
    this.ended = null;
    this.live = emptyLive();
    this.abort = new AbortController();
    try {
      const opts = { onProgress: (p: Progress) => this.onProgress(p), signal: this.abort.signal };
      this.outcome = request.kind === 'experiment' ? await labCall(request, opts) : request.kind === 'runConfig' ? await labCall(request, opts) : await labCall(request, opts);
      // One state: a one-click run's probe and datasets are the step pages' from now on.
      if (this.outcome.steps) {
        this.probe = this.outcome.steps.probe;
        if (this.outcome.steps.datasets) this.datasets = this.outcome.steps.datasets;
      }
      // The Worker stored the run (one record under its id, with the lab's whole result): History shows it.
      await history.refresh().catch(() => undefined);
    } catch (e) {
      this.error = e;
      this.ended = { runId: this.runId, how: (e as { name?: string })?.name === 'CancelledError' || (e as { code?: string })?.code === 'cancelled' ? 'cancelled' : 'failed' };
      // The cut-off run is stored with what it kept: the pages offer to resume it.
      await history.refresh().catch(() => undefined);
    } finally {
      this.running = false;
      this.paused = false;
      this.abort = null;
      this.stage = '';
    }
  }

  async pause(on: boolean): Promise<void> {
    try {
      this.paused = (await labCall({ kind: 'trainControl', action: on ? 'pause' : 'resume' })).paused;
    } catch (e) {
      this.error = e;
    }
  }

  cancel(): void {
    this.abort?.abort();
  }
}

export const experiment = new Experiment();
