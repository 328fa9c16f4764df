/**
 * Adapters that leave the lab and come into it: every stored run's final LoRA weights as a PEFT folder in
 * a zip (what `PeftModel.from_pretrained` reads once unzipped), and a PEFT adapter from elsewhere —
 * validated by the model layer's importer — scored on a probe's test sets against the base model with the
 * lab's own evaluation (the same scorer, formats and metrics an experiment uses).
 */
import { compareScores, scoreTestSets, TEST_SETS, type SetReport, type TestSets } from '../lab/evaluate';
import { LabError } from '../lab/errors';
import { splitsOf } from '../lab/experiment';
import type { AdapterState } from '../lab/model';
import { beliefMethodOf } from '../lab/probe';
import type { EngineModel } from '../model/engine-model';
import { exportPeft, importPeft } from '../model/lora';
import { isZip, peftFolderName, peftFromFiles, unzipPeftFolder, zipPeftFolder } from '../model/peft-zip';
import type { ModelSpec } from '../model/spec';
import type { Store, StoredRecord } from '../store/types';
import { browserExperimentConfig } from './browser-config';
import type { AdapterEvaluation, AdapterInfo, ModelInfo } from './protocol';
import type { Ctx, ProbeRecord } from './session-records';

/** What experiment-session.ts stores in `adapters` for every grid run. */
export interface AdapterRecord extends StoredRecord {
  runId: string;
  gridRun: string;
  baseModel: string;
  state: AdapterState;
  /** The base model's shapes (stored since adapters leave the lab), so export needs no model load. */
  spec?: ModelSpec;
}

export interface AdapterHost {
  store: Store;
  probeRecord(id: string): Promise<ProbeRecord>;
  ensureModel(ctx: Ctx, id: string): Promise<EngineModel>;
  loaded(): { model: EngineModel; info: ModelInfo } | null;
}

const bytesOf = (s: AdapterState) => Object.values(s.tensors).reduce((a, t) => a + t.byteLength, 0);

export class AdapterShelf {
  constructor(private readonly host: AdapterHost) {}

  async list(runId: string): Promise<AdapterInfo[]> {
    const recs = await this.host.store.list<AdapterRecord>('adapters', { runId });
    return recs
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((r) => ({
        id: r.id, runId: r.runId, gridRun: r.gridRun, baseModel: r.baseModel, rank: r.state.config.rank, alpha: r.state.config.alpha,
        targets: [...r.state.config.targets], step: r.state.step, bytes: bytesOf(r.state),
      }));
  }

  private async record(id: string): Promise<AdapterRecord> {
    const rec = await this.host.store.get<AdapterRecord>('adapters', id);
    if (!rec) throw new LabError('no-adapter', `Adapter ${id} is not in this browser's store.`, 'Its run may have been deleted in History; run the experiment again to train it.');
    return rec;
  }

  /** The adapter's PEFT files zipped under one folder named after the run. */
  async exportZip(id: string, ctx: Ctx): Promise<{ filename: string; zip: Uint8Array; tensors: string[] }> {
    const rec = await this.record(id);
    // Adapters stored before the spec was kept: the base model's shapes from the model itself (cached).
    const spec = rec.spec ?? (this.host.loaded()?.info.id === rec.baseModel ? this.host.loaded()!.model.spec : (await this.host.ensureModel(ctx, rec.baseModel)).spec);
    const { files } = exportPeft(spec, rec.state, rec.baseModel);
    const folder = peftFolderName(`${rec.baseModel.replace(/^[a-z]+:/, '').split('/').at(-1)}-${rec.runId}-${rec.gridRun}`);
    return { filename: `${folder}.zip`, zip: zipPeftFolder(folder, files), tensors: Object.keys(rec.state.tensors) };
  }

  /** Import (zip or the two files), then score base and adapted model on the probe's HOMO / ID / OOD sets. */
  async evaluate(probeId: string, input: { zip?: Uint8Array; files?: Record<string, Uint8Array> }, ctx: Ctx): Promise<AdapterEvaluation> {
    const p = await this.host.probeRecord(probeId);
    const folder = input.zip
      ? isZip(input.zip)
        ? unzipPeftFolder(input.zip)
        : (() => {
            throw new LabError('not-a-zip', 'The file is not a zip archive.', 'Give the zip of a PEFT adapter folder, or pick adapter_config.json and adapter_model.safetensors together.');
          })()
      : peftFromFiles(new Map(Object.entries(input.files ?? {})));
    const model = await this.host.ensureModel(ctx, p.modelId);
    ctx.progress({ stage: 'import', done: 0, total: 1, detail: 'checking the adapter' });
    const state = await importPeft(model.spec, folder.config, folder.weights, { loadedModel: model.id });
    const cfg = browserExperimentConfig({ name: 'adapter', modelId: p.modelId, source: p.config.source, probe: p.config, split: p.split, maxPositions: model.spec.maxPositionEmbeddings });
    const splits = splitsOf(cfg, p.bank);
    const tests: TestSets = { homo: splits.homo, id: splits.id, ood: splits.ood };
    const total = TEST_SETS.reduce((a, s) => a + (tests[s]?.length ?? 0), 0);
    const opts = (stage: string) => ({
      fewShot: p.bank.fewShot, method: beliefMethodOf(cfg.probe.method), layout: cfg.prompt, batchSize: cfg.evaluation.batchSize, signal: ctx.signal,
      onProgress: (set: string, done: number) => ctx.progress({ stage, done, total, detail: set }),
    });
    const kshot = await scoreTestSets(model, tests, { kind: 'kshot', shots: cfg.probe.shots }, null, opts('base k-shot'));
    const chat = await scoreTestSets(model, tests, { kind: 'chat' }, null, opts('base chat'));
    const ref = await model.loadAdapter(state);
    let tuned;
    try {
      tuned = await scoreTestSets(model, tests, { kind: 'chat' }, ref, opts('adapter'));
    } finally {
      model.unloadAdapter(ref);
    }
    const bootstrap = { samples: cfg.evaluation.bootstrapSamples, seed: cfg.evaluation.bootstrapSeed };
    const protocols: AdapterEvaluation['protocols'] = { paper: {}, likeForLike: {} };
    for (const s of TEST_SETS) {
      if (!tuned[s]) continue;
      protocols.paper[s] = compareScores(kshot[s]!, tuned[s], bootstrap) satisfies SetReport;
      protocols.likeForLike[s] = compareScores(chat[s]!, tuned[s], bootstrap);
    }
    return {
      baseModel: state.baseModel, modelId: model.id, rank: state.config.rank, alpha: state.config.alpha, targets: [...state.config.targets],
      warnings: state.warnings, protocols,
    };
  }
}
