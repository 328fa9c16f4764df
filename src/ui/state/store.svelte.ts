/** The page's one connection to the lab's IndexedDB store, and the "another tab updated" signal. */
import { openIdbStore, requestPersistence, storageUsage } from '../../store/idb';
import { StorageFullError, type StorageUsage, type Store } from '../../store/types';

class StoreState {
  private opening: Promise<Store> | null = null;
  /** Another tab opened a newer database: this one closed its connection and should reload. */
  versionChanged = $state(false);
  usage = $state<StorageUsage | null>(null);

  open(): Promise<Store> {
    if (this.versionChanged) return Promise.reject(Object.assign(new Error('Another tab updated the lab, so this page closed its database.'), { advice: 'Reload this page to go on.' }));
    this.opening ??= openIdbStore({ onVersionChange: () => (this.versionChanged = true) });
    this.opening.catch(() => (this.opening = null));
    return this.opening;
  }

  async refreshUsage(): Promise<StorageUsage> {
    this.usage = await storageUsage();
    return this.usage;
  }

  async persist(): Promise<boolean> {
    const ok = await requestPersistence();
    await this.refreshUsage();
    return ok;
  }
}

export const storeState = new StoreState();

/** A message a user can act on, for any error from the store (StorageFullError keeps its own advice). */
export function storeErrorText(e: unknown): string {
  if (e instanceof StorageFullError) return `${e.message} ${e.advice}`;
  if (e && typeof e === 'object' && 'advice' in e && typeof e.advice === 'string') return `${(e as unknown as Error).message} ${e.advice}`;
  return e instanceof Error ? e.message : String(e);
}
