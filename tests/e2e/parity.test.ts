import { describe, expect, inject, it } from 'vitest';
import { writeFixture } from '../helpers/fixtures';
import { freshPage, useBrowser } from './browser';

// Issue "Real Hugging Face models": our engine against transformers.js on onnxruntime-web's WebGPU provider,
// in Chromium, on the same weights. Tolerance 5e-4: both compute in f32, but ONNX Runtime's WebGPU kernels
// sum in other orders (and may fuse), so agreement to ~1e-5 relative on logits of magnitude ≤ ~10 is expected.
const harnessUrl = inject('harnessUrl');
const browser = useBrowser({}, () => {
  writeFixture('tiny-llama');
  writeFixture('tiny-qwen2');
});

describe('engine vs transformers.js (onnxruntime-web, WebGPU) in Chromium', () => {
  for (const name of ['tiny-llama', 'tiny-qwen2']) {
    it(`${name}: logits agree and greedy generation is identical`, async () => {
      const { page, context, errors } = await freshPage(browser());
      await page.goto(`${harnessUrl}tests/e2e/harness/parity.html`);
      await page.waitForFunction(() => document.title === 'ready', null, { timeout: 90_000 });
      const r = await page.evaluate((n) => (window as any).runParity(n), name);
      expect(r.positions).toBeGreaterThan(10);
      expect(r.maxAbsLogitDiff).toBeLessThan(5e-4); // measured 8.8e-5 (llama), 5.6e-5 (qwen2)
      expect(r.top1Agreement).toBe(1);
      for (const g of r.greedy) expect(g.ours).toEqual(g.theirs);
      // Loaders probe optional files (generation_config.json, sharded indexes): a 404 there is expected.
      expect(errors.filter((e) => !/status of 404/.test(e))).toEqual([]);
      await context.close();
    });
  }
});
