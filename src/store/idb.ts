/** The browser's store: IndexedDB through idb, schema versioned with explicit upgrade steps. */
import { openDB, type IDBPDatabase, type IDBPTransaction } from 'idb';
import { StorageBlockedError, StorageFullError, StorageUpgradedError, type Collection, type StorageUsage, type Store, type StoredRecord } from './types';

export const DB_NAME = 'ift-lab';

type Upgrade = (db: IDBPDatabase, tx: IDBPTransaction<unknown, string[], 'versionchange'>) => void;

/** UPGRADES[v-1] takes the database from version v-1 to v. Append; never edit a released step. */
const UPGRADES: Upgrade[] = [
  // v1: one object store per collection, keyed by id, indexed by creation time (and run, where records belong to one).
  (db) => {
    // The v1 collections by name: COLLECTIONS grows with later steps, and a released step never changes.
    for (const name of ['runs', 'probes', 'datasets', 'adapters', 'checkpoints', 'settings']) {
      const s = db.createObjectStore(name, { keyPath: 'id' });
      s.createIndex('createdAt', 'createdAt');
      if (name === 'checkpoints' || name === 'adapters' || name === 'probes' || name === 'datasets') s.createIndex('runId', 'runId');
    }
  },
  // v2: pre-registered plans, keyed by id, indexed by creation time. Every v1 record stays as it was.
  (db) => {
    db.createObjectStore('plans', { keyPath: 'id' }).createIndex('createdAt', 'createdAt');
  },
];
export const DB_VERSION = UPGRADES.length;

export interface IdbStoreOptions {
  name?: string;
  /** Another tab wants a newer schema: this connection has closed itself; the page should reload. */
  onVersionChange?: () => void;
}

function isQuotaError(e: unknown): boolean {
  return e instanceof DOMException && (e.name === 'QuotaExceededError' || e.name === 'NS_ERROR_DOM_QUOTA_REACHED');
}

export async function storageUsage(): Promise<StorageUsage> {
  const sm = (globalThis.navigator as Navigator | undefined)?.storage;
  if (!sm) return { usage: null, quota: null, persisted: null };
  const [est, persisted] = await Promise.all([sm.estimate?.() ?? Promise.resolve({} as StorageEstimate), sm.persisted?.() ?? Promise.resolve(null)]);
  return { usage: est.usage ?? null, quota: est.quota ?? null, persisted };
}

/** Ask the browser not to evict the lab's data under storage pressure. Returns whether it agreed. */
export async function requestPersistence(): Promise<boolean> {
  const sm = (globalThis.navigator as Navigator | undefined)?.storage;
  try {
    return (await sm?.persist?.()) ?? false;
  } catch {
    return false;
  }
}

export async function openIdbStore(opts: IdbStoreOptions = {}): Promise<Store> {
  let blocked = false;
  /** Closed for another tab's upgrade: every call says so (not idb's "connection is closing"). */
  let upgraded = false;
  const open = () => {
    if (upgraded) throw new StorageUpgradedError();
  };
  const db = await openDB(opts.name ?? DB_NAME, DB_VERSION, {
    upgrade(db, oldVersion, _newVersion, tx) {
      for (let v = oldVersion; v < DB_VERSION; v++) UPGRADES[v](db, tx as unknown as IDBPTransaction<unknown, string[], 'versionchange'>);
    },
    blocked() {
      blocked = true;
    },
    blocking() {
      // A newer version is waiting for us: close so that it can open, and tell the page (or the Worker).
      upgraded = true;
      db.close();
      opts.onVersionChange?.();
    },
  }).catch((e: unknown) => {
    if (blocked) throw new StorageBlockedError();
    // This code is older than the database another tab upgraded.
    if (e instanceof DOMException && e.name === 'VersionError') throw new StorageUpgradedError();
    throw e;
  });

  return {
    async put(collection, value) {
      open();
      try {
        await db.put(collection, value);
      } catch (e) {
        if (isQuotaError(e) || (e instanceof DOMException && e.name === 'AbortError' && isQuotaError((e as { cause?: unknown }).cause))) {
          throw new StorageFullError(await storageUsage(), `${collection} record ${value.id}`);
        }
        throw e;
      }
    },
    async get<T extends StoredRecord>(collection: Collection, id: string) {
      open();
      return (await db.get(collection, id)) as T | undefined;
    },
    async list<T extends StoredRecord>(collection: Collection, query?: { runId?: string }) {
      open();
      if (query?.runId !== undefined) return (await db.getAllFromIndex(collection, 'runId', query.runId)) as T[];
      return (await db.getAllFromIndex(collection, 'createdAt')) as T[];
    },
    async keys(collection, query) {
      open();
      // '\uffff' sorts after every character an id uses: the range is exactly the ids with that prefix.
      const range = query?.prefix !== undefined ? IDBKeyRange.bound(query.prefix, `${query.prefix}\uffff`) : undefined;
      return ((await db.getAllKeys(collection, range)) as string[]).sort();
    },
    async delete(collection, id) {
      open();
      await db.delete(collection, id);
    },
    async clear(collection) {
      open();
      await db.clear(collection);
    },
    usage: storageUsage,
    close() {
      db.close();
    },
  };
}
