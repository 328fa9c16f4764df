// The one click as a student lives it (issue 26), on the CPU backend (no WebGPU, as on a machine without a GPU),
// with the shrunk link so that it takes seconds: an estimate for this device before the click, progress in words
// in every stage, a reload mid-run that the front page finds and resumes, no internal id in visible text, and
// screenshots at 1280 × 800 and 390 × 844.
import { existsSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { failWith, freshPage, screenshot, useBrowser } from './browser';

const appUrl = inject('appUrl');
const browser = useBrowser({ webgpu: false });
const haveToy = existsSync('dist/models/toy-world/model.safetensors') && existsSync('dist/models/toy-world/world.json');
const SHRUNK = '#/?train=40&cap=8&epochs=1&seeds=1';

async function withoutWebGPU(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    try {
      delete (Navigator.prototype as { gpu?: unknown }).gpu;
    } catch {
      // Already absent.
    }
  });
}

/** Internal ids a student should never read: condition ids, stage ids as words on their own, run ids. */
const INTERNAL = /selfAligning|randomWrong|base-chat|\brun-[a-z0-9]{6,}-[a-z0-9]{4}\b|^\s*(baseline|train|evaluate|probe)\s*$/m;
const visible = (page: Page) => page.locator('main').innerText();

describe.skipIf(!haveToy)('the one click, as a student lives it (CPU)', () => {
  it('estimate before the click, progress in words, a reload mid-run resumed from the front page', { timeout: 400_000 }, async () => {
    const { page, errors, context } = await freshPage(browser(), { viewport: { width: 1280, height: 800 } });
    await withoutWebGPU(context);
    try {
      await page.goto(`${appUrl}${SHRUNK}`);
      // The estimate for this device, before anything runs, for both experiments.
      const estimate = page.getByTestId('front-estimate');
      await expect.poll(() => estimate.textContent(), { timeout: 90_000 }).toMatch(/^Expected on the CPU: about \d+ (s|min) \(probe .*, training .*; from this device, timed just now\)\.$/);
      await expect.poll(() => page.getByTestId('front-estimate-share').textContent(), { timeout: 90_000 }).toMatch(/^Expected on the CPU: about \d+ (s|min) .*from this device’s timing|^Expected on the CPU: about/);
      const expected = await estimate.textContent();
      await screenshot(page, 'oneclick-estimate-desktop');
      await page.setViewportSize({ width: 390, height: 844 });
      await screenshot(page, 'oneclick-estimate-phone');
      // The primary action within the first screen at phone width.
      const box = await page.getByTestId('run-toy').boundingBox();
      expect(box!.y + box!.height).toBeLessThan(844);
      await page.setViewportSize({ width: 1280, height: 800 });

      await page.getByTestId('run-toy').click();
      const progress = page.getByTestId('run-progress');
      await progress.waitFor({ timeout: 30_000 });
      // Every stage in words with its count; the time left from the start (the estimate), never a raw stage id.
      const seen = new Set<string>();
      await expect
        .poll(
          async () => {
            const t = (await page.getByTestId('progress-stage').textContent()) ?? '';
            seen.add(t);
            return t;
          },
          { timeout: 120_000, interval: 200 },
        )
        .toMatch(/^(Training|Evaluating) .* \(run [2-4] of 4\)/);
      // Pause (between optimizer steps), so that the reload surely lands mid-run on a loaded machine too.
      await page.getByTestId('pause-run').click();
      await expect.poll(() => page.getByTestId('pause-run').textContent(), { timeout: 30_000 }).toBe('Resume');
      for (const t of seen) expect(t).not.toMatch(INTERNAL);
      expect([...seen].some((t) => /^Scoring the untuned model · \d+ of \d+ questions scored$/.test(t) || /^Probing what the model knows · \d+ of \d+ questions scored$/.test(t))).toBe(true);
      expect(await page.getByTestId('time-left').textContent()).toMatch(/^(about \d+ (s|min) left|almost done)/);
      await screenshot(page, 'oneclick-running-desktop');

      // A reload mid-run: the front page finds the run and offers Resume with its progress.
      await page.reload();
      const pending = page.getByTestId('unfinished-run');
      await pending.waitFor({ timeout: 30_000 });
      const words = (await pending.textContent()) ?? '';
      expect(words).toMatch(/^Ren design \(4 conditions × 1 seed\), started .*: stopped when the page was reloaded or closed\. Kept: the probe, the datasets, the untuned model’s scores and [1-3] of 4 training runs/);
      const resume = page.getByTestId('resume-run-front');
      const doneBefore = Number(/\((\d) of 4 runs done\)/.exec((await resume.textContent()) ?? '')![1]);
      expect(doneBefore).toBeGreaterThanOrEqual(1);
      await screenshot(page, 'oneclick-reloaded-desktop');
      await page.setViewportSize({ width: 390, height: 844 });
      await screenshot(page, 'oneclick-reloaded-phone');
      await page.setViewportSize({ width: 1280, height: 800 });
      await resume.click();
      await progress.waitFor({ timeout: 30_000 });
      // The resume skips what was kept: it starts at the runs already done, with no probe nor baseline to redo.
      await expect.poll(async () => (await page.getByTestId('progress-stage').textContent()) ?? '', { timeout: 60_000, interval: 200 }).toMatch(/^(Training|Evaluating) .* \(run [2-4] of 4\)/);
      expect(Number(/^(\d+) %/.exec((await page.getByTestId('progress-percent').textContent()) ?? '')![1])).toBeGreaterThan(20);
      await page.getByTestId('run-done').waitFor({ timeout: 300_000 });
      // The reloaded page's lock is gone: no banner says the run trains in another tab.
      await expect.poll(() => page.getByText('training in another tab').count(), { timeout: 10_000 }).toBe(0);
      expect(await page.getByTestId('unfinished-run').count()).toBe(0);
      await screenshot(page, 'oneclick-done-desktop');
      // After the reload the estimate came from the kept timing of this device: nothing was timed twice.
      expect(await estimate.textContent()).toBe(expected!.replace(', timed just now', `’s timing from ${/timing from ([^)]+)\)/.exec((await estimate.textContent()) ?? '')?.[1]}`));

      // The shrunk run (1 epoch on 30 items) trains too little to mean anything: the pages say so in words.
      const frontDegenerate = await page.getByTestId('front-degenerate').allTextContents();
      await page.getByRole('link', { name: 'Open the results' }).click();
      await page.getByTestId('report').waitFor();
      const degenerate = await page.getByTestId('degenerate').textContent();
      console.log(`degenerate words: ${degenerate}`);
      expect(frontDegenerate.join(' ')).toBe((await page.getByTestId('degenerate').locator('p').allTextContents()).join(' '));
      expect(degenerate).toMatch(/Collapsed: |interval of zero width/);
      for (const c of await page.getByTestId('contrast-words').allTextContents()) if (/\[\+0\.0, \+0\.0\]/.test(c)) throw new Error(`a zero-width interval printed as a number: ${c}`);
      await screenshot(page, 'oneclick-results-desktop');
      await page.setViewportSize({ width: 390, height: 844 });
      await screenshot(page, 'oneclick-results-phone');
      await page.setViewportSize({ width: 1280, height: 800 });

      // One state: the step pages show the one-click run's probe, datasets and queue.
      await page.goto(`${appUrl}#/probe`);
      await page.locator('main h1').first().waitFor();
      expect(await page.getByTestId('probe-empty').count()).toBe(0);
      await page.getByTestId('probe-table').waitFor({ timeout: 10_000 });
      await page.goto(`${appUrl}#/datasets`);
      await page.locator('main h1').first().waitFor();
      expect((await page.locator('[data-testid=dataset-preview] summary').allTextContents()).map((t) => t.split(' — ')[0])).toEqual(['Harmonious', 'Incompatible', 'Self-aligning', 'Random-wrong']);
      await page.goto(`${appUrl}#/train`);
      await page.locator('main h1').first().waitFor();
      expect(await page.locator('h2.sub').first().textContent()).toMatch(/^Queue: 4 conditions × 1 seed/);

      // At phone width: every page's primary action within the first screen; section screenshots to look at.
      await page.setViewportSize({ width: 390, height: 844 });
      for (const [route, id] of [['model', 'load-model'], ['probe', 'probe-table'], ['datasets', ''], ['train', 'train-start']] as const) {
        await page.goto(`${appUrl}#/${route}`);
        await page.locator('main h1').first().waitFor();
        await page.waitForTimeout(300);
        await page.evaluate(() => window.scrollTo(0, 0));
        if (route !== 'model') {
          // The step's primary action sticks to the bottom of the first screen.
          const button = route === 'train' ? page.getByTestId('train-start') : page.locator('main button[type=submit]').first();
          const b = await button.boundingBox();
          expect(b!.y, route).toBeGreaterThanOrEqual(0);
          expect(b!.y + b!.height, route).toBeLessThanOrEqual(844);
        }
        if (route === 'model') {
          const b = await page.getByTestId(id).boundingBox();
          expect(b!.y, route).toBeGreaterThanOrEqual(0);
          expect(b!.y + b!.height, route).toBeLessThan(844);
        }
        await page.screenshot({ path: `tests/screenshots/oneclick-${route}-phone.png` });
      }
      await page.goto(`${appUrl}#/results`);
      await page.getByTestId('report').waitFor();
      for (const id of ['chart-contrasts', 'conditions-table', 'teaching-table', 'degenerate']) {
        const el = page.getByTestId(id).first();
        if (await el.count()) await el.screenshot({ path: `tests/screenshots/oneclick-results-${id}-phone.png` });
      }
      await page.setViewportSize({ width: 1280, height: 800 });

      // No internal id on any page after the run, and the run named by its design and date.
      for (const route of ['', 'probe', 'datasets', 'train', 'results', 'history']) {
        await page.goto(`${appUrl}#/${route}`);
        await page.locator('main h1').first().waitFor();
        await page.waitForTimeout(500);
        expect(await visible(page), route).not.toMatch(INTERNAL);
      }
      expect(errors).toEqual([]);
    } catch (e) {
      await failWith(page, errors, 'oneclick-failure', e);
    } finally {
      await context.close();
    }
  });

  it('the Unknown-share experiment: progress in words, Cancel says what it kept, Resume finishes it', { timeout: 300_000 }, async () => {
    const { page, errors, context } = await freshPage(browser(), { viewport: { width: 1280, height: 800 } });
    await withoutWebGPU(context);
    try {
      await page.goto(`${appUrl}${SHRUNK}`);
      await expect.poll(() => page.getByTestId('front-estimate-share').textContent(), { timeout: 90_000 }).toMatch(/^Expected on the CPU: about \d+ (s|min) \(probe /);
      await page.getByTestId('run-toy-share').click();
      const progress = page.getByTestId('run-progress-share');
      await progress.waitFor({ timeout: 30_000 });
      const seen = new Set<string>();
      await expect
        .poll(
          async () => {
            const t = (await progress.getByTestId('progress-stage').textContent()) ?? '';
            seen.add(t);
            return t;
          },
          { timeout: 120_000, interval: 200 },
        )
        .toMatch(/^(Training|Evaluating after each epoch) \d+ % unknown, seed 1 \(run [2-5] of 5\)/);
      for (const t of seen) expect(t).not.toMatch(INTERNAL);
      await progress.getByTestId('cancel-run').click();
      // Cancel: no red error, the run offered again with what it kept.
      const pending = page.getByTestId('unfinished-run');
      await pending.waitFor({ timeout: 30_000 });
      expect(await pending.textContent()).toMatch(/^Unknown-share design \(5 shares × 1 seed\), started .*: cancelled\. Kept: the probe, .*[1-4] of 5 training runs/);
      expect(await page.getByTestId('one-click-share').getByTestId('error-note').count()).toBe(0);
      await screenshot(page, 'oneclick-share-cancelled-desktop');
      await page.getByTestId('resume-run-front').click();
      await page.getByTestId('run-done-share').waitFor({ timeout: 200_000 });
      const shareWords = await page.getByTestId('front-share-contrast').allTextContents();
      expect(shareWords.length).toBeGreaterThan(0);
      for (const w of shareWords) expect(w).not.toMatch(/\[\+0\.0 pt, \+0\.0 pt\]/);
      await page.setViewportSize({ width: 390, height: 844 });
      await screenshot(page, 'oneclick-share-done-phone');
      expect(errors).toEqual([]);
    } catch (e) {
      await failWith(page, errors, 'oneclick-share-failure', e);
    } finally {
      await context.close();
    }
  });
});
