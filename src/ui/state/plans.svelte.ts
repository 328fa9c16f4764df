/**
 * Pre-registered plans kept in this browser (store collection `plans`), newest first. The Worker freezes,
 * checks and stores them (src/worker/plans.ts); the page lists them, offers their plan.json and picks one to run under.
 */
import type { PlanInfo, PlanRecord, TrainSettings } from '../../worker/protocol';
import type { StoredRecord } from '../../store/types';
import { checkFileBytes } from '../../util/file-limits';
import { download } from './history.svelte';
import { labCall } from './lab.svelte';
import { storeErrorText, storeState } from './store.svelte';

/** A stored record the page can list (only the Worker writes them; anything else is skipped). */
const isPlan = (r: StoredRecord): r is StoredRecord & PlanRecord => {
  const i = (r as Partial<PlanRecord> | null)?.info;
  return (r as Partial<PlanRecord> | null)?.kind === 'plan' && typeof i?.hash === 'string' && typeof i.json === 'string' && Array.isArray(i.seeds) && Array.isArray(i.notes);
};

class Plans {
  list = $state<PlanInfo[]>([]);
  /** The plan the Train page runs under (the newest, until another is picked). */
  selectedId = $state<string | null>(null);
  busy = $state(false);
  error = $state<unknown>(null);
  /** What the last register or import did, in words. */
  told = $state<string | null>(null);

  get selected(): PlanInfo | null {
    return this.list.find((p) => p.planId === this.selectedId) ?? this.list[0] ?? null;
  }

  /** A page that shows plans starts without another page's last message. */
  clearNotes(): void {
    this.told = null;
    this.error = null;
  }

  async refresh(): Promise<void> {
    try {
      const store = await storeState.open();
      const all = (await store.list('plans')).filter(isPlan);
      this.list = all.sort((a, b) => b.createdAt - a.createdAt).map((r) => r.info);
    } catch (e) {
      this.error = storeErrorText(e);
    }
  }

  /** Freezes the Train page's configuration and seeds as a plan (the Worker's makePlan). */
  async register(train: TrainSettings, fitArm: boolean): Promise<void> {
    await this.keep(() => labCall({ kind: 'registerPlan', train, fitArm }), 'Registered');
  }

  /** Keeps a plan.json (the CLI's, or one downloaded here) once the Worker has checked it. */
  async importFile(file: File): Promise<void> {
    await this.keep(async () => {
      checkFileBytes(file.name, file.size, 'planBytes');
      return labCall({ kind: 'importPlan', filename: file.name, text: await file.text() });
    }, `Imported ${file.name}:`);
  }

  private async keep(make: () => Promise<PlanInfo>, verb: string): Promise<void> {
    this.busy = true;
    this.error = null;
    this.told = null;
    try {
      const info = await make();
      await this.refresh();
      this.selectedId = info.planId;
      this.told = `${verb} plan ${info.hash.slice(0, 12)}, frozen ${new Date(info.createdAt).toLocaleString()}.`;
    } catch (e) {
      this.error = e;
    } finally {
      this.busy = false;
    }
  }

  download(p: PlanInfo): void {
    download(`plan-${p.hash.slice(0, 12)}.json`, p.json);
  }
}

export const plans = new Plans();
