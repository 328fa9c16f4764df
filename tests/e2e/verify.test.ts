// The Model page's verification in Chromium: our WebGPU engine against transformers.js on onnxruntime-web's
// WebGPU provider (wasm files from the app's own ort/), on the tiny fixture models with an ONNX export.
import { describe, expect, inject, it } from 'vitest';
import { writeFixture } from '../helpers/fixtures';
import { freshPage, useBrowser } from './browser';

const harnessUrl = inject('harnessUrl');
const browser = useBrowser({}, () => {
  for (const n of ['tiny-llama', 'tiny-qwen2']) writeFixture(n);
});

describe('verifyModel against transformers.js (onnxruntime-web, WebGPU) in the browser', () => {
  it.each(['tiny-llama', 'tiny-qwen2'])('%s: logits agree, top-1 identical', { timeout: 120_000 }, async (name) => {
    const { page, context } = await freshPage(browser());
    try {
      await page.goto(`${harnessUrl}tests/e2e/harness/verify.html`);
      await page.waitForFunction(() => document.title === 'ready');
      const out = await page.evaluate((n) => (window as any).harness.verify(n), name);
      console.log(`${name}: ${JSON.stringify(out)}`);
      expect(out.ran).toBe(true);
      expect(out.positions).toBeGreaterThan(10);
      expect(out.maxAbsLogitDiff).toBeLessThan(1e-3);
      expect(out.top1Agreement).toBe(1);
    } finally {
      await context.close();
    }
  });
});
