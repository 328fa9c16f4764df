/**
 * The model's plans (buffers plus prepared ops for one shape), kept least recently used first out: a plan
 * holds GPU memory, so only `max` are kept. Plans of one group (a generation's prefill and the decode plan
 * that reads its KV cache) are made and released together; the group being built is never evicted.
 */
export interface Releasable {
  release(): void;
}

interface Entry<P> {
  plan: P;
  group: string;
}

export class PlanCache<P extends Releasable> {
  /** Map order is use order: least recently used first. */
  private readonly entries = new Map<string, Entry<P>>();

  constructor(readonly max: number) {
    if (!(max >= 1)) throw new Error(`PlanCache: max must be at least 1 (got ${max})`);
  }

  /** The plan under `key`, made by `make` when absent; `group` '' is a plan of its own. */
  get(key: string, group: string, make: () => P): P {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.plan;
    }
    this.evict(group);
    const plan = make();
    this.entries.set(key, { plan, group });
    return plan;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Release every plan. */
  clear(): void {
    this.drop(() => true);
  }

  /** Make room for one more: release the least recently used plan outside `group`, with the rest of its group. */
  private evict(group: string): void {
    while (this.entries.size >= this.max) {
      const oldest = [...this.entries.values()].find((e) => !group || e.group !== group);
      if (!oldest) return;
      this.drop((e) => e === oldest || (oldest.group !== '' && e.group === oldest.group));
    }
  }

  private drop(which: (e: Entry<P>) => boolean): void {
    for (const [k, e] of this.entries)
      if (which(e)) {
        e.plan.release();
        this.entries.delete(k);
      }
  }
}
