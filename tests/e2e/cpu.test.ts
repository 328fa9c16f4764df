// The lab on a browser without WebGPU (Chromium launched without --enable-unsafe-webgpu, and the page's
// navigator.gpu removed as well): the front page says it runs on the CPU and runs the shrunk one-click
// toy-world experiment to a result there; the Model page's "Run on" setting switches backends and is kept.
import { existsSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { failWith, freshPage, screenshot, useBrowser, withoutWebGPU } from './browser';

const appUrl = inject('appUrl');
const browser = useBrowser({ webgpu: false });

// The toy world ships in public/models/toy-world (tools/toyworld); without it the app has no built-in model.
const haveToy = existsSync('dist/models/toy-world/model.safetensors') && existsSync('dist/models/toy-world/world.json');

describe.skipIf(!haveToy)('the lab without WebGPU, on the CPU', () => {
  it('the front page says so and runs the shrunk one-click experiment to a result', { timeout: 600_000 }, async () => {
    const { page, errors, context } = await freshPage(browser());
    await withoutWebGPU(context);
    try {
      // Cross-origin isolated (COOP/COEP from vite preview): SharedArrayBuffer is there, so the CPU backend runs a
      // thread per core.
      await page.goto(`${appUrl}#/?train=40&cap=8&epochs=1&seeds=1`);
      expect(await page.evaluate(() => crossOriginIsolated && typeof SharedArrayBuffer === 'function')).toBe(true);
      expect(await page.evaluate(() => 'gpu' in navigator)).toBe(false);
      await page.getByTestId('front-lede').waitFor();
      const note = page.getByTestId('cpu-note');
      await note.waitFor({ timeout: 30_000 });
      expect(await note.textContent()).toBe('No WebGPU here: running on the CPU (slower, but everything works).');
      expect(await page.getByTestId('no-webgpu').count()).toBe(0);
      const button = page.getByTestId('run-toy');
      expect(await button.textContent()).toBe('Run the whole toy-world experiment on the CPU');
      expect(await page.getByTestId('one-click').textContent()).toContain('× 1 seed: 4 training runs of 1 epoch');
      await screenshot(page, 'cpu-front');
      await button.click();
      const progress = page.getByTestId('run-progress');
      await progress.waitFor({ timeout: 30_000 });
      await expect.poll(() => progress.textContent(), { timeout: 300_000 }).toMatch(/Training .*\(run \d of 4\)/);
      await page.getByTestId('run-done').waitFor({ timeout: 500_000 });
      const words = await page.getByTestId('front-contrast').allTextContents();
      expect(words.length).toBeGreaterThan(0);
      expect(words[0]).toMatch(/^(Harmonious|Self-aligning|Random-wrong|Random wrong) (beat|did not clearly differ from|fell below) /);
      await screenshot(page, 'cpu-front-done');
      // The result says where it ran, and that it is exploratory (no plan).
      await page.getByRole('link', { name: 'Open the results' }).click();
      await page.getByTestId('report').waitFor();
      expect(await page.getByTestId('report-status').textContent()).toMatch(/^Exploratory/);
      const cores = await page.evaluate(() => navigator.hardwareConcurrency);
      expect(await page.getByTestId('manifest').textContent()).toContain(`CPU backend (${cores} thread${cores === 1 ? '' : 's'}, WebAssembly SIMD products; f32; ${cores} cores here)`);
      await screenshot(page, 'cpu-results');
      expect(errors).toEqual([]);
    } catch (e) {
      await failWith(page, errors, 'cpu-failure', e);
    } finally {
      await context.close();
    }
  });

  it('the Model page: "Run on" WebGPU without WebGPU says so and offers the CPU; the choice is kept', { timeout: 120_000 }, async () => {
    const { page, errors, context } = await freshPage(browser());
    await withoutWebGPU(context);
    try {
      await page.goto(`${appUrl}#/model`);
      await page.getByTestId('device-picker').waitFor();
      expect(await page.getByTestId('backend-now').textContent()).toMatch(/^Now: the CPU — The CPU backend: WebGPU is not available here/);
      expect(await page.getByTestId('device-auto').isChecked()).toBe(true);
      expect(await page.getByTestId('selftest-no-gpu').textContent()).toContain('no WebGPU');
      await screenshot(page, 'cpu-model');
      await page.getByTestId('device-webgpu').click();
      // WebGPU asked for and missing: the guide, with the way back to the CPU.
      await page.getByTestId('no-webgpu').waitFor();
      expect(await page.getByTestId('no-webgpu').textContent()).toContain('The lab also runs on the CPU');
      await screenshot(page, 'cpu-webgpu-asked');
      // Kept across a reload (the Model page's settings), then back to Automatic.
      await page.waitForTimeout(600);
      await page.reload();
      await page.getByTestId('no-webgpu').waitFor();
      await page.getByTestId('use-cpu').click();
      await page.getByTestId('device-picker').waitFor();
      expect(await page.getByTestId('device-auto').isChecked()).toBe(true);
      await page.getByTestId('device-cpu').click();
      await expect.poll(() => page.getByTestId('backend-now').textContent()).toMatch(/^Now: the CPU — The CPU backend, as asked\./);
      expect(errors.filter((e) => !/WebGPU/.test(e))).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
