import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { encodeShare, exportJson, parseImport, pct, roundForShare } from '../../src/share';
import { exampleResult, richResult } from '../fixtures/share-example';
import { freshPage, launch, screenshot, useBrowser } from './browser';

const appUrl = inject('appUrl');
const ART = join('tests', '.artifacts');
const browser = useBrowser({}, () => {
  mkdirSync(ART, { recursive: true });
});

const shareLink = (r = exampleResult()) => `${appUrl}#/share/${encodeShare(r)}`;

/** The cells of the report's table, row by row (header cell first). */
async function tableRows(page: Page): Promise<string[][]> {
  return page.$$eval('[data-testid=conditions-table] tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent!.trim())));
}

async function noHorizontalScroll(page: Page): Promise<void> {
  const [sw, w] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  if (sw > w) {
    // Name what sticks out, so a failure says where to look.
    const wide = await page.evaluate(() =>
      [...document.querySelectorAll('main *')]
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.scroll-x, .scroll, .plot'))
        .slice(0, 5)
        .map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')} ${Math.round(e.getBoundingClientRect().right)}`),
    );
    console.log(`wider than the window: ${wide.join(', ')}`);
  }
  expect(sw).toBeLessThanOrEqual(w);
}

describe('share links', () => {
  it('open in a new browser context with the same numbers', async () => {
    const x = roundForShare(exampleResult());
    const { page, errors, context } = await freshPage(browser());
    await page.goto(shareLink());
    await page.getByTestId('report').waitFor();
    expect(await page.getByTestId('report-title').textContent()).toBe(x.title);
    const rows = await tableRows(page);
    expect(rows).toHaveLength(1 + x.conditions.length);
    expect(rows[0][3]).toContain(pct(x.base.homo.acc));
    for (const [i, c] of x.conditions.entries()) {
      const row = rows[i + 1];
      expect(row[0]).toBe(c.name);
      expect(row[3]).toContain(pct(c.homo.acc));
      expect(row[4]).toContain(pct(c.id.acc));
      expect(row[5]).toContain(pct(c.ood.acc));
      expect(row[8]).toBe(c.consistency.toFixed(3));
    }
    expect(await page.getByTestId('partial').textContent()).toContain('r = 0.81 (n = 8, p = 0.026)');
    expect(await page.getByTestId('counts').textContent()).toBe('412 / 655');
    // Every chart drew an SVG (Plot) or a canvas (uPlot is only on Train).
    for (const id of ['chart-accuracy', 'chart-known', 'chart-consistency', 'chart-mixture']) expect(await page.getByTestId(id).locator('svg').count()).toBeGreaterThan(0);
    await screenshot(page, 'share-report');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('a malformed link shows a typed error', async () => {
    const { page, errors, context } = await freshPage(browser());
    for (const [data, code] of [
      ['not*base64', 'not-base64url'],
      [encodeShare(exampleResult()).slice(0, 150), 'not-compressed'],
      ['', 'empty'],
    ]) {
      await page.goto(`${appUrl}#/share/${data}`);
      const err = page.getByTestId('share-error');
      await err.waitFor();
      expect(await err.getAttribute('data-code')).toBe(code);
    }
    await screenshot(page, 'share-error');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows markup in a result as text and runs no script', async () => {
    const x = exampleResult();
    x.title = '<script>window.__pwned = 1</script>Title';
    x.conditions[0].name = '<img src=x onerror="window.__pwned = 2">';
    x.manifest.model.id = '<b onmouseover=alert(1)>model</b>';
    const { page, errors, context } = await freshPage(browser());
    await page.goto(shareLink(x));
    await page.getByTestId('report').waitFor();
    expect(await page.getByTestId('report-title').textContent()).toBe(x.title);
    expect((await tableRows(page))[1][0]).toBe(x.conditions[0].name);
    const r = await page.evaluate(() => ({
      pwned: (window as any).__pwned,
      imgs: document.querySelectorAll('img').length,
      scripts: [...document.querySelectorAll('script')].filter((s) => !s.src).length,
      bold: document.querySelectorAll('main b').length,
    }));
    expect(r).toEqual({ pwned: undefined, imgs: 0, scripts: 0, bold: 0 });
    await screenshot(page, 'share-markup');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('imports a shared result into History', async () => {
    const { page, errors, context } = await freshPage(browser());
    await page.goto(shareLink());
    await page.getByTestId('import-share').click();
    await page.getByText('In your history').waitFor();
    await page.goto(`${appUrl}#/history`);
    await page.getByTestId('history-item').first().waitFor();
    expect(await page.getByTestId('history-item').count()).toBe(1);
    expect(await page.getByTestId('history-item').textContent()).toContain('from a link');
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('a browser without WebGPU', () => {
  it('runs the lab on the CPU, and still opens a share link and History', async () => {
    const plain = await launch({ webgpu: false });
    const { page, context } = await freshPage(plain);
    await page.goto(`${appUrl}#/probe`);
    // No guide in the way: the Probe page itself, on the CPU.
    await page.getByRole('heading', { name: 'Probe', level: 1 }).waitFor();
    expect(await page.getByTestId('no-webgpu').count()).toBe(0);
    await page.goto(shareLink());
    await page.getByTestId('report').waitFor();
    expect((await tableRows(page))[1][0]).toBe('Harmonious');
    expect(await page.getByTestId('no-webgpu').count()).toBe(0);
    await screenshot(page, 'nogpu-share');
    await page.goto(`${appUrl}#/history`);
    await page.getByRole('heading', { name: 'History', level: 1 }).waitFor();
    expect(await page.getByTestId('no-webgpu').count()).toBe(0);
    await screenshot(page, 'nogpu-history');
    await context.close();
    await plain.close();
  });
});

describe('History', () => {
  it('imports a JSON file (row errors shown), compares, exports the same results, deletes with confirm', async () => {
    const a = exampleResult();
    const b = { ...exampleResult(), title: 'Second run', manifest: { ...exampleResult().manifest, date: '2026-11-21T09:00:00.000Z' } };
    b.conditions = b.conditions.map((c) => ({ ...c, homo: { ...c.homo, acc: Math.min(1, c.homo.acc + 0.02) } }));
    const file = JSON.parse(exportJson([a, b]));
    file.results.push({ ...a, v: 7, title: 'from the future' }, { ...a, title: 'bad numbers', counts: { known: -3, unknown: 1 } });
    const path = join(ART, 'import.json');
    writeFileSync(path, JSON.stringify(file));

    const { page, errors, context } = await freshPage(browser());
    await page.goto(`${appUrl}#/history`);
    await page.getByTestId('history-empty').waitFor();
    await page.getByTestId('import-file').setInputFiles(path);
    await page.getByTestId('import-report').waitFor();
    const errRows = await page.$$eval('[data-testid=import-errors] tbody tr', (trs) => trs.map((tr) => tr.children[0].textContent + ' ' + tr.children[1].textContent));
    expect(errRows).toEqual(['3 from the future', '4 bad numbers']);
    expect(await page.getByTestId('history-item').count()).toBe(2);
    expect(await page.getByTestId('history-item').first().textContent()).toContain('Second run');
    expect(await page.getByTestId('storage-usage').textContent()).toMatch(/MB used of/);

    // Compare the two: Harmonious HOMO differs by +2.0 pt one way or the other.
    for (const box of await page.getByTestId('history-item').locator('input[type=checkbox]').all()) await box.check();
    await page.getByTestId('comparison').waitFor();
    expect(await page.getByTestId('comparison').textContent()).toMatch(/[+−]2\.0\spt/);
    await screenshot(page, 'history-compare');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-all').click()]);
    const saved = join(ART, 'export.json');
    await download.saveAs(saved);
    const back = parseImport(readFileSync(saved, 'utf8'));
    expect(back.errors).toEqual([]);
    expect(back.results.map((r) => r.title).sort()).toEqual([a.title, b.title].sort());
    expect(back.results.find((r) => r.title === a.title)).toEqual(a);

    // Open one in the report view.
    await page.getByRole('link', { name: a.title }).click();
    await page.getByTestId('report').waitFor();
    await screenshot(page, 'history-open');
    await page.getByRole('link', { name: '← All results' }).click();

    await page.getByTestId('delete').first().click();
    await page.getByTestId('confirm-delete').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=history-item]').length === 1);
    await page.reload();
    await page.getByTestId('history-item').first().waitFor();
    expect(await page.getByTestId('history-item').count()).toBe(1);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('a full quota shows the StorageFullError message and the page goes on', async () => {
    // Chrome applies a quota override only to an origin with no storage in use yet and no live service
    // worker; that records already stored survive a full quota is tested on the store (store.test.ts).
    const { page, errors, context } = await freshPage(browser(), { serviceWorkers: 'block' });
    const cdp = await context.newCDPSession(page);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(appUrl).origin, quotaSize: 1 });
    const path = join(ART, 'two.json');
    writeFileSync(path, exportJson([exampleResult(), { ...exampleResult(), title: 'another' }]));
    await page.goto(`${appUrl}#/history`);
    await page.getByTestId('history-empty').waitFor();
    await page.getByTestId('import-file').setInputFiles(path);
    const alert = page.getByTestId('import-report').getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/Storage is full.*Nothing already stored was changed/);
    expect(await page.getByTestId('history-empty').count()).toBe(1);
    await screenshot(page, 'history-quota');
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(appUrl).origin });
    expect(errors.filter((e) => !/quota/i.test(e))).toEqual([]);
    await context.close();
  });

  it('another tab upgrading the database shows the reload banner', async () => {
    const { page, errors, context } = await freshPage(browser());
    await page.goto(`${appUrl}#/history`);
    await page.getByTestId('history-empty').waitFor();
    await page.evaluate(
      () =>
        new Promise<void>((resolve, reject) => {
          const req = indexedDB.open('ift-lab', 99);
          req.onsuccess = () => {
            req.result.close();
            resolve();
          };
          req.onerror = () => reject(req.error);
        }),
    );
    await page.getByTestId('version-banner').waitFor();
    expect(await page.getByTestId('version-banner').textContent()).toContain('Another tab updated the lab');
    await screenshot(page, 'version-banner');
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('forms', () => {
  it('keep their settings across a reload and mirror the configuration in the URL', async () => {
    const { page, errors, context } = await freshPage(browser());
    await page.goto(`${appUrl}#/train`);
    await page.getByTestId('train-form').waitFor();
    await page.getByLabel('Rank r').fill('16');
    await page.locator('#lr').fill('0.0005');
    await page.getByLabel('Schedule').selectOption('linear');
    await page.getByLabel('gate_proj').check();
    await page.waitForFunction(() => location.hash.includes('rank=16') && location.hash.includes('schedule=linear'));
    await page.waitForTimeout(600);
    await page.goto(`${appUrl}#/train`); // no query: the stored settings come back
    await page.reload();
    await page.getByTestId('train-form').waitFor();
    await page.waitForFunction(() => (document.getElementById('rank') as HTMLInputElement).value === '16');
    expect(await page.locator('#lr').inputValue()).toBe('0.0005');
    expect(await page.getByLabel('Schedule').inputValue()).toBe('linear');
    expect(await page.getByLabel('gate_proj').isChecked()).toBe(true);
    await screenshot(page, 'train-restored');

    // A link carrying a configuration wins over the stored one.
    await page.goto(`${appUrl}#/datasets?size=123&responses=explanation`);
    await page.reload();
    await page.waitForFunction(() => (document.getElementById('size') as HTMLInputElement | null)?.value === '123');
    expect(await page.getByLabel('Letter with a short explanation').isChecked()).toBe(true);
    await screenshot(page, 'datasets-from-url');

    await page.goto(`${appUrl}#/probe`);
    await page.getByLabel('My file (CSV or JSONL)').check();
    const csv = join(ART, 'questions.csv');
    writeFileSync(csv, 'question,A,B,C,D,answer,subject\n"What is 2+2?",3,4,5,6,B,math\n"Broken",1,2,3,,E,math\n');
    await page.getByTestId('question-file').setInputFiles(csv);
    await page.getByTestId('question-errors').waitFor();
    expect(await page.getByTestId('question-file-summary').textContent()).toContain('1 valid question in 1 subject, 2 problems');
    await screenshot(page, 'probe-file');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('offer a Hub family\'s starting point on the Train page, and none for the toy world', async () => {
    const { page, errors, context } = await freshPage(browser());
    await page.goto(`${appUrl}#/train`);
    await page.getByTestId('train-form').waitFor();
    expect(await page.getByTestId('starting-point').count()).toBe(0);
    await page.goto(`${appUrl}#/model`);
    await page.locator('#model-id').fill('HuggingFaceTB/SmolLM2-135M');
    await page.goto(`${appUrl}#/train`);
    const panel = page.getByTestId('starting-point');
    await panel.waitFor();
    expect(await panel.textContent()).toMatch(/A starting point for SmolLM2: LoRA r 16, α 32 on q, k, v, o, gate, up, down; lr 0\.001, 3 epochs, batch 8, cosine\. Small models/);
    await page.getByTestId('use-starting-point').click();
    expect(await page.locator('#lr').inputValue()).toBe('0.001');
    expect(await page.getByLabel('Rank r').inputValue()).toBe('16');
    expect(await page.getByLabel('down_proj').isChecked()).toBe(true);
    expect(await page.getByLabel('Schedule').inputValue()).toBe('cosine');
    await screenshot(page, 'train-starting-point');
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('phone width (390×844), light and dark', () => {
  for (const scheme of ['light', 'dark'] as const) {
    it(`every page fits and reads (${scheme})`, async () => {
      const { page, errors, context } = await freshPage(browser(), { viewport: { width: 390, height: 844 }, colorScheme: scheme });
      await page.goto(shareLink());
      await page.getByTestId('report').waitFor();
      await page.getByTestId('import-share').click();
      await page.getByText('In your history').waitFor();
      await noHorizontalScroll(page);
      await screenshot(page, `phone-${scheme}-share`);
      for (const id of ['home', 'model', 'probe', 'datasets', 'train', 'results', 'history']) {
        await page.goto(`${appUrl}#/${id === 'home' ? '' : id}`);
        await page.waitForFunction((p) => document.querySelector('main')?.dataset.page === p && !document.querySelector('main')?.textContent?.includes('Checking where the lab can run'), id);
        await page.locator('main h1').first().waitFor();
        await page.waitForTimeout(150);
        await noHorizontalScroll(page);
        await screenshot(page, `phone-${scheme}-${id}`);
      }
      expect(errors).toEqual([]);
      await context.close();
    });
  }
});

describe('keyboard', () => {
  it('the skip link is first and moves focus to the content', async () => {
    const { page, errors, context } = await freshPage(browser());
    await page.goto(`${appUrl}#/history`);
    await page.getByRole('heading', { name: 'History', level: 1 }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await screenshot(page, 'skip-link');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('offline', () => {
  it('works without a network after the first visit', async () => {
    const { page, errors, context } = await freshPage(browser());
    await page.goto(`${appUrl}#/history`);
    await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.ready;
      return reg.active?.state;
    });
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null || true);
    await page.reload(); // now controlled by the service worker
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
    await context.setOffline(true);
    await page.goto(shareLink());
    await page.getByTestId('report').waitFor();
    expect((await tableRows(page))[1][0]).toBe('Harmonious');
    await screenshot(page, 'offline-share');
    await context.setOffline(false);
    expect(errors.filter((e) => !/ERR_INTERNET_DISCONNECTED/.test(e))).toEqual([]);
    await context.close();
  });
});

describe('live training curve (uPlot)', () => {
  const harnessUrl = inject('harnessUrl');
  for (const scheme of ['light', 'dark'] as const) {
    it(`draws loss and learning rate (${scheme})`, async () => {
      const { page, errors, context } = await freshPage(browser(), { viewport: { width: 900, height: 500 }, colorScheme: scheme });
      await page.goto(`${harnessUrl}tests/e2e/harness/live.html`);
      await page.waitForFunction(() => document.title === 'ready', null, { timeout: 60_000 });
      await page.getByTestId('live-curve').locator('canvas').waitFor();
      const legend = await page.getByTestId('live-curve').locator('.u-legend').textContent();
      expect(legend).toContain('loss');
      expect(legend).toContain('learning rate');
      await screenshot(page, `live-curve-${scheme}`);
      expect(errors).toEqual([]);
      await context.close();
    });
  }
});

/** A probe as the Worker summarises one (invented numbers), saved as the page keeps it across reloads. */
function savedProbe() {
  const status = ['known', 'unknown', 'discarded'] as const;
  const rows = Array.from({ length: 60 }, (_, i) => {
    const st = status[i % 5 === 4 ? 2 : i % 3 === 0 ? 1 : 0];
    const gold = i % 4;
    const belief = st === 'known' ? gold : (gold + 1 + (i % 3)) % 4;
    return { id: `q${i}`, subject: ['toy_continents', 'toy_currencies'][i % 2], question: `Which continent is country ${i} in?`, options: ['Avalon', 'Borea', 'Calyx', 'Dune'], gold, belief, confidence: st === 'discarded' ? 0.3 + (i % 7) * 0.02 : 0.5 + ((i * 37) % 50) / 100, status: st };
  });
  const n = (s: string) => rows.filter((r) => r.status === s).length;
  return {
    probeId: 'probe-screens',
    questions: rows.length,
    known: n('known'),
    unknown: n('unknown'),
    dropped: n('discarded'),
    perSubject: ['toy_continents', 'toy_currencies'].map((subject) => ({ subject, known: rows.filter((r) => r.subject === subject && r.status === 'known').length, unknown: rows.filter((r) => r.subject === subject && r.status === 'unknown').length, dropped: rows.filter((r) => r.subject === subject && r.status === 'discarded').length })),
    accuracy: n('known') / rows.length,
    method: 'debiased',
    rows,
    letterBias: { n: rows.length, predicted: [0.4, 0.25, 0.2, 0.15], gold: [0.25, 0.25, 0.25, 0.25] },
    warnings: [],
  };
}

describe('the new pages at desktop and phone width, light and dark', () => {
  for (const scheme of ['light', 'dark'] as const) {
    for (const [w, h, size] of [[1200, 900, 'desktop'], [390, 844, 'phone']] as const) {
      it(`front page, probe with results, report with contrasts (${size}, ${scheme})`, async () => {
        const { page, errors, context } = await freshPage(browser(), { viewport: { width: w, height: h }, colorScheme: scheme });
        const probe = savedProbe();
        await page.addInitScript((v) => localStorage.setItem('ift-lab:experiment', v), JSON.stringify({ probe, datasets: null }));
        await page.goto(`${appUrl}#/`);
        await page.getByTestId('front-lede').waitFor();
        await page.waitForFunction(() => !document.querySelector('[data-testid=gpu-line]')?.textContent?.includes('Checking'));
        // Automatic takes the GPU, or the CPU where the only adapter is a software one that a timed product shows slower (SwiftShader here).
        expect(await page.getByTestId('gpu-line').textContent()).toMatch(/Your GPU: |Running on the CPU — The CPU backend: the only WebGPU adapter is a software one \(.+\), and a timed product ran at [\d.]+ GFLOP\/s there against [\d.]+ GFLOP\/s on the CPU\./);
        expect(await page.getByTestId('run-toy').isEnabled()).toBe(true);
        expect(await page.getByTestId('one-click').textContent()).toContain('3 seeds: 12 training runs');
        await noHorizontalScroll(page);
        await screenshot(page, `front-${size}-${scheme}`);

        await page.getByTestId('walk-steps').click();
        await page.getByTestId('probe-table').waitFor();
        expect(await page.getByTestId('probe-table').locator('tbody tr').count()).toBe(60);
        await page.getByTestId('chart-confidence').locator('svg').first().waitFor();
        await page.getByTestId('chart-letter-bias').locator('svg').first().waitFor();
        expect(await page.getByTestId('probe-method').inputValue()).toBe('debiased'); // the toy world's default
        expect(await page.locator('#probe-res').textContent()).toBe('What the model knows');
        await page.getByTestId('probe-search').fill('country 7');
        // "country 7" and "country 7x"
        await expect.poll(() => page.getByTestId('probe-table').locator('tbody tr').count()).toBeLessThan(60);
        await page.getByTestId('probe-search').fill('');
        await noHorizontalScroll(page);
        await screenshot(page, `probe-${size}-${scheme}`);

        await page.goto(shareLink(richResult()));
        await page.getByTestId('report').waitFor();
        await page.getByTestId('chart-contrasts').locator('svg').first().waitFor();
        const words = await page.getByTestId('contrast-words').allTextContents();
        expect(words[0]).toMatch(/^Harmonious beat Incompatible by 8\.1 points \[\+3\.0, \+13\.2\] on OOD \(p = 0\.031, 3 seeds\)\.$/);
        expect(await page.getByTestId('under-trained').textContent()).toContain('Random wrong');
        expect(await page.getByTestId('sweep-partial').textContent()).toContain('not enough ratios');
        expect(await page.getByTestId('chat-base').textContent()).toMatch(/HOMO\s33\.8\s%/);
        await noHorizontalScroll(page);
        await screenshot(page, `report-rich-${size}-${scheme}`);
        expect(errors).toEqual([]);
        await context.close();
      });
    }
  }

  it('the probe CSV export holds the rows shown', async () => {
    const { page, errors, context } = await freshPage(browser());
    await page.addInitScript((v) => localStorage.setItem('ift-lab:experiment', v), JSON.stringify({ probe: savedProbe(), datasets: null }));
    await page.goto(`${appUrl}#/probe`);
    await page.getByTestId('probe-table').waitFor();
    await page.getByTestId('probe-search').fill('unknown');
    const shown = await page.getByTestId('probe-table').locator('tbody tr').count();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('probe-csv').click()]);
    const path = join(ART, 'probe.csv');
    await download.saveAs(path);
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('id,subject,question,A,B,C,D,gold,belief,confidence,label');
    expect(lines.length - 1).toBe(shown);
    expect(lines.slice(1).every((l) => l.endsWith(',unknown'))).toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  });
});
