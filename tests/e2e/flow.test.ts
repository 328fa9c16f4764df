// The whole lab in Chromium (WebGPU on SwiftShader, fresh profile), on the built-in toy world, through the
// pages a user clicks: Model (load) → Probe → Datasets → Train (reload mid-run, find the same state, resume
// the interrupted run) → Results with numbers. Tiny sizes: SwiftShader runs each dispatch in tens of ms.
import { existsSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { freshPage, probeToyLetter, screenshot, useBrowser } from './browser';

const appUrl = inject('appUrl');
const browser = useBrowser();

async function go(page: Page, route: string): Promise<void> {
  await page.evaluate((r) => (location.hash = `#/${r}`), route);
  await page
    .locator('h1#title')
    .filter({ hasText: new RegExp(`^${route}$`, 'i') })
    .waitFor();
}

// The toy world ships in public/models/toy-world (tools/toyworld); without it the app has no built-in model.
const haveToy = existsSync('dist/models/toy-world/model.safetensors') && existsSync('dist/models/toy-world/world.json');

describe.skipIf(!haveToy)('the lab end to end on the toy world', () => {
  it('model → probe → datasets → train, reload mid-run, resume → results', { timeout: 420_000 }, async () => {
    const t0 = Date.now();
    const times: string[] = [];
    const mark = (what: string) => times.push(`${what} ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    const { page, errors, context } = await freshPage(browser());
    // On a failure, the page as it was (and any error note) tells more than the assertion.
    const failShot = () => screenshot(page, 'flow-failure').catch(() => undefined);
    // Long tasks on the main thread (≥ 50 ms), to show training in the Worker leaves the page responsive.
    await page.addInitScript(() => {
      const w = window as unknown as { __longTasks: number[] };
      w.__longTasks = [];
      new PerformanceObserver((list) => list.getEntries().forEach((e) => w.__longTasks.push(e.duration))).observe({ type: 'longtask', buffered: true });
    });
    const longTasks = () => page.evaluate(() => (window as unknown as { __longTasks: number[] }).__longTasks.slice());
    try {
      await page.goto(`${appUrl}#/model`);

      // Run on WebGPU, asked for: Automatic would take the CPU here (SwiftShader measures slower), and this
      // flow is the lab on WebGPU in the browser (tests/e2e/cpu.test.ts runs it on the CPU).
      await page.getByTestId('device-webgpu').click();
      await expect.poll(() => page.getByTestId('backend-now').textContent(), { timeout: 30_000 }).toMatch(/^Now: WebGPU — WebGPU, as asked\./);
      // Model: the built-in toy world loads from the app itself.
      await page.getByTestId('load-model').click();
      const info = page.getByTestId('model-info');
      await info.waitFor({ timeout: 60_000 });
      expect(await info.textContent()).toMatch(/builtin:toy-world loaded: llama, 3 layers, hidden size 64/);
      await page.getByTestId('verify-model').click();
      await expect
        .poll(
          () =>
            page
              .getByTestId('verify-result')
              .textContent()
              .catch(() => ''),
          { timeout: 30_000 },
        )
        .toMatch(/No ONNX export/);
      await screenshot(page, 'flow-model');
      mark('model');

      // Probe: 1-shot, every confident-enough answer counts, 8 questions per split.
      await go(page, 'probe');
      await probeToyLetter(page);
      const summary = page.getByTestId('probe-summary');
      await summary.waitFor({ timeout: 120_000 });
      const probeText = (await summary.textContent())!;
      const m = /(\d+) questions: (\d+) known, (\d+) unknown/.exec(probeText)!;
      expect(Number(m[1])).toBe(8);
      expect(Number(m[2])).toBeGreaterThan(0);
      expect(Number(m[3])).toBeGreaterThan(0);
      // The probe's picture: the histogram, the letter habit, per subject, and every question.
      expect(await page.getByTestId('probe-table').locator('tbody tr').count()).toBe(8);
      await page.getByTestId('chart-confidence').locator('svg').first().waitFor();
      await page.getByTestId('chart-letter-bias').locator('svg').first().waitFor();
      expect(await page.getByTestId('probe-subjects').locator('tbody tr').count()).toBeGreaterThan(0);
      await screenshot(page, 'flow-probe');
      mark('probe');

      // Datasets: Harmonious, Incompatible, Self-aligning (sizes clamp to what the probe found).
      await go(page, 'datasets');
      for (const c of ['harmonious', 'incompatible', 'selfAligning', 'randomWrong', 'mixture']) {
        await page
          .locator(`input[type=checkbox][value=${c}]`)
          .setChecked(['harmonious', 'incompatible', 'selfAligning'].includes(c));
      }
      await page.fill('#size', '8');
      // General instruction data: a file is checked row by row before anything is built…
      const buildButton = page.getByTestId('datasets-form').getByRole('button', { name: /build/i });
      const general = page.getByTestId('general');
      await general.locator('input[name=general][value=file]').check();
      expect(await page.getByTestId('general-block').textContent()).toMatch(/Choose the instruction file/);
      expect(await buildButton.isDisabled()).toBe(true);
      const bad = ['{"instruction":"Say hi.","output":"Hi."}', '{"instruction":"","output":"x"}', 'not json'].join('\n');
      await page.getByTestId('general-file').setInputFiles({ name: 'mine.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(bad) });
      await expect.poll(() => page.getByTestId('general-check').textContent().catch(() => ''), { timeout: 30_000 }).toMatch(/mine\.jsonl: 1 examples \(1 Alpaca\).*2 bad row\(s\).*row 2, instruction: missing or empty.*row 3, row: not valid JSON/s);
      expect(await buildButton.isDisabled()).toBe(true);
      const good = JSON.stringify([{ instruction: 'Say hi.', output: 'Hi.' }, { messages: [{ role: 'user', content: 'Hello?' }, { role: 'assistant', content: 'Hello.' }] }]);
      await page.getByTestId('general-file').setInputFiles({ name: 'good.json', mimeType: 'application/json', buffer: Buffer.from(good) });
      await expect.poll(() => page.getByTestId('general-check').textContent().catch(() => ''), { timeout: 30_000 }).toMatch(/good\.json: 2 examples \(1 Alpaca, 1 chat\)/);
      expect(await buildButton.isDisabled()).toBe(false);
      // …and the toy world brings its own set, mixed in at the paper's equal share.
      await general.locator('input[name=general][value=toyworld]').check();
      await expect.poll(() => page.getByTestId('general-check').textContent().catch(() => ''), { timeout: 30_000 }).toMatch(/The toy world's general set: \d+ examples; \d+ are mixed into each condition/);
      expect(await page.getByTestId('general-check').textContent()).toMatch(/What is \S+\? → \S+ .*is a/);
      await buildButton.click();
      await expect.poll(() => page.getByTestId('dataset-preview').count(), { timeout: 60_000 }).toBe(3);
      // Equal shares: as many general examples as knowledge items in every condition.
      const [, items, mixed] = /(\d+) examples \+ (\d+) general/.exec((await page.getByTestId('dataset-preview').first().locator('summary').textContent())!)!;
      expect(Number(mixed)).toBe(Number(items));
      // The preview shows the chat template, the reply (the loss) highlighted.
      expect(await page.getByTestId('dataset-preview').first().locator('mark').first().textContent()).toMatch(
        /^[ABCD]/,
      );
      // Each dataset's trained answer letters.
      expect(await page.getByTestId('label-letters').count()).toBe(3);
      await screenshot(page, 'flow-datasets');
      mark('datasets');

      // Train: 1 epoch, batch 2, rank 4 — a handful of steps per condition.
      await go(page, 'train');
      await page.fill('#rank', '4');
      await page.fill('#alpha', '8');
      await page.fill('#epochs', '1');
      await page.fill('#batch', '2');
      await page.fill('#lr', '0.002');
      await page.getByTestId('train-seeds').fill('1');
      const before = (await longTasks()).length;
      const trainStart = Date.now();
      await page.getByTestId('train-start').click();
      const stage = page.getByTestId('train-stage');
      await expect
        .poll(() => stage.textContent().catch(() => ''), { timeout: 180_000 })
        .toMatch(/— Incompatible/);
      const during = (await longTasks()).slice(before);
      const trainMs = Date.now() - trainStart;
      const blocked = during.reduce((a, b) => a + b, 0);
      console.log(`main-thread long tasks while training: ${during.length} in ${(trainMs / 1000).toFixed(1)} s, longest ${Math.max(0, ...during).toFixed(0)} ms, ${((100 * blocked) / trainMs).toFixed(1)} % of the time`);
      // The GPU work is in the Worker: the page may stutter on a starved 2-core machine, never freeze.
      expect(Math.max(0, ...during)).toBeLessThan(1000);
      expect(blocked / trainMs).toBeLessThan(0.25);
      await screenshot(page, 'flow-train-running');
      mark('first condition done');

      // Reload mid-run: the Worker dies with it. The probe, the datasets and the run are still there.
      await page.reload();
      await go(page, 'probe');
      expect(await page.getByTestId('probe-summary').textContent()).toBe(probeText);
      await go(page, 'datasets');
      expect(await page.getByTestId('dataset-preview').count()).toBe(3);
      await go(page, 'train');
      await page.getByTestId('unfinished-runs').waitFor({ timeout: 10_000 });
      expect(await page.getByTestId('unfinished-runs').textContent()).toMatch(/stopped when the page was reloaded or closed\. Kept: .*1 of 3 training runs/);
      await screenshot(page, 'flow-train-interrupted');
      await page.getByTestId('resume-run').click();
      await page.getByTestId('train-done').waitFor({ timeout: 240_000 });
      expect(await page.getByTestId('train-done').textContent()).toMatch(/3 conditions/);
      // Every condition's training fit is in the queue.
      expect(await page.getByTestId('queue-fit').count()).toBe(3);
      expect(await page.getByTestId('queue-fit').first().textContent()).toMatch(/fits \d+ % of its training items \(from \d+ %\)/);
      await screenshot(page, 'flow-train-done');
      mark('resumed and done');

      // Results: the run's numbers, and which questions changed.
      await go(page, 'results');
      await page.getByTestId('report').waitFor();
      expect(await page.getByTestId('report-model').textContent()).toBe('builtin:toy-world');
      expect(await page.getByTestId('base-acc').textContent()).toMatch(/HOMO\s\d+\.\d\s%/); // no-break spaces keep units with numbers
      expect(await page.locator('[data-testid=conditions-table] tbody tr').count()).toBe(4);
      // The contrasts in words ("… beat / did not clearly differ from / fell below …", or, for a degenerate
      // contrast of this tiny run, "… scored exactly alike …: no interval").
      expect(await page.getByTestId('contrast-words').count()).toBeGreaterThan(0);
      expect(await page.getByTestId('contrast-words').first().textContent()).toMatch(/((beat|did not clearly differ from|fell below) .*|scored exactly alike) on (HOMO|ID|OOD)/);
      // The toy world's questions say how each fact was taught: the teaching-group table is there, with a row per model.
      const teaching = page.getByTestId('teaching-table');
      await teaching.waitFor();
      expect(await teaching.locator('thead').textContent()).toMatch(/stated only/);
      expect(await teaching.locator('tbody tr').count()).toBeGreaterThanOrEqual(5);
      await screenshot(page, 'flow-results');
      mark('results');
      console.log(`e2e flow: ${times.join(', ')}`);
      expect(errors).toEqual([]);
    } catch (e) {
      await failShot();
      console.log(`e2e flow failed after: ${times.join(', ')}; page errors: ${errors.join(' | ')}`);
      throw e;
    } finally {
      await context.close();
    }
  });

  it('the front page runs the whole experiment in one click, with progress, and History holds one record', { timeout: 600_000 }, async () => {
    const { page, errors, context } = await freshPage(browser());
    try {
      // TOY_EXPERIMENT shrunk by the link: 40 training questions probed (enough for some unknown ones), 8 per
      // test split, 1 epoch, 1 seed (SwiftShader is slow).
      await page.goto(`${appUrl}#/?train=40&cap=8&epochs=1&seeds=1`);
      await page.getByTestId('front-lede').waitFor();
      expect(await page.getByTestId('one-click').textContent()).toContain('× 1 seed: 4 training runs of 1 epoch');
      await page.getByTestId('run-toy').click();
      const progress = page.getByTestId('run-progress');
      await progress.waitFor({ timeout: 30_000 });
      await expect.poll(() => progress.textContent(), { timeout: 300_000 }).toMatch(/Training .*\(run \d of 4\)/);
      expect(await progress.getByTestId('time-left').textContent()).toMatch(/^(about \d+ (s|min) left|time left: estimating|almost done)/);
      await screenshot(page, 'flow-front-running');
      await page.getByTestId('run-done').waitFor({ timeout: 500_000 });
      const words = await page.getByTestId('front-contrast').allTextContents();
      expect(words.length).toBeGreaterThan(0);
      expect(words[0]).toMatch(/^(Harmonious|Self-aligning|Random-wrong|Random wrong) (beat|did not clearly differ from|fell below) /);
      // One epoch fits little: the page names the conditions that did not fit, as the report does.
      expect(await page.getByTestId('front-under-trained').textContent()).toMatch(/^Under-trained: (Harmonious|Incompatible|Self-aligning|Random[- ]wrong) \(fits \d+ % of its own training answers\)/);
      await screenshot(page, 'flow-front-done');
      // One record per run, and it is the front page's recent result.
      await page.goto(`${appUrl}#/history`);
      await page.getByTestId('history-item').first().waitFor();
      expect(await page.getByTestId('history-item').count()).toBe(1);
      await page.goto(`${appUrl}#/`);
      await page.getByTestId('recent-results').waitFor();
      expect(await page.getByTestId('recent-results').locator('li').count()).toBe(1);
      expect(errors).toEqual([]);
    } catch (e) {
      await screenshot(page, 'flow-front-failure').catch(() => undefined);
      throw e;
    } finally {
      await context.close();
    }
  });
});
