import { describe, expect, inject, it } from 'vitest';
import { freshPage, launch, screenshot, useBrowser } from './browser';

const appUrl = inject('appUrl');
const browser = useBrowser();

describe('the app shell in Chromium with WebGPU (SwiftShader)', () => {
  it('finds a WebGPU adapter and shows it', async () => {
    const { page, errors, context } = await freshPage(browser());
    await page.goto(`${appUrl}#/model`);
    await page.getByTestId('capabilities').waitFor();
    const name = await page.getByTestId('adapter-name').textContent();
    expect(name).toMatch(/\S/);
    await screenshot(page, 'model');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('runs the matmul kernel in the Worker and it matches the CPU reference', async () => {
    const { page, errors, context } = await freshPage(browser());
    await page.goto(`${appUrl}#/model`);
    await page.getByTestId('run-selftest').click();
    const verdict = page.getByTestId('selftest-verdict');
    await verdict.waitFor({ timeout: 120_000 });
    expect(await verdict.textContent()).toContain('All kernels agree');
    await screenshot(page, 'model-selftest');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('has a page for every step of the experiment', async () => {
    const { page, errors, context } = await freshPage(browser());
    await page.goto(`${appUrl}#/model`);
    await page.getByTestId('capabilities').waitFor();
    for (const id of ['probe', 'datasets', 'train', 'results', 'history']) {
      await page.getByRole('link', { name: new RegExp(id, 'i') }).click();
      await page.waitForFunction((p) => document.querySelector('main')?.dataset.page === p, id);
      expect(await page.locator('h1').first().textContent()).toMatch(new RegExp(id, 'i'));
      await screenshot(page, id);
    }
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('a browser without WebGPU', () => {
  it('runs on the CPU, says so, and keeps the way to turn WebGPU on one click away', async () => {
    const plain = await launch({ webgpu: false });
    const { page, context } = await freshPage(plain);
    await page.goto(appUrl);
    await page.getByTestId('cpu-note').waitFor();
    expect(await page.getByTestId('no-webgpu').count()).toBe(0);
    await page.getByText('Why, and how to turn WebGPU on').click();
    const guide = page.getByTestId('webgpu-guide');
    await guide.waitFor();
    expect(await guide.textContent()).toContain('--enable-unsafe-webgpu');
    await screenshot(page, 'no-webgpu');
    await context.close();
    await plain.close();
  });
});
