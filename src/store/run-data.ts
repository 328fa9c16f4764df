/**
 * Everything stored for one run: its record, the checkpoints of its training runs (`<runId>/<…>#latest`, or
 * `<runId>#…`) and its adapters. History's delete removes all of it, so deleting old runs frees their space.
 */
import type { Store } from './types';

/**
 * Checkpoint sizes live beside the checkpoints as tiny `settings` records (`checkpoint-bytes:<runId>`), so that
 * History can show what each run takes without reading hundreds of MB of tensors.
 */
export const SIZE_PREFIX = 'checkpoint-bytes:';

/** Bytes of checkpoints per top-level run (the part of a training run's id before its first `/`). */
export async function storagePerRun(store: Store): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const r of await store.list<{ id: string; createdAt: number; bytes?: number }>('settings')) {
    if (!r.id.startsWith(SIZE_PREFIX)) continue;
    const run = r.id.slice(SIZE_PREFIX.length).split(/[/#]/)[0];
    out.set(run, (out.get(run) ?? 0) + (r.bytes ?? 0));
  }
  return out;
}

async function deleteKeys(store: Store, collection: 'checkpoints' | 'adapters', runId: string): Promise<number> {
  const keys = new Set([...(await store.keys(collection, { prefix: `${runId}/` })), ...(await store.keys(collection, { prefix: `${runId}#` }))]);
  for (const r of await store.list(collection, { runId })) keys.add(r.id);
  for (const k of keys) await store.delete(collection, k);
  return keys.size;
}

/** Deletes a run and what belongs to it; returns how many checkpoint and adapter records went with it. */
export async function deleteRunData(store: Store, runId: string): Promise<{ checkpoints: number; adapters: number }> {
  const checkpoints = await deleteKeys(store, 'checkpoints', runId);
  const adapters = await deleteKeys(store, 'adapters', runId);
  for (const p of [`${SIZE_PREFIX}${runId}/`, `${SIZE_PREFIX}${runId}#`]) for (const k of await store.keys('settings', { prefix: p })) await store.delete('settings', k);
  if (await store.get('settings', `${SIZE_PREFIX}${runId}`)) await store.delete('settings', `${SIZE_PREFIX}${runId}`);
  // The run record last: an interrupted delete can be repeated from History.
  await store.delete('runs', runId);
  return { checkpoints, adapters };
}
