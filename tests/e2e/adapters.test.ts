// An adapter leaves the lab from History in Chromium: a stored run with its adapter (records in the shapes
// the Worker writes, put in the page's real IndexedDB), the History page's download button, the Worker's
// PEFT zip (the toy world loaded to learn its shapes, as for adapters stored without them), and the
// downloaded file read back through the lab's PEFT importer with PEFT's tensor names.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../../src/model/config';
import { importPeft, initLora, loraParamNames } from '../../src/model/lora';
import { unzipPeftFolder, zipPeftFolder } from '../../src/model/peft-zip';
import { exportPeft } from '../../src/model/lora';
import { loadSource } from '../../src/worker/bank';
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
    // Named as the paper names the condition, with its seed (the file name keeps the run id).
    expect(await button.textContent()).toContain('Incompatible, seed 1');
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

async function openDb(page: import('playwright-core').Page, records: Record<string, unknown[]>): Promise<void> {
  await page.evaluate(async (records) => {
    const db = await new Promise<IDBDatabase>((res, rej) => {
      const r = indexedDB.open('ift-lab');
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    const tx = db.transaction(Object.keys(records), 'readwrite');
    for (const [name, rows] of Object.entries(records)) for (const row of rows) tx.objectStore(name).put(row);
    await new Promise((res, rej) => ((tx.oncomplete = res), (tx.onerror = () => rej(tx.error))));
    db.close();
  }, records);
}

describe('Model page: a PEFT adapter from elsewhere, scored on the probe’s test sets', () => {
  it('imports a zip, checks it, and scores it against the base (an all-zero B is the base: C = 1)', { timeout: 240_000 }, async () => {
    const spec = parseConfig(JSON.parse(readFileSync('public/models/toy-world/config.json', 'utf8')));
    // The probe's questions and split, as the Worker's probe stores them (its per-question result is not read here).
    const src = await loadSource({ type: 'toyworld', seed: 1 }, 1, { worldJson: async () => JSON.parse(readFileSync('public/models/toy-world/world.json', 'utf8')) });
    const summary = { probeId: 'probe-e2e', questions: 6, known: 3, unknown: 3, dropped: 0, perSubject: [], accuracy: 0.5 };
    const probe = {
      id: 'probe-e2e', createdAt: Date.now(), modelId: 'builtin:toy-world', label: src.label, bank: src.bank,
      config: { k: 1, threshold: 0.25, strict: false, seed: 1, maxPerSplit: 4, source: { type: 'toyworld', seed: src.worldSeed ?? 1 } },
      split: { ...src.split, seed: 1, caps: { train: 4, homo: 4, id: 4, ood: 4 } },
      result: { items: [], counts: { total: 6, known: 3, unknown: 3, discarded: 0 } },
      summary,
    };
    // PEFT's init: B = 0, so the adapted model is the base model exactly.
    const config = { rank: 2, alpha: 4, dropout: 0, targets: ['q', 'v'] as ('q' | 'v')[] };
    const zip = zipPeftFolder('toy-adapter', exportPeft(spec, { config, tensors: initLora(spec, config, 9), step: 0 }, 'builtin:toy-world').files);
    const dir = mkdtempSync(path.join(tmpdir(), 'ift-e2e-adapter-'));
    writeFileSync(path.join(dir, 'toy-adapter.zip'), zip);
    writeFileSync(path.join(dir, 'adapter_config.json'), '{"peft_type": "LORA", "r": 2, "target_modules": ["q_proj"]}');

    const { page, context, errors } = await freshPage(browser());
    await page.goto(`${appUrl}#/history`);
    await page.getByTestId('history-empty').waitFor();
    await openDb(page, { probes: [probe] });
    await page.evaluate((s) => localStorage.setItem('ift-lab:experiment', JSON.stringify({ probe: s, datasets: null })), summary);
    await page.goto(`${appUrl}#/model`);
    await page.reload();
    const input = page.getByTestId('adapter-input');
    // A lone adapter_config.json: a clear error, naming the missing file.
    await input.setInputFiles(path.join(dir, 'adapter_config.json'));
    await page.getByTestId('error-note').filter({ hasText: 'adapter_model.safetensors is missing' }).waitFor({ timeout: 60_000 });
    await input.setInputFiles(path.join(dir, 'toy-adapter.zip'));
    const table = page.getByTestId('adapter-eval');
    await table.waitFor({ timeout: 180_000 });
    expect(await page.getByTestId('adapter-eval-summary').textContent()).toMatch(/LoRA r = 2, α = 4 on q, v, trained on builtin:toy-world; scored on builtin:toy-world/);
    const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent!.trim())));
    expect(rows.map((r) => r[0])).toEqual(['HOMO', 'ID', 'OOD']);
    for (const r of rows) {
      // With the adapter = the base in the chat format, and C = 1 exactly.
      expect(r[4].split(' [')[0]).toBe(r[3].split(' [')[0]);
      expect(r[5]).toMatch(/^1\.000 /);
    }
    await screenshot(page, 'model-adapter-eval');
    expect(errors.filter((e) => !/adapter_model\.safetensors is missing/.test(e))).toEqual([]);
    await context.close();
  });
});
