/** The results stored in this browser (store collection `runs`), newest first, with import and export. */
import { exportJson, parseImport, sortStored, toRecord, type BrokenRecord, type ImportRowError, type ResultRecord } from '../../share';
import { deleteRunData, storagePerRun } from '../../store/run-data';
import type { StoredRecord } from '../../store/types';
import { storeErrorText, storeState } from './store.svelte';

export interface ImportReport {
  added: number;
  errors: ImportRowError[];
  fatal: string | null;
}

class History {
  results = $state<ResultRecord[]>([]);
  /** Stored results that do not validate: listed with their issues and a delete button, never rendered. */
  broken = $state<BrokenRecord[]>([]);
  /** Runs without a finished result (a lab run in progress or abandoned). */
  others = $state<StoredRecord[]>([]);
  loading = $state(true);
  /** Bytes of checkpoints each run keeps (what deleting it frees). */
  bytes = $state<Map<string, number>>(new Map());
  error = $state<string | null>(null);

  async refresh(): Promise<void> {
    try {
      const store = await storeState.open();
      const all = await store.list('runs');
      all.sort((a, b) => b.createdAt - a.createdAt);
      const sorted = sortStored(all);
      this.results = sorted.results;
      this.broken = sorted.broken;
      this.others = sorted.others;
      this.bytes = await storagePerRun(store);
      this.error = null;
    } catch (e) {
      this.error = storeErrorText(e);
    } finally {
      this.loading = false;
      void storeState.refreshUsage();
    }
  }

  async remove(id: string): Promise<void> {
    const store = await storeState.open();
    // The run's checkpoints and adapters go with it (they are most of what a run takes).
    await deleteRunData(store, id);
    await this.refresh();
  }

  /** Stores every valid row; stops at the first store error (e.g. a full quota), keeping what was stored. */
  async importFile(text: string): Promise<ImportReport> {
    const parsed = parseImport(text);
    if (parsed.fatal) return { added: 0, errors: [], fatal: parsed.fatal };
    const store = await storeState.open();
    let added = 0;
    try {
      const now = Date.now();
      for (const [i, r] of parsed.results.entries()) {
        await store.put('runs', toRecord(r, 'file', now + i));
        added++;
      }
    } catch (e) {
      return { added, errors: parsed.errors, fatal: storeErrorText(e) };
    } finally {
      await this.refresh();
    }
    return { added, errors: parsed.errors, fatal: null };
  }

  exportText(records: ResultRecord[]): string {
    return exportJson(records.map((r) => r.result));
  }
}

export const history = new History();

/** Offers text or bytes as a file download. */
export function download(filename: string, data: string | Uint8Array, type = 'application/json'): void {
  const url = URL.createObjectURL(new Blob([data as string | Uint8Array<ArrayBuffer>], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
