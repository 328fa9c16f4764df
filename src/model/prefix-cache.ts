/**
 * KV rows of recently scored prefixes, kept across `nextTokenLogProbs` calls. The lab scores a subject's
 * questions in batches of 8 behind one k-shot prefix, and the four shifts of a debiased question behind the
 * same header and question text; attention is causal, so the KV rows of a token depend only on the tokens
 * before it: the rows [0, n) of any cached sequence serve every request that shares those n tokens. A request
 * reuses the longest such common prefix and forwards only the rest.
 *
 * Entries are keyed by the adapter they were computed under (`base` or the adapter's id and a generation
 * the model bumps on every load/unload), bounded by bytes, least recently used evicted first.
 */
import type { Runtime } from '../engine/runtime';
import { KVCache } from './kv-cache';

export interface PrefixEntry {
  adapter: string;
  tokens: readonly number[];
  kv: KVCache;
  bytes: number;
}

export interface PrefixHit {
  entry: PrefixEntry;
  /** Leading tokens the entry shares with the request (its first `rows` KV rows are valid for it). */
  rows: number;
}

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

export class PrefixCache {
  /** Array order is recency: least recently used first. */
  private entries: PrefixEntry[] = [];
  private used = 0;

  constructor(
    private readonly rt: Runtime,
    /** Bytes of KV rows kept; 0 keeps nothing (every prefix is forwarded in full). */
    readonly budgetBytes: number,
  ) {}

  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.entries.length;
  }

  /** The entry sharing the most leading tokens with `tokens` under `adapter` (marked most recently used). */
  lookup(adapter: string, tokens: readonly number[]): PrefixHit | null {
    let best: PrefixHit | null = null;
    for (const entry of this.entries) {
      if (entry.adapter !== adapter) continue;
      const rows = commonPrefix(entry.tokens, tokens);
      if (rows > 0 && (!best || rows > best.rows)) best = { entry, rows };
    }
    if (best) this.touch(best.entry);
    return best;
  }

  /**
   * A new entry for `tokens` (the caller fills its KV rows). Entries it makes redundant (whose tokens are a
   * prefix of the new ones) are dropped; then the least recently used go until the budget holds. The newest
   * entry is always kept until the next insert, so that the call that made it can use it.
   */
  create(adapter: string, tokens: readonly number[], layers: number, KVH: number, Dh: number): PrefixEntry {
    const kv = new KVCache(this.rt, layers, 1, tokens.length, KVH, Dh);
    const entry: PrefixEntry = { adapter, tokens: [...tokens], kv, bytes: 2 * layers * tokens.length * kv.rowBytes };
    for (const e of [...this.entries]) if (e.adapter === adapter && commonPrefix(e.tokens, tokens) === e.tokens.length) this.remove(e);
    if (this.budgetBytes > 0) {
      this.entries.push(entry);
      this.used += entry.bytes;
      while (this.used > this.budgetBytes && this.entries.length > 1) this.remove(this.entries[0]);
    }
    return entry;
  }

  /** Free an entry that was not kept (budget 0) once its call is done. */
  discard(entry: PrefixEntry): void {
    if (!this.entries.includes(entry)) this.free(entry);
  }

  /** Drop every entry computed under `adapter` (its weights changed or are gone). */
  dropAdapter(adapter: string): void {
    for (const e of [...this.entries]) if (e.adapter === adapter) this.remove(e);
  }

  clear(): void {
    for (const e of [...this.entries]) this.remove(e);
  }

  private touch(e: PrefixEntry): void {
    const i = this.entries.indexOf(e);
    if (i >= 0) {
      this.entries.splice(i, 1);
      this.entries.push(e);
    }
  }

  private remove(e: PrefixEntry): void {
    const i = this.entries.indexOf(e);
    if (i < 0) return;
    this.entries.splice(i, 1);
    this.used -= e.bytes;
    this.free(e);
  }

  private free(e: PrefixEntry): void {
    for (const t of [...e.kv.k, ...e.kv.v]) this.rt.release(t);
  }
}

/**
 * The fewest prefix tokens any cache must forward to score `prefixes`: the distinct leading sequences, i.e.
 * the nodes of their prefix tree (a token is computed once for every distinct sequence of tokens before it).
 */
export function prefixTokensMinimum(prefixes: readonly (readonly number[])[]): number {
  const seen = new Set<string>();
  for (const p of prefixes) {
    let key = '';
    for (const t of p) seen.add((key += `${t},`));
  }
  return seen.size;
}
