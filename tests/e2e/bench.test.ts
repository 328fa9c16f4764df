// The built bench page, one suite: our engine against transformers.js (onnxruntime-web, WebGPU provider) in
// Chromium on the tiny fixture. Not timed: both sides must produce finite positive tokens/s, the ratio must be
// reported, and both must decode the SAME greedy tokens (so the comparison is on one model).
import { describe, expect, inject, it } from 'vitest';
import type { BenchReport } from '../../bench/suite';
import { freshPage, useBrowser } from './browser';

const appUrl = inject('appUrl');
const browser = useBrowser();

describe('bench page: engine vs transformers.js in Chromium (WebGPU on SwiftShader)', () => {
  it('runs the reference suite alone: both engines give tokens/s, a ratio, and the same greedy tokens', async () => {
    const { page, context, errors } = await freshPage(browser());
    const missing: string[] = [];
    page.on('response', (r) => {
      if (r.status() >= 400) missing.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(`${appUrl}bench.html?suite=reference`);
    expect(await page.locator('#suite').inputValue()).toBe('reference');
    await page.locator('#run').click();
    await page.waitForSelector('body[data-done], body[data-error]', { timeout: 120_000 });
    expect(await page.evaluate(() => document.body.dataset.error ?? null)).toBeNull();
    const report = JSON.parse((await page.locator('#json').textContent()) ?? '') as BenchReport;
    console.log((await page.locator('#out').textContent()) ?? '');
    expect(report.suites).toEqual(['reference']);
    const byKernel = new Map(report.entries.map((e) => [e.kernel, e]));
    expect([...byKernel.keys()].sort()).toEqual(['engine_decode_f32', 'engine_prefill_f32', 'transformersjs_decode', 'transformersjs_prefill']);
    for (const e of report.entries) {
      const tps = e.extra?.tokensPerSecond as number;
      expect(Number.isFinite(tps) && tps > 0, `${e.kernel}: ${tps}`).toBe(true);
    }
    for (const k of ['transformersjs_prefill', 'transformersjs_decode']) {
      const e = byKernel.get(k)!;
      expect(e.extra?.backend).toBe('onnxruntime-web webgpu');
      const ratio = e.extra?.ratioEngineOverReference as number;
      expect(Number.isFinite(ratio) && ratio > 0).toBe(true);
    }
    const ours = String(byKernel.get('engine_decode_f32')!.extra?.greedyTokens);
    const theirs = String(byKernel.get('transformersjs_decode')!.extra?.greedyTokens);
    expect(ours.split(',').length).toBeGreaterThan(3);
    expect(theirs).toBe(ours);
    expect(byKernel.get('transformersjs_decode')!.extra?.sameGreedyTokens).toBe('yes');
    expect(await page.locator('#out').textContent()).toContain('engine ÷ transformers.js');
    expect(missing).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });
});
