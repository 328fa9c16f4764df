import { describe, expect, inject, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { freshPage, useBrowser } from './browser';

// Checkpoints over the real IndexedDB, and one trainer per run across two tabs of one profile (Web Locks,
// BroadcastChannel), through a harness page served by Vite.
const harnessUrl = inject('harnessUrl');
const browser = useBrowser();

async function open(page: Page): Promise<Page> {
  await page.goto(`${harnessUrl}tests/e2e/harness/lifecycle.html`);
  await page.waitForFunction(() => document.title === 'ready', null, { timeout: 60_000 });
  return page;
}

describe('checkpoints in IndexedDB', () => {
  it('keeps the latest per run, survives a full quota intact, and goes with its run', async () => {
    const { page, context } = await freshPage(browser());
    await open(page);
    // A 2 MB quota from the start (Chrome applies an override to an origin before its storage is used).
    const cdp = await context.newCDPSession(page);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(harnessUrl).origin, quotaSize: 2 * 2 ** 20 });
    const state = (step: number, n: number) => ({ step, n });
    const before = await page.evaluate(async ({ s1, s2 }) => {
      const H = (window as any).harness;
      const store = await H.openIdbStore({ name: 'ck' });
      const sink = new H.StoreCheckpointSink(store);
      const st = (x: { step: number; n: number }) => ({ config: { rank: 2, alpha: 4, dropout: 0, targets: ['q'] }, step: x.step, tensors: { w: new Float32Array(x.n).fill(x.step) } });
      // A checkpoint an older version kept per epoch is dropped by the next save too.
      await store.put('checkpoints', { id: 'exp1/a#0000', createdAt: 1, runId: 'exp1/a', epoch: 0, step: 1, state: st({ step: 1, n: 4 }) });
      await sink.save('exp1/a', 0, st(s1), { hash: 'h', parts: {} });
      await sink.save('exp1/a', 1, st(s2), { hash: 'h', parts: {} });
      await sink.save('exp1/b', 0, st(s1));
      await sink.save('exp2/a', 0, st(s1));
      const keys = await store.keys('checkpoints');
      const bytes = await sink.bytes('exp1/a');
      const perRun = Object.fromEntries(await H.storagePerRun(store));
      store.close();
      return { keys, bytes, perRun };
    }, { s1: state(3, 1000), s2: state(6, 1000) });
    expect(before.keys).toEqual(['exp1/a#latest', 'exp1/b#latest', 'exp2/a#latest']);
    expect(before.bytes).toBe(4000);
    // History's storage per run, from the size records beside the checkpoints.
    expect(before.perRun).toEqual({ exp1: 8000, exp2: 4000 });

    // Storage full: the next checkpoint (8 MB of random values: Chrome compresses IndexedDB values) cannot be
    // written; the previous one stays, and the error says what to free.
    const full = await page.evaluate(async () => {
      const H = (window as any).harness;
      const store = await H.openIdbStore({ name: 'ck' });
      const sink = new H.StoreCheckpointSink(store);
      let error: any = null;
      try {
        await sink.save('exp1/a', 2, { config: { rank: 2, alpha: 4, dropout: 0, targets: ['q'] }, step: 9, tensors: { w: new Float32Array(2 * 2 ** 20).map(() => Math.random()) } });
      } catch (e: any) {
        error = { code: e.code, message: e.message, advice: e.advice };
      }
      const latest = await sink.latest('exp1/a');
      store.close();
      return { error, step: latest?.state.step, w0: latest?.state.tensors.w[0], fingerprint: latest?.fingerprint?.hash };
    });
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(harnessUrl).origin });
    expect(full.error?.code).toBe('storage-full');
    expect(full.error?.message).toMatch(/could not save the checkpoint of exp1\/a after epoch 3/);
    expect(full.error?.advice).toMatch(/previous checkpoint is intact.*Delete old runs in History/);
    expect(full).toMatchObject({ step: 6, w0: 6, fingerprint: 'h' });

    // History's delete: the run record, its training runs' checkpoints and its adapters; nothing of exp2 or exp10.
    const after = await page.evaluate(async () => {
      const H = (window as any).harness;
      const store = await H.openIdbStore({ name: 'ck' });
      await store.put('runs', { id: 'exp1', createdAt: 1 });
      await store.put('runs', { id: 'exp10', createdAt: 1 });
      await store.put('checkpoints', { id: 'exp10/a#latest', createdAt: 1, runId: 'exp10/a' });
      await store.put('adapters', { id: 'ad1', createdAt: 1, runId: 'exp1' });
      await store.put('adapters', { id: 'ad2', createdAt: 1, runId: 'exp2' });
      const counts = await H.deleteRunData(store, 'exp1');
      const r = { counts, checkpoints: await store.keys('checkpoints'), adapters: await store.keys('adapters'), runs: await store.keys('runs'), perRun: Object.fromEntries(await H.storagePerRun(store)) };
      store.close();
      return r;
    });
    expect(after).toEqual({ counts: { checkpoints: 2, adapters: 1 }, checkpoints: ['exp10/a#latest', 'exp2/a#latest'], adapters: ['ad2'], runs: ['exp10'], perRun: { exp2: 4000 } });
    await context.close();
  });
});

describe('one trainer per run across tabs', () => {
  it('a second tab is refused while the first trains, and sees it live', async () => {
    const { page: a, context } = await freshPage(browser());
    const b: Page = await (context as BrowserContext).newPage();
    await open(a);
    // Tab A trains run r1 (the lock is held until the page releases it).
    await a.evaluate(() => {
      const H = (window as any).harness;
      (window as any).done = H.withRunLock('r1', () => new Promise((resolve) => ((window as any).release = () => resolve('trained'))));
    });
    await open(b);
    await b.evaluate(() => {
      const H = (window as any).harness;
      (window as any).seen = [];
      H.watchTraining((ids: string[]) => (window as any).seen.push([...ids].sort()));
    });
    // Tab B, opened while A trains, knows at once (from the lock itself).
    await b.waitForFunction(() => (window as any).seen.length > 0);
    expect(await b.evaluate(() => (window as any).seen[0])).toEqual(['r1']);
    const refused = await b.evaluate(async () => {
      const H = (window as any).harness;
      let ran = false;
      try {
        await H.withRunLock('r1', async () => (ran = true));
        return { ran };
      } catch (e: any) {
        return { ran, code: e.code, message: e.message, advice: e.advice };
      }
    });
    expect(refused).toMatchObject({ ran: false, code: 'run-locked', message: 'Run r1 is training in another tab of IFT Lab.' });
    expect(refused.advice).toMatch(/Switch to that tab/);
    // A starts another run: B hears it live; then A finishes r1: B hears that too, and may take r1 now.
    await a.evaluate(() => {
      const H = (window as any).harness;
      (window as any).done2 = H.withRunLock('r2', () => new Promise((resolve) => ((window as any).release2 = resolve)));
    });
    await b.waitForFunction(() => JSON.stringify((window as any).seen.at(-1)) === JSON.stringify(['r1', 'r2']));
    expect(await a.evaluate(async () => {
      (window as any).release();
      return (window as any).done;
    })).toBe('trained');
    await b.waitForFunction(() => JSON.stringify((window as any).seen.at(-1)) === JSON.stringify(['r2']));
    expect(await b.evaluate(() => (window as any).harness.withRunLock('r1', async () => 'mine'))).toBe('mine');
    await a.evaluate(() => (window as any).release2());
    await b.waitForFunction(() => (window as any).seen.at(-1).length === 0);
    await context.close();
  });
});

describe('a connection closed for another tab\'s upgrade', () => {
  it('says "reload this tab" on every later call, not idb\'s "connection is closing"', async () => {
    const { page, context } = await freshPage(browser());
    await open(page);
    const r = await page.evaluate(async () => {
      const H = (window as any).harness;
      let told = false;
      const s = await H.openIdbStore({ name: 'vc', onVersionChange: () => (told = true) });
      await s.put('runs', { id: 'x', createdAt: 1 });
      // A newer app version opens the next version (in another tab: here, another connection).
      const req = indexedDB.open('vc', H.DB_VERSION + 1);
      await new Promise((res, rej) => ((req.onsuccess = res), (req.onerror = rej)));
      req.result.close();
      const errs: any[] = [];
      for (const call of [() => s.put('runs', { id: 'y', createdAt: 2 }), () => s.get('runs', 'x'), () => s.keys('checkpoints')]) {
        try {
          await call();
        } catch (e: any) {
          errs.push({ code: e.code, advice: e.advice });
        }
      }
      // And code that is older than the database cannot open it: the same message.
      let reopen: any = null;
      try {
        await H.openIdbStore({ name: 'vc' });
      } catch (e: any) {
        reopen = e.code;
      }
      return { told, errs, reopen };
    });
    expect(r.told).toBe(true);
    expect(r.errs).toHaveLength(3);
    for (const e of r.errs) expect(e).toMatchObject({ code: 'storage-upgraded', advice: expect.stringMatching(/^Reload this tab/) });
    expect(r.reopen).toBe('storage-upgraded');
    await context.close();
  });
});
