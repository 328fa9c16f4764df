// Pre-registration in the browser (on the CPU backend, the toy world, tiny settings): the Train page freezes
// its settings and seeds as a plan, the run under it is confirmatory on the Results page, History lists the plan
// with its hash and date and offers its plan.json (the CLI's schema); a changed setting is refused with the
// differences; a plan.json is imported, an edited one refused in words.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { failWith, freshPage, probeToyLetter, screenshot, useBrowser, withoutWebGPU } from './browser';

const appUrl = inject('appUrl');
const browser = useBrowser({ webgpu: false });
const haveToy = existsSync('dist/models/toy-world/model.safetensors') && existsSync('dist/models/toy-world/world.json');

async function go(page: Page, route: string): Promise<void> {
  await page.evaluate((r) => (location.hash = `#/${r}`), route);
  await page.locator('h1#title').filter({ hasText: new RegExp(`^${route}$`, 'i') }).waitFor();
}

describe.skipIf(!haveToy)('a plan registered and run in the browser (CPU)', () => {
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  let planFile = '';
  afterAll(async () => {
    await context?.close();
  });

  it('register on the Train page → run under it → Confirmatory on Results; History lists the plan and its plan.json', { timeout: 300_000 }, async () => {
    ({ context, page, errors } = await freshPage(browser()));
    await withoutWebGPU(context);
    try {
      await page.goto(`${appUrl}#/model`);
      await page.getByTestId('load-model').click();
      await page.getByTestId('model-info').waitFor({ timeout: 60_000 });

      await go(page, 'probe');
      await probeToyLetter(page);
      await page.getByTestId('probe-summary').waitFor({ timeout: 120_000 });

      await go(page, 'datasets');
      for (const c of ['harmonious', 'incompatible', 'selfAligning', 'randomWrong', 'mixture']) await page.locator(`input[type=checkbox][value=${c}]`).setChecked(c === 'harmonious' || c === 'incompatible');
      await page.fill('#size', '4');
      await page.getByTestId('datasets-form').getByRole('button', { name: /build/i }).click();
      await expect.poll(() => page.getByTestId('dataset-preview').count(), { timeout: 60_000 }).toBe(2);

      await go(page, 'train');
      await page.fill('#rank', '4');
      await page.fill('#alpha', '8');
      await page.fill('#epochs', '1');
      await page.fill('#batch', '2');
      await page.getByTestId('train-seeds').fill('1');
      expect(await page.getByTestId('plan-card').count()).toBe(0);
      await page.getByTestId('plan-register').click();
      const card = page.getByTestId('plan-card');
      await card.waitFor({ timeout: 60_000 });
      const hash = (await card.getAttribute('data-hash'))!;
      expect(hash).toMatch(/^[0-9a-f]{64}$/);
      expect(await page.getByTestId('plan-told').textContent()).toMatch(new RegExp(`^Registered plan ${hash.slice(0, 12)}, frozen .+\\.$`));
      expect(await card.textContent()).toMatch(/seeds 1\b.*Primary endpoint: H − I: accuracy, HOMO, ID and OOD pooled, paper protocol; α = 0\.05/s);
      // One seed cannot reach α: the plan says so (and still governs its run).
      expect(await page.getByTestId('plan-notes').textContent()).toMatch(/1 seed\(s\): the exact sign-flip test cannot reach α = 0\.05 with fewer than 6 seeds/);
      await screenshot(page, 'plan-registered');

      await page.getByTestId('plan-run').click();
      await page.getByTestId('train-done').waitFor({ timeout: 200_000 });
      expect(await page.getByTestId('train-done').textContent()).toContain(`confirmatory under plan ${hash.slice(0, 12)}`);

      await go(page, 'results');
      const status = page.getByTestId('report-status');
      await status.waitFor();
      expect(await status.getAttribute('data-status')).toBe('confirmatory');
      expect(await status.textContent()).toMatch(new RegExp(`^Confirmatory — run under the pre-registered plan ${hash.slice(0, 12)}`));
      await screenshot(page, 'plan-results');

      // History: the plan with its hash and date, the result run under it, and its plan.json.
      await go(page, 'history');
      const item = page.getByTestId('plans-item');
      await item.waitFor();
      expect(await item.count()).toBe(1);
      expect(await item.getByTestId('plan-hash').textContent()).toBe(hash.slice(0, 12));
      expect(await item.textContent()).toMatch(/frozen .* in this browser/);
      expect(await item.getByTestId('plan-results').textContent()).toMatch(/Run under it: /);
      // The results list marks the confirmatory result with its plan.
      expect(await page.getByTestId('history-confirmatory').first().textContent()).toBe(`Confirmatory · plan ${hash.slice(0, 12)}`);
      const [dl] = await Promise.all([page.waitForEvent('download'), item.getByTestId('plan-download').click()]);
      expect(dl.suggestedFilename()).toBe(`plan-${hash.slice(0, 12)}.json`);
      planFile = (await dl.path())!;
      const plan = JSON.parse(readFileSync(planFile, 'utf8'));
      expect(plan).toMatchObject({ schema: 'ift-lab/plan@1', seeds: [1], alpha: 0.05, primary: { id: 'H − I' } });
      expect(plan.config.training.epochs).toBe(1);
      // The share link carries the plan (src/share): a reader sees the same status…
      await page.getByRole('link', { name: /Harmonious/ }).first().click();
      const share = await page.getByTestId('share-link').getAttribute('href');
      await page.goto(share!);
      await page.getByTestId('report-status').waitFor();
      expect(await page.getByTestId('report-status').getAttribute('data-status')).toBe('confirmatory');
      // …and the plan itself: its endpoint and α, and its plan.json to download; importing keeps the plan too.
      expect(await page.getByTestId('report-plan').textContent()).toMatch(/The plan: primary endpoint H − I \(accuracy, pooled, paper protocol\), α = 0\.05; seeds 1\./);
      const [fromLink] = await Promise.all([page.waitForEvent('download'), page.getByTestId('report-plan-download').click()]);
      expect(readFileSync((await fromLink.path())!, 'utf8')).toBe(readFileSync(planFile, 'utf8'));
      await page.getByTestId('import-share').click();
      await expect.poll(() => page.getByTestId('import-plan-note').textContent().catch(() => ''), { timeout: 30_000 }).toBe(`Its plan ${hash.slice(0, 12)} is in your History too.`);
      await screenshot(page, 'plan-share');
      expect(errors).toEqual([]);
    } catch (e) {
      await failWith(page, errors, 'plan-failure', e);
    }
  });

  it('a changed setting is refused with the differences; a plan.json is imported, an edited one refused', { timeout: 120_000 }, async () => {
    try {
      await go(page, 'train');
      await page.getByTestId('plan-card').waitFor();
      await page.fill('#epochs', '2');
      await page.getByTestId('train-seeds').fill('1, 2');
      await page.getByTestId('plan-run').click();
      const note = page.getByTestId('error-note');
      await note.waitFor({ timeout: 60_000 });
      expect(await note.textContent()).toMatch(/The configuration differs from the pre-registered plan: seeds \[1\] → \[1,2\]; training\.epochs 1 → 2\./);
      expect(await note.textContent()).toMatch(/Set the Train page back to the plan’s settings/);
      await screenshot(page, 'plan-refused');

      // The downloaded plan.json imports as the same plan (kept once); an edited copy is refused in words.
      await go(page, 'history');
      await page.getByTestId('plan-import').setInputFiles({ name: 'plan.json', mimeType: 'application/json', buffer: readFileSync(planFile) });
      await expect.poll(() => page.getByTestId('plan-told').textContent().catch(() => ''), { timeout: 30_000 }).toMatch(/^Imported plan\.json: plan [0-9a-f]{12}, frozen /);
      expect(await page.getByTestId('plans-item').count()).toBe(1);
      const edited = JSON.parse(readFileSync(planFile, 'utf8'));
      edited.config.training.epochs = 3;
      await page.getByTestId('plan-import').setInputFiles({ name: 'edited.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(edited)) });
      await expect.poll(() => page.getByTestId('error-note').textContent().catch(() => ''), { timeout: 30_000 }).toMatch(/it was edited after it was frozen/);
      await page.getByTestId('plan-import').setInputFiles({ name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from('{"schema": "ift-lab/plan@1"') });
      await expect.poll(() => page.getByTestId('error-note').textContent().catch(() => ''), { timeout: 30_000 }).toMatch(/^broken\.json is not valid JSON/);
      await screenshot(page, 'plan-import-refused');
      expect(errors).toEqual([]);
    } catch (e) {
      await failWith(page, errors, 'plan-failure-2', e);
    }
  });
});
