/** One storage interface for the lab: IndexedDB in the browser (idb.ts), files in Node (fs.ts). */
import { AdvisedError } from '../util/errors';

/** `plans`: pre-registered plans (src/lab/plan.ts), frozen before the runs they govern (schema v2). */
export const COLLECTIONS = ['runs', 'probes', 'datasets', 'adapters', 'checkpoints', 'settings', 'plans'] as const;
export type Collection = (typeof COLLECTIONS)[number];

/** Every stored record has a string id and a creation time; the rest is the collection's own data. */
export interface StoredRecord {
  id: string;
  createdAt: number;
  /** Checkpoints and adapters belong to a run. */
  runId?: string;
  [key: string]: unknown;
}

export interface StorageUsage {
  /** Bytes used by this origin (all storage), when the browser says. */
  usage: number | null;
  /** Bytes this origin may use, when the browser says. */
  quota: number | null;
  /** Whether the browser granted persistent storage (not evicted under pressure). */
  persisted: boolean | null;
}

export interface Store {
  put<T extends StoredRecord>(collection: Collection, value: T): Promise<void>;
  get<T extends StoredRecord>(collection: Collection, id: string): Promise<T | undefined>;
  /** All records, oldest first; or those of one run. */
  list<T extends StoredRecord>(collection: Collection, query?: { runId?: string }): Promise<T[]>;
  /** The ids of a collection, sorted; or those starting with `prefix` (without reading the records). */
  keys(collection: Collection, query?: { prefix?: string }): Promise<string[]>;
  delete(collection: Collection, id: string): Promise<void>;
  clear(collection: Collection): Promise<void>;
  usage(): Promise<StorageUsage>;
  close(): void;
}

export class StorageFullError extends Error {
  readonly code = 'storage-full';
  constructor(
    readonly usage: StorageUsage,
    what: string,
  ) {
    const mb = (n: number | null) => (n === null ? '?' : (n / 2 ** 20).toFixed(1));
    super(`Storage is full: could not save ${what} (${mb(usage.usage)} MB used of ${mb(usage.quota)} MB).`);
    this.name = 'StorageFullError';
  }
  get advice(): string {
    return 'Nothing already stored was changed. Delete old runs in History (that frees their checkpoints and adapters; History shows what each takes), or export them first, then try again.';
  }
}

export class StorageBlockedError extends AdvisedError {
  constructor() {
    super('storage-blocked', 'The lab database is held open by another tab with an older version.', 'Another tab of IFT Lab holds an older version of the database open. Close or reload the other tabs.');
    this.name = 'StorageBlockedError';
  }
}

/** This connection closed itself so that another tab could upgrade the database; this tab must reload. */
export class StorageUpgradedError extends AdvisedError {
  constructor() {
    super(
      'storage-upgraded',
      'The lab database was upgraded by a newer version of IFT Lab in another tab, so this tab can no longer read or write it.',
      'Reload this tab: another tab opened a newer version of IFT Lab and upgraded the database. Stored runs and checkpoints are kept, so a run can resume after the reload.',
    );
    this.name = 'StorageUpgradedError';
  }
}
