/** The experiment in this tab: the probe, the datasets, and the training run with its live progress. */
import type { ConditionId, DatasetSummary, ExperimentOutcome, ProbeSummary, Progress, TrainConfig } from '../../worker/protocol';
import { CONDITIONS } from './forms.svelte';
import { toRecord } from '../../share';
import { history } from './history.svelte';
import { labCall } from './lab.svelte';
import { storeErrorText, storeState } from './store.svelte';

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

class Experiment {
  probe = $state<ProbeSummary | null>(null);
  datasets = $state<DatasetSummary | null>(null);
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

  onProgress(p: Progress): void {
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

  async start(train: TrainConfig, protocol: 'paper' | 'likeForLike'): Promise<void> {
    this.running = true;
    this.paused = false;
    this.error = null;
    this.live = emptyLive();
    this.abort = new AbortController();
    try {
      this.outcome = await labCall({ kind: 'experiment', train, protocol }, { onProgress: (p) => this.onProgress(p), signal: this.abort.signal });
      // The page keeps the result in History (the Worker need not know the record format).
      try {
        const store = await storeState.open();
        await store.put('runs', toRecord(this.outcome.result, 'lab'));
        await history.refresh();
      } catch (e) {
        this.error = Object.assign(new Error(`The run finished but was not saved: ${storeErrorText(e)}`), { advice: 'Export it from Results, or free space in History, then run again.' });
      }
    } catch (e) {
      this.error = e;
    } finally {
      this.running = false;
      this.paused = false;
      this.abort = null;
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
