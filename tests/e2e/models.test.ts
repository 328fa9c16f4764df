// The Model page as a student meets it, in Chromium from a fresh profile: the curated base models with their
// figures before any download; a Hugging Face-layout model downloaded from a Hub endpoint (a local server
// standing in for a mirror) with its progress, cached, and loaded again with the server down; a model
// folder opened from disk; screenshots at desktop and phone width, light and dark.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { writeFixture } from '../helpers/fixtures';
import { useLocalServer } from '../helpers/local-server';
import { freshPage, screenshot, useBrowser } from './browser';

const appUrl = inject('appUrl');
let dir = '';
const browser = useBrowser({}, () => {
  dir = writeFixture('tiny-llama', undefined, false).dir;
});

const hub = { down: false, requests: 0 };
// GET <base>/test-org/tiny-llama/resolve/main/<file>, as the Hub serves it (CORS open, Content-Length set);
// the weights trickle in chunks so the page's progress line is there to see.
const local = useLocalServer('ift-e2e-hub-', (req, res) => {
  hub.requests++;
  if (hub.down) return void req.socket.destroy();
  const m = /^\/test-org\/tiny-llama\/resolve\/main\/(.+)$/.exec(req.url ?? '');
  const headers = { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'content-length' };
  let body: Buffer;
  try {
    body = m ? readFileSync(path.join(dir, m[1])) : Buffer.alloc(0);
  } catch {
    body = Buffer.alloc(0);
  }
  if (!m || body.length === 0) {
    res.writeHead(404, headers);
    return void res.end('Entry not found');
  }
  res.writeHead(200, { ...headers, 'content-length': String(body.length), 'content-type': 'application/octet-stream' });
  if (!m[1].endsWith('.safetensors')) return void res.end(body);
  const parts = 8;
  const step = Math.ceil(body.length / parts);
  let i = 0;
  const next = () => {
    if (i >= body.length) return void res.end();
    res.write(body.subarray(i, (i += step)));
    setTimeout(next, 250);
  };
  next();
});

describe('the Model page', () => {
  it('lists the curated base models first, with size, licence and GPU memory; screenshots', { timeout: 120_000 }, async () => {
    for (const [w, h, tag] of [[1200, 900, 'desktop'], [390, 844, 'phone']] as const)
      for (const scheme of ['light', 'dark'] as const) {
        const { page, context, errors } = await freshPage(browser(), { viewport: { width: w, height: h }, colorScheme: scheme });
        await page.goto(`${appUrl}#/model`);
        const base = page.getByTestId('curated-base');
        await base.waitFor();
        const rows = await base.locator('tr.model').allTextContents();
        expect(rows).toHaveLength(4);
        expect(rows[0]).toMatch(/HuggingFaceTB\/SmolLM2-135M.*134\.5 M.*269 MB.*Apache-2\.0/);
        expect(rows[3]).toMatch(/meta-llama\/Llama-3\.2-1B.*1\.24 B.*2\.47 GB.*Llama 3\.2 Community License/);
        expect(await page.getByTestId('curated-instruct').locator('tr.model').count()).toBe(4);
        expect(await page.getByTestId('memory-basis').textContent()).toMatch(/Estimates from the config's shapes/);
        await screenshot(page, `model-${tag}-${scheme}`);
        expect(errors).toEqual([]);
        await context.close();
      }
  });

  it('downloads a Hugging Face-layout model from a Hub endpoint with progress, caches it, and loads it again with the server down', { timeout: 240_000 }, async () => {
    const { page, context, errors } = await freshPage(browser());
    await page.goto(`${appUrl}#/model`);
    await page.getByTestId('curated-base').waitFor();
    await page.getByText('Hub endpoint (for a mirror)').click();
    await page.getByTestId('hub-endpoint').fill(local.base);
    await page.locator('#model-id').fill('test-org/tiny-llama');
    await page.getByTestId('load-model').click();
    await page.getByTestId('model-progress').filter({ hasText: /model\.safetensors: .* of .* MB/ }).waitFor({ timeout: 60_000 });
    const info = page.getByTestId('model-info');
    await info.waitFor({ timeout: 120_000 });
    expect(await info.textContent()).toMatch(/test-org\/tiny-llama loaded: llama, 2 layers.*downloaded/s);
    await page.getByTestId('cached-models').filter({ hasText: 'test-org/tiny-llama' }).waitFor();
    const served = hub.requests;
    expect(served).toBeGreaterThanOrEqual(5);

    // A new Worker (reload) with the Hub gone: the settings come back from the store, the files from the cache.
    hub.down = true;
    await page.reload();
    await page.getByTestId('curated-base').waitFor();
    await page.getByText('Hub endpoint (for a mirror)').click();
    await expect.poll(() => page.getByTestId('hub-endpoint').inputValue()).toBe(local.base);
    expect(await page.locator('#model-id').inputValue()).toBe('test-org/tiny-llama');
    await page.getByTestId('load-model').click();
    await info.waitFor({ timeout: 120_000 });
    expect(await info.textContent()).toMatch(/test-org\/tiny-llama loaded: .*no download/s);
    expect(hub.requests).toBe(served);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('opens a model folder from disk through the same checks', { timeout: 120_000 }, async () => {
    const { page, context } = await freshPage(browser());
    await page.goto(`${appUrl}#/model`);
    await page.getByTestId('curated-base').waitFor();
    await page.getByTestId('folder-input').setInputFiles(dir);
    const info = page.getByTestId('model-info');
    await info.waitFor({ timeout: 120_000 });
    expect(await info.textContent()).toMatch(/local:tiny-llama loaded: llama, 2 layers.*read from the folder/s);
    await context.close();
  });
});
