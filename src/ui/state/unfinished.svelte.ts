/**
 * Runs a reload, a closed tab or a cancel cut off (issue 26): what each kept, in words, for the pages that
 * offer Resume (the front page, Train, History). Read from the store the Worker writes: the run's record in
 * `runs` and its progress beside its checkpoints.
 */
import type { StoredRecord } from '../../store/types';
import { conditionLabel } from '../../util/condition-names';
import { history } from './history.svelte';
import { storeState } from './store.svelte';

export interface UnfinishedRun {
  id: string;
  createdAt: number;
  /** Which design: the Ren conditions, or the Unknown-share design. */
  design: 'ren' | 'share';
  /** Started from the front page's one click (else from the Train page). */
  oneClick: boolean;
  status: 'interrupted' | 'cancelled' | 'failed';
  error?: string;
  /** Training runs finished, of the grid's total. */
  done: number;
  total: number;
  /** What the run kept, in words ("the probe, the datasets, the untuned model's scores, 1 of 4 training runs"). */
  kept: string;
  /** The names of the grid's conditions (or shares), in the order the Worker's progress indexes them. */
  names: string[];
  /** "Ren design (4 conditions × 1 seed), started 7 Dec, 14:02". */
  title: string;
}

interface RunRec extends StoredRecord {
  kind: 'lab-run';
  status: string;
  error?: string;
  input?: { unknownShare?: unknown };
  config?: { conditions?: string[]; ratios?: number[]; seeds?: number[]; unknownShare?: { shares: number[] } };
}
interface ProgressRec extends StoredRecord {
  progress?: { probe?: unknown; datasets?: unknown; base?: Record<string, unknown>; runs?: unknown[]; shareRuns?: unknown[] };
}

const when = (ms: number) => new Date(ms).toLocaleString(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });

class Unfinished {
  runs = $state<UnfinishedRun[]>([]);

  async refresh(): Promise<void> {
    await history.refresh();
    const store = await storeState.open();
    const out: UnfinishedRun[] = [];
    for (const r of history.others as RunRec[]) {
      if (r.kind !== 'lab-run' || !r.config) continue;
      const c = r.config;
      const p = (await store.get<ProgressRec>('checkpoints', `${r.id}#progress`).catch(() => undefined))?.progress;
      const share = !!c.unknownShare;
      const seeds = c.seeds?.length ?? 1;
      const names = share
        ? (c.unknownShare?.shares ?? []).map((x) => `${Math.round(100 * x)} % unknown`)
        : (c.conditions ?? []).flatMap((k) => (k === 'mixture' ? (c.ratios ?? []).map((x) => `Mixture r = ${x}`) : [conditionLabel(k)]));
      const total = names.length * seeds;
      const done = (share ? p?.shareRuns : p?.runs)?.length ?? 0;
      const kept = [
        p?.probe ? 'the probe' : '',
        p?.datasets ? 'the datasets' : '',
        p?.base && Object.keys(p.base).length ? 'the untuned model’s scores' : '',
        `${done} of ${total} training run${total === 1 ? '' : 's'}`,
      ].filter(Boolean);
      const keptWords = kept.length > 1 ? `${kept.slice(0, -1).join(', ')} and ${kept.at(-1)}` : kept[0];
      const design = share ? `Unknown-share design (${names.length} shares × ${seeds} seed${seeds === 1 ? '' : 's'})` : `Ren design (${names.length} condition${names.length === 1 ? '' : 's'} × ${seeds} seed${seeds === 1 ? '' : 's'})`;
      out.push({
        id: r.id,
        createdAt: r.createdAt,
        design: share ? 'share' : 'ren',
        oneClick: !!r.input,
        status: r.status === 'cancelled' ? 'cancelled' : r.status === 'failed' ? 'failed' : 'interrupted',
        ...(r.error ? { error: r.error } : {}),
        done,
        total,
        kept: `${keptWords}${done < total ? ' (and the current run’s last checkpoint, if it reached one)' : ''}`,
        names,
        title: `${design}, started ${when(r.createdAt)}`,
      });
    }
    this.runs = out;
  }
}

export const unfinished = new Unfinished();

/** "stopped (the page was reloaded or closed)", "cancelled", "failed". */
export function statusWords(u: UnfinishedRun): string {
  return u.status === 'interrupted' ? 'stopped when the page was reloaded or closed' : u.status === 'cancelled' ? 'cancelled' : `stopped by an error${u.error ? ` (${u.error})` : ''}`;
}
