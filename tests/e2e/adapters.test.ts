// An adapter leaves the lab from History in Chromium: a stored run with its adapter (records in the shapes
// the Worker writes, put in the page's real IndexedDB), the History page's download button, the Worker's
// PEFT zip (the toy world loaded to learn its shapes, as for adapters stored without them), and the
// downloaded file read back through the lab's PEFT importer with PEFT's tensor names.
import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../../src/model/config';
import { importPeft, initLora, loraParamNames } from '../../src/model/lora';
import { unzipPeftFolder } from '../../src/model/peft-zip';
import { toRecord } from '../../src/share/records';
import { exampleResult } from '../fixtures/share-example';
import { freshPage, screenshot, useBrowser } from './browser';

const appUrl = inject('appUrl');
const browser = useBrowser();
const PEFT_NAME = /^base_model\.model\.model\.layers\.(\d+)\.(self_attn\.(q|k|v|o)_proj|mlp\.(gate|up|down)_proj)\.lora_(A|B)\.weight$/;

describe('History: a run’s adapter as a PEFT zip', () => {
  it('downloads a zip whose tensors follow PEFT’s names for the model', { timeout: 180_000 }, async () => {
    const spec = parseConfig(JSON.parse(readFileSync('public/models/toy-world/config.json', 'utf8')));
    const config = { rank: 2, alpha: 4, dropout: 0, targets: ['q', 'v'] as ('q' | 'v')[] };
    const tensors = initLora(spec, config, 5);
    const run = { ...toRecord({ ...exampleResult(), title: 'Adapter test' }, 'lab'), source: 'lab' as const };
    const adapter = {
      id: `${run.id}/incompatible-s1`, createdAt: Date.now(), runId: run.id, gridRun: 'incompatible-s1', baseModel: 'builtin:toy-world',
      state: { config, step: 7, tensors: Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k, [...v]])) },
    };
    const { page, context, errors } = await freshPage(browser());
    await page.goto(`${appUrl}#/history`);
    await page.getByTestId('history-empty').waitFor();
    await page.evaluate(
      async ({ run, adapter }) => {
        const db = await new Promise<IDBDatabase>((res, rej) => {
          const r = indexedDB.open('ift-lab');
          r.onsuccess = () => res(r.result);
          r.onerror = () => rej(r.error);
        });
        const a = { ...adapter, state: { ...adapter.state, tensors: Object.fromEntries(Object.entries(adapter.state.tensors).map(([k, v]) => [k, Float32Array.from(v as number[])])) } };
        const tx = db.transaction(['runs', 'adapters'], 'readwrite');
        tx.objectStore('runs').put(run);
        tx.objectStore('adapters').put(a);
        await new Promise((res, rej) => ((tx.oncomplete = res), (tx.onerror = () => rej(tx.error))));
        db.close();
      },
      { run, adapter },
    );
    await page.reload();
    const button = page.getByTestId('download-adapter');
    await button.waitFor({ timeout: 60_000 });
    expect(await button.textContent()).toContain('incompatible-s1');
    await screenshot(page, 'history-adapters');
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), button.click()]);
    expect(download.suggestedFilename()).toMatch(/^toy-world-.*incompatible-s1\.zip$/);
    const zip = new Uint8Array(readFileSync((await download.path())!));
    const folder = unzipPeftFolder(zip);
    expect(folder.config).toMatchObject({ peft_type: 'LORA', r: 2, lora_alpha: 4, target_modules: ['q_proj', 'v_proj'], base_model_name_or_path: 'builtin:toy-world' });
    const back = await importPeft(spec, folder.config, folder.weights);
    expect(Object.keys(back.tensors)).toEqual(loraParamNames(spec, ['q', 'v']));
    for (const [n, t] of Object.entries(back.tensors)) {
      expect(n).toMatch(PEFT_NAME);
      expect(t).toEqual(tensors[n]);
    }
    expect(errors).toEqual([]);
    await context.close();
  });
});
