/**
 * Everything stored for one run: its record, the checkpoints of its training runs (`<runId>/<…>#latest`, or
 * `<runId>#…`) and its adapters. History's delete removes all of it, so deleting old runs frees their space.
 */
import type { Store } from './types';

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
  // The run record last: an interrupted delete can be repeated from History.
  await store.delete('runs', runId);
  return { checkpoints, adapters };
}
