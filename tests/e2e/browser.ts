/** Debian's Chromium through playwright-core, with WebGPU on SwiftShader (or without WebGPU, on request). */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const QUIET = ['--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launch(opts: { webgpu?: boolean } = {}): Promise<Browser> {
  const webgpu = opts.webgpu ?? true;
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', ...QUIET, ...(webgpu ? ['--enable-unsafe-webgpu', '--enable-features=Vulkan'] : ['--disable-webgpu', '--disable-gpu'])],
  });
}

/** A fresh profile per context; console errors and page errors are collected so tests can assert none. */
export interface PageOptions {
  viewport?: { width: number; height: number };
  colorScheme?: 'light' | 'dark';
  acceptDownloads?: boolean;
  /** 'block' keeps the app's service worker out (e.g. a live worker keeps Chrome from applying a quota override). */
  serviceWorkers?: 'allow' | 'block';
}

export async function freshPage(browser: Browser, opts: PageOptions = {}): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1200, height: 900 }, colorScheme: opts.colorScheme ?? 'light', acceptDownloads: opts.acceptDownloads ?? true, serviceWorkers: opts.serviceWorkers ?? 'allow' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  return { context, page, errors };
}

/** No WebGPU in the page nor in its Workers, whatever the browser build offers (the CPU backend runs). */
export async function withoutWebGPU(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    try {
      delete (Navigator.prototype as { gpu?: unknown }).gpu;
    } catch {
      // Already absent.
    }
  });
}

/** A failed browser test's evidence: a screenshot `name` and the page's errors in the log; then `e` is rethrown. */
export async function failWith(page: Page, errors: readonly string[], name: string, e: unknown): Promise<never> {
  await screenshot(page, name).catch(() => undefined);
  console.log(`page errors: ${errors.join(' | ')}`);
  throw e;
}

/** The small e2e runs' probe of the toy world: 1-shot, threshold 0.25, 8 questions per split, the letter probe. */
export async function probeToyLetter(page: Page): Promise<void> {
  await page.locator('input[name=source][value=toyworld]').check();
  await page.fill('#k', '1');
  await page.fill('#thr', '0.25');
  await page.getByTestId('max-per-split').fill('8');
  // The paper's letter probe: one pass per question (the toy default, debiased, takes four).
  await page.getByTestId('probe-method').selectOption('letter');
  await page.getByRole('button', { name: 'Probe the model' }).click();
}

const SHOTS = join('tests', 'screenshots');

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  // A full-page capture on the software GPU can take over Playwright's 30 s default on a loaded 2-core machine
  // (CI once timed out on the first page of the suite, after the fonts had loaded); a screenshot is evidence, not the test.
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true, timeout: 90_000 });
}

/**
 * One browser for a test file: launched before its tests (after `setup`, e.g. writing fixtures), closed
 * after them. Returns a getter, since the browser exists only once beforeAll has run.
 */
export function useBrowser(opts: { webgpu?: boolean } = {}, setup?: () => void): () => Browser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    setup?.();
    browser = await launch(opts);
  });
  afterAll(async () => {
    await browser?.close();
  });
  return () => {
    if (!browser) throw new Error('useBrowser: the browser is launched in beforeAll');
    return browser;
  };
}
