/** The experiment in this tab: the probe, the datasets, and the training run with its live progress. */
import type { ConditionId, DatasetSummary, ExperimentOutcome, LabRequestOf, ProbeSummary, Progress, TrainSettings } from '../../worker/protocol';
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
  gpuBytes: number | null;
  step: number;
  totalSteps: number;
  condition: number;
}

const emptyLive = (): LiveRun => ({ steps: [], loss: [], lr: [], tokensPerSec: null, etaSec: null, gpuBytes: null, step: 0, totalSteps: 0, condition: 0 });

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
    this.stage = p.detail ? `${p.stage} — ${p.detail}` : p.stage;
    const m = p.metrics ?? {};
    const l = this.live;
    if (m.step !== undefined && m.loss !== undefined) {
      l.steps.push(l.steps.length);
      l.loss.push(m.loss);
      l.lr.push(m.lr ?? NaN);
    }
    if (m.tokensPerSec !== undefined) l.tokensPerSec = m.tokensPerSec;
    if (m.etaSec !== undefined) l.etaSec = m.etaSec;
    if (m.gpuBytes !== undefined) l.gpuBytes = m.gpuBytes;
    if (m.step !== undefined) l.step = m.step;
    if (m.totalSteps !== undefined) l.totalSteps = m.totalSteps;
    if (m.condition !== undefined) l.condition = m.condition;
  }

  start(train: TrainSettings, protocol: 'paper' | 'likeForLike'): Promise<void> {
    return this.run({ kind: 'experiment', train, protocol });
  }

  /** Continue a stored run that a reload (or a cancel) cut off, from its last checkpoint. */
  resume(runId: string): Promise<void> {
    return this.run({ kind: 'resumeExperiment', runId });
  }

  private async run(request: LabRequestOf<'experiment'> | LabRequestOf<'resumeExperiment'>): Promise<void> {
    this.running = true;
    this.paused = false;
    this.error = null;
    this.live = emptyLive();
    this.abort = new AbortController();
    try {
      const opts = { onProgress: (p: Progress) => this.onProgress(p), signal: this.abort.signal };
      this.outcome = request.kind === 'experiment' ? await labCall(request, opts) : await labCall(request, opts);
      // The Worker stored the run (one record under its id, with the lab's whole result): History shows it.
      await history.refresh().catch(() => undefined);
    } catch (e) {
      this.error = e;
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
