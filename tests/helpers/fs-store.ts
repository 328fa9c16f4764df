/**
 * A Store in files for Node, which the GPU tests run the Worker's session on: one JSON file per record under
 * a directory, typed arrays kept exactly (base64). It lives with the tests because no entry point of the app,
 * the Worker or the CLI stores records in files (the CLI keeps its own progress.json).
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Collection, Store, StoredRecord } from '../../src/store/types';

const TYPED = { Float32Array, Uint32Array, Int32Array, Uint16Array, Uint8Array, Float64Array } as const;
type TypedName = keyof typeof TYPED;

function encode(_key: string, value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const name = value.constructor.name as TypedName;
    if (name in TYPED) return { $typed: name, base64: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  }
  return value;
}

function decode(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && '$typed' in value && 'base64' in value) {
    const v = value as { $typed: TypedName; base64: string };
    const bytes = Buffer.from(v.base64, 'base64');
    const copy = new Uint8Array(bytes.byteLength);
    copy.set(bytes);
    return new TYPED[v.$typed](copy.buffer);
  }
  return value;
}

/** Ids become file names: keep them safe. */
function fileName(id: string): string {
  return `${encodeURIComponent(id).replace(/\./g, '%2E')}.json`;
}

export function openFsStore(dir: string): Store {
  const path = (c: Collection, id: string) => join(dir, c, fileName(id));
  /** The record files of a collection (none when it was never written). */
  const jsonFiles = async (c: Collection): Promise<string[]> => {
    try {
      return (await readdir(join(dir, c))).filter((n) => n.endsWith('.json'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  };
  return {
    async put(collection, value) {
      await mkdir(join(dir, collection), { recursive: true });
      const target = path(collection, value.id);
      const tmp = `${target}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(value, encode));
      await rename(tmp, target); // atomic: a crash never leaves half a record
    },
    async get<T extends StoredRecord>(collection: Collection, id: string) {
      try {
        return JSON.parse(await readFile(path(collection, id), 'utf8'), decode) as T;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
    },
    async list<T extends StoredRecord>(collection: Collection, query?: { runId?: string }) {
      const names = await jsonFiles(collection);
      const all = await Promise.all(names.map(async (n) => JSON.parse(await readFile(join(dir, collection, n), 'utf8'), decode) as T));
      return all.filter((r) => query?.runId === undefined || r.runId === query.runId).sort((a, b) => a.createdAt - b.createdAt);
    },
    async keys(collection, query) {
      const names = await jsonFiles(collection);
      const ids = names.map((n) => decodeURIComponent(n.slice(0, -'.json'.length)));
      return ids.filter((id) => query?.prefix === undefined || id.startsWith(query.prefix)).sort();
    },
    async delete(collection, id) {
      await rm(path(collection, id), { force: true });
    },
    async clear(collection) {
      await rm(join(dir, collection), { recursive: true, force: true });
    },
    async usage() {
      return { usage: null, quota: null, persisted: true };
    },
    close() {},
  };
}
