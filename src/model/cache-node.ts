/**
 * The model cache in Node: a directory tree {root}/{owner--name}/{revision}/{file}. A file is streamed to
 * a temporary name and renamed only when its stream completes, so an interrupted download leaves nothing.
 * Reads return fs.openAsBlob blobs: a 1 GB file is read lazily, one slice at a time.
 */
import { mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { openAsBlob } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import type { CacheKey, ModelCache } from './hub';

export class DirectoryModelCache implements ModelCache {
  constructor(readonly root: string) {}

  private path(k: CacheKey): string {
    return join(this.root, k.modelId.replace('/', '--'), k.revision, ...k.file.split('/'));
  }

  async get(k: CacheKey): Promise<Blob | null> {
    try {
      return await openAsBlob(this.path(k));
    } catch {
      return null;
    }
  }

  async put(k: CacheKey, body: ReadableStream<Uint8Array>): Promise<void> {
    const p = this.path(k);
    await mkdir(dirname(p), { recursive: true });
    const tmp = `${p}.partial-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const fh = await open(tmp, 'w');
    try {
      const reader = body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await fh.write(value);
      }
      await fh.close();
      await rename(tmp, p);
    } catch (e) {
      await fh.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      throw e;
    }
  }

  async entries(): Promise<(CacheKey & { bytes: number })[]> {
    const out: (CacheKey & { bytes: number })[] = [];
    let models: string[];
    try {
      models = await readdir(this.root);
    } catch {
      return out;
    }
    for (const m of models)
      for (const rev of await readdir(join(this.root, m)).catch(() => [] as string[])) {
        const dir = join(this.root, m, rev);
        for (const f of await readdir(dir, { recursive: true })) {
          const full = join(dir, f);
          const s = await stat(full);
          if (!s.isFile() || f.includes('.partial-')) continue;
          out.push({ modelId: m.replace('--', '/'), revision: rev, file: relative(dir, full).split(sep).join('/'), bytes: s.size });
        }
      }
    return out;
  }

  async delete(k: CacheKey): Promise<void> {
    await rm(this.path(k), { force: true });
  }
}
