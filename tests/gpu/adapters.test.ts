// A base model without a chat template, opened as a folder from disk, goes through the whole lab in the
// Worker's session (Dawn): the Vicuna fallback formats its training data and its scoring, the run's
// adapters are stored with their sizes, each exports as a PEFT zip whose tensors carry PEFT's names, the zip
// imports back and is scored on the probe's test sets against the base, and deleting the run frees it all.
import { existsSync, mkdtempSync, openAsBlob, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILTIN_MODELS, TOY_WORLD_ID } from '../../src/model/builtin';
import { importPeft, loraParamNames } from '../../src/model/lora';
import { unzipPeftFolder } from '../../src/model/peft-zip';
import { deleteRunData, storagePerRun } from '../../src/store/run-data';
import { openFsStore } from '../helpers/fs-store';
import type { FolderFiles, TrainSettings } from '../../src/worker/protocol';
import { Session, type Ctx } from '../../src/worker/session';
import { testRuntime } from '../helpers/gpu';

const DIR = path.join('public', BUILTIN_MODELS[TOY_WORLD_ID]);
const have = existsSync(path.join(DIR, 'model.safetensors')) && existsSync(path.join(DIR, 'world.json'));
const PEFT_NAME = /^base_model\.model\.model\.layers\.(\d+)\.(self_attn\.(q|k|v|o)_proj|mlp\.(gate|up|down)_proj)\.lora_(A|B)\.weight$/;

describe.skipIf(!have)('adapters out of and into the lab, on a base model without a chat template (Dawn)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ift-adapters-'));
  const store = openFsStore(dir);
  const session = new Session({
    store,
    runtime: testRuntime,
    modelFiles: () => Promise.reject(new Error('no Hub in this test')),
    worldJson: async () => JSON.parse(readFileSync(path.join(DIR, 'world.json'), 'utf8')),
    modelCache: null,
    engineVersion: 'test',
    // Not timed before each run: the estimate has its own tests (estimate.test.ts, the e2e front page).
    estimate: false,
  });
  afterAll(() => {
    session.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  const quiet: Ctx = { progress: () => {}, signal: new AbortController().signal };

  it('folder → Vicuna fallback → train → PEFT zip with PEFT names → import → scored against the base → deleted', { timeout: 500_000 }, async () => {
    // The toy world's files as a folder picked from disk, its tokenizer_config.json without chat_template (a base model).
    const files: FolderFiles = {};
    for (const f of ['config.json', 'generation_config.json', 'tokenizer.json', 'model.safetensors']) if (existsSync(path.join(DIR, f))) files[f] = await openAsBlob(path.join(DIR, f));
    const { chat_template: _t, ...tokCfg } = JSON.parse(readFileSync(path.join(DIR, 'tokenizer_config.json'), 'utf8'));
    files['tokenizer_config.json'] = new Blob([JSON.stringify(tokCfg)]);
    const info = await session.loadModel('local:toy-base', 'main', quiet, { files });
    expect(info).toMatchObject({ id: 'local:toy-base', source: 'folder', chatTemplate: 'vicuna-fallback', fromCache: true, precision: 'f32' });

    const probe = await session.probe({ source: { type: 'toyworld', seed: 1 }, k: 1, threshold: 0.25, strict: false, seed: 1, maxPerSplit: 6 }, quiet);
    expect(probe.questions).toBe(6);
    const ds = await session.buildDatasets({ probeId: probe.probeId, conditions: ['selfAligning'], ratios: [], size: 3, responses: 'letter', seed: 3 }, quiet);
    const ex = ds.datasets[0].preview[0];
    // The Vicuna turn structure, and the loss on the reply plus the tokenizer's own EOS text.
    expect(ex.context).toMatch(/USER: [\s\S]* ASSISTANT:$/);
    expect(ex.target).toBe(` ${ex.response}</s>`.replace('</s>', tokCfg.eos_token));

    const train: TrainSettings = { datasetIds: [ds.datasets[0].datasetId], lora: { rank: 2, alpha: 4, dropout: 0, targets: ['q_proj', 'v_proj'] }, lr: 0.01, epochs: 1, batch: 2, schedule: 'constant', warmup: 0, seed: 1 };
    const out = await session.experiment(train, 'paper', quiet);
    expect(out.result.manifest.hyper.chatTemplate).toMatch(/Vicuna/);

    const list = await session.listAdapters(out.runId);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ runId: out.runId, baseModel: 'local:toy-base', rank: 2, alpha: 4, targets: ['q', 'v'] });
    expect((await storagePerRun(store)).get(out.runId)).toBeGreaterThanOrEqual(list[0].bytes);

    const { filename, zip, tensors } = await session.exportAdapter(list[0].id, quiet);
    expect(filename).toMatch(/^toy-base-.*\.zip$/);
    const folder = unzipPeftFolder(zip);
    const model = await session.ensureModel(quiet);
    const back = await importPeft(model.spec, folder.config, folder.weights);
    expect(Object.keys(back.tensors)).toEqual(loraParamNames(model.spec, ['q', 'v']));
    for (const n of Object.keys(back.tensors)) expect(n).toMatch(PEFT_NAME);
    expect(tensors.sort()).toEqual(Object.keys(back.tensors).sort());

    const ev = await session.evaluateAdapter(probe.probeId, { zip }, quiet);
    expect(ev).toMatchObject({ baseModel: 'local:toy-base', rank: 2, targets: ['q', 'v'], warnings: [] });
    const sets = Object.keys(ev.protocols.paper);
    expect(sets.length).toBeGreaterThan(0);
    // The same scorer as the run's own evaluation: the adapter's accuracy on a set equals the stored run's.
    const run = out.result.conditions[0];
    for (const s of sets as ('homo' | 'id' | 'ood')[]) {
      const r = ev.protocols.paper[s]!;
      expect(r.overall.n).toBeGreaterThan(0);
      expect(Number.isFinite(r.overall.consistency.value) || r.overall.n < 2).toBe(true);
      expect(r.overall.tunedAccuracy.value).toBeCloseTo(run[s].acc, 6);
    }
    await expect(session.evaluateAdapter(probe.probeId, { files: { 'adapter_config.json': new TextEncoder().encode('{"peft_type":"LORA","r":2,"target_modules":["q_proj"]}') } }, quiet)).rejects.toThrow(/adapter_model\.safetensors is missing/);

    const gone = await deleteRunData(store, out.runId);
    expect(gone.adapters).toBe(1);
    expect(await store.list('adapters')).toHaveLength(0);
    expect((await storagePerRun(store)).get(out.runId)).toBeUndefined();
  });
});
