import { describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { freshPage, useBrowser } from './browser';

// The IndexedDB store in the real browser, through a harness page served by Vite (dev server).
const harnessUrl = inject('harnessUrl');
const browser = useBrowser();

async function harness(): Promise<{ page: Page; close(): Promise<void> }> {
  const { page, context } = await freshPage(browser());
  await page.goto(`${harnessUrl}tests/e2e/harness/store.html`);
  await page.waitForFunction(() => document.title === 'ready', null, { timeout: 60_000 });
  return { page, close: () => context.close() };
}

describe('IndexedDB store (schema v2) in Chromium', () => {
  it('creates every collection, round-trips Float32Array and multi-MB blobs, lists by run', async () => {
    const h = await harness();
    const r = await h.page.evaluate(async () => {
      const H = (window as any).harness;
      const s = await H.openIdbStore({ name: 't1' });
      const w = new Float32Array(3_000_000).map((_, i) => Math.sin(i));
      const blob = new Blob([new Uint8Array(5 * 2 ** 20).fill(7)]);
      await s.put('adapters', { id: 'a1', createdAt: 1, runId: 'r1', tensors: { q: w }, blob });
      await s.put('checkpoints', { id: 'c1', createdAt: 2, runId: 'r1' });
      await s.put('checkpoints', { id: 'c2', createdAt: 3, runId: 'r2' });
      const got = await s.get('adapters', 'a1');
      const same = got.tensors.q instanceof Float32Array && got.tensors.q.length === w.length && got.tensors.q.every((v: number, i: number) => v === w[i]);
      const blobBytes = new Uint8Array(await got.blob.arrayBuffer());
      const byRun = (await s.list('checkpoints', { runId: 'r1' })).map((x: any) => x.id);
      const usage = await s.usage();
      s.close();
      const db = await H.openDB('t1');
      const stores = [...db.objectStoreNames];
      const version = db.version;
      db.close();
      return { same, blobOk: blobBytes.length === 5 * 2 ** 20 && blobBytes[123] === 7, byRun, usage, stores, version, persisted: await H.requestPersistence() };
    });
    expect(r.same).toBe(true);
    expect(r.blobOk).toBe(true);
    expect(r.byRun).toEqual(['c1']);
    expect(r.stores.sort()).toEqual(['adapters', 'checkpoints', 'datasets', 'plans', 'probes', 'runs', 'settings']);
    expect(r.version).toBe(2);
    expect(typeof r.usage.quota).toBe('number');
    expect(r.usage.usage).toBeGreaterThan(0);
    expect(typeof r.persisted).toBe('boolean');
    await h.close();
  });

  it('a full quota gives StorageFullError and leaves stored records intact', async () => {
    const h = await harness();
    const cdp = await h.page.context().newCDPSession(h.page);
    const origin = new URL(harnessUrl).origin;
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 2 * 2 ** 20 });
    const r = await h.page.evaluate(async () => {
      const H = (window as any).harness;
      const s = await H.openIdbStore({ name: 't2' });
      await s.put('runs', { id: 'keep', createdAt: 1, note: 'precious' });
      let error: any = null;
      try {
        await s.put('runs', { id: 'huge', createdAt: 2, data: new Blob([new Uint8Array(8 * 2 ** 20)]) });
      } catch (e: any) {
        error = { name: e.name, code: e.code, message: e.message, advice: e.advice };
      }
      const kept = await s.get('runs', 'keep');
      const huge = await s.get('runs', 'huge');
      return { error, kept: kept?.note, huge: huge === undefined };
    });
    expect(r.error?.code).toBe('storage-full');
    expect(r.error?.message).toMatch(/MB used of/);
    expect(r.kept).toBe('precious');
    expect(r.huge).toBe(true);
    await h.close();
  });

  it('upgrades a v1 database to v2: the plans collection is added, every stored record kept', async () => {
    const h = await harness();
    const r = await h.page.evaluate(async () => {
      const H = (window as any).harness;
      // A database as the v1 app left it: its six collections and a stored run.
      const old = await H.openDB('t4', 1, {
        upgrade(db: any) {
          for (const n of ['runs', 'probes', 'datasets', 'adapters', 'checkpoints', 'settings']) db.createObjectStore(n, { keyPath: 'id' }).createIndex('createdAt', 'createdAt');
        },
      });
      await old.put('runs', { id: 'kept', createdAt: 1 });
      old.close();
      const s = await H.openIdbStore({ name: 't4' });
      const run = await s.get('runs', 'kept');
      await s.put('plans', { id: 'p1', createdAt: 2 });
      const plans = (await s.list('plans')).map((x: any) => x.id);
      s.close();
      return { run: run?.id, plans };
    });
    expect(r).toEqual({ run: 'kept', plans: ['p1'] });
    await h.close();
  });

  it('closes itself for a newer schema in another connection (versionchange) and says so', async () => {
    const h = await harness();
    const r = await h.page.evaluate(async () => {
      const H = (window as any).harness;
      let told = false;
      const s = await H.openIdbStore({ name: 't3', onVersionChange: () => (told = true) });
      await s.put('runs', { id: 'x', createdAt: 1 });
      // A "newer app" in another tab opens the next version; our connection must not block it.
      const newer = await H.openDB('t3', H.DB_VERSION + 1, { upgrade() {} });
      const version = newer.version;
      newer.close();
      return { told, version };
    });
    expect(r).toEqual({ told: true, version: 3 });
    await h.close();
  });
});
