/**
 * Form settings that survive a reload: each form's values live in the store's `settings` collection
 * (record `form:<key>`), and the experiment configuration is mirrored in the page's URL query, which
 * wins over the stored values when a link carries it.
 */
import { router, type PageId } from './router.svelte';
import { storeState } from './store.svelte';

type Value = string | number | boolean | string[];
export type FormValues = Record<string, Value>;

/** A value from the URL or the store, coerced to the type of the default; undefined when it does not fit. */
function coerce(def: Value, raw: unknown): Value | undefined {
  if (Array.isArray(def)) {
    if (Array.isArray(raw) && raw.every((x) => typeof x === 'string')) return raw.slice(0, 200).map((x) => x.slice(0, 200));
    if (typeof raw === 'string') return raw === '' ? [] : raw.split(',').slice(0, 200).map((x) => x.slice(0, 200));
    return undefined;
  }
  if (typeof def === 'number') {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    return Number.isFinite(n) ? n : undefined;
  }
  if (typeof def === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    return undefined;
  }
  return typeof raw === 'string' ? raw.slice(0, 2000) : undefined;
}

export class PersistedForm<T extends FormValues> {
  values: T;
  loaded = $state(false);
  saveError = $state<string | null>(null);
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly key: string,
    readonly defaults: T,
    /** Page whose URL query mirrors these keys (the experiment configuration). */
    readonly mirror?: { page: PageId; keys: (keyof T & string)[] },
  ) {
    this.values = $state(structuredClone(defaults));
    $effect.root(() => {
      $effect(() => {
        const snapshot = $state.snapshot(this.values) as T;
        if (!this.loaded) return;
        this.schedule(snapshot);
        if (this.mirror) {
          const q: Record<string, string> = {};
          for (const k of this.mirror.keys) q[k] = String(snapshot[k]);
          router.setQuery(this.mirror.page, q);
        }
      });
    });
  }

  private stored = false;

  /**
   * Stored values (the first time), then the URL's; call whenever the page opens, so that a link carrying
   * a configuration wins even when the form was already loaded by another page.
   */
  async load(): Promise<void> {
    // Read the URL before any await: a control's first write may mirror the old values into it meanwhile.
    const q = this.mirror && router.current.page === this.mirror.page ? { ...router.current.query } : {};
    if (!this.stored) {
      this.stored = true;
      try {
        const store = await storeState.open();
        const rec = await store.get<{ id: string; createdAt: number; values?: Record<string, unknown> }>('settings', `form:${this.key}`);
        this.apply(rec?.values ?? {});
      } catch {
        // No store (private mode, blocked): the defaults stand.
      }
    }
    if (this.mirror) this.apply(Object.fromEntries(this.mirror.keys.filter((k) => k in q).map((k) => [k, q[k]])));
    this.loaded = true;
  }

  reset(): void {
    Object.assign(this.values, structuredClone(this.defaults));
  }

  private apply(src: Record<string, unknown>): void {
    for (const k of Object.keys(this.defaults) as (keyof T & string)[]) {
      if (!(k in src)) continue;
      const v = coerce(this.defaults[k], src[k]);
      if (v !== undefined) (this.values as FormValues)[k] = v;
    }
  }

  private schedule(snapshot: T): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(async () => {
      try {
        const store = await storeState.open();
        await store.put('settings', { id: `form:${this.key}`, createdAt: Date.now(), values: snapshot });
        this.saveError = null;
      } catch (e) {
        this.saveError = e instanceof Error ? e.message : String(e);
      }
    }, 250);
  }
}
