/**
 * The CLI's door to models: the built-in toy world, a local folder in Hugging Face layout, or a Hub id
 * (downloaded once into ~/.cache/ift-lab/hub) — all checked by the same code as in the app, then uploaded
 * to the engine (WebGPU through Dawn, or the CPU backend: src/cli/gpu.ts).
 */
import { createHash } from 'node:crypto';
import fs, { openAsBlob } from 'node:fs';
import { access } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import type { ExperimentConfig } from '../lab/experiment';
import type { DeviceInfo } from '../lab/manifest';
import { LabError } from '../lab/errors';
import type { AdapterState, LabModel } from '../lab/model';
import { BUILTIN_MODELS } from '../model/builtin';
import { DirectoryModelCache } from '../model/cache-node';
import { createEngineModel, type EngineModel } from '../model/engine-model';
import { loadFolderFiles, loadModelFiles, type ModelFiles } from '../model/hub';
import { checkModelFiles } from '../model/load';
import { exportPeft } from '../model/lora';
import { nodeRuntime } from './gpu';
import { packageRoot } from './paths';

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

function folderReader(dir: string) {
  return async (file: string) => {
    const p = path.join(dir, file);
    return (await exists(p)) ? openAsBlob(p) : null;
  };
}

async function modelFiles(id: string, revision: string, onLog?: (s: string) => void): Promise<ModelFiles> {
  // Own keys only: "toString" is not a built-in model (it is on every object's prototype).
  if (Object.hasOwn(BUILTIN_MODELS, id)) return loadFolderFiles(id, folderReader(path.join(packageRoot(), 'public', BUILTIN_MODELS[id])));
  if (id.startsWith('.') || id.startsWith('/')) {
    if (!fs.existsSync(id) || !fs.statSync(id).isDirectory()) {
      throw new LabError('model-folder-missing', `The model folder ${path.resolve(id)} does not exist.`, 'A model id starting with . or / is a local folder (config.json, tokenizer.json, model.safetensors): check the path, or give a Hub id such as Qwen/Qwen2.5-0.5B.');
    }
    return loadFolderFiles(id, folderReader(path.resolve(id)));
  }
  const cache = new DirectoryModelCache(path.join(process.env.IFT_LAB_CACHE ?? path.join(homedir(), '.cache', 'ift-lab'), 'hub'));
  let last = '';
  return loadModelFiles(id, {
    revision,
    cache,
    // A mirror (HF_ENDPOINT is the Hugging Face convention; IFT_LAB_HUB_URL wins), or a local server in tests.
    baseUrl: process.env.IFT_LAB_HUB_URL || process.env.HF_ENDPOINT || undefined,
    token: process.env.HF_TOKEN,
    onProgress: (p) => {
      const line = `${p.file}: ${(p.bytesDone / 2 ** 20).toFixed(1)} MB${p.fromCache ? ' (cached)' : ''}`;
      if (p.done && line !== last) onLog?.((last = line));
    },
  });
}

const loaded = new WeakMap<LabModel, { files: ModelFiles; engine: EngineModel }>();

export async function createModel(config: ExperimentConfig, onLog?: (s: string) => void): Promise<EngineModel> {
  const files = await modelFiles(config.model.id, config.model.revision, onLog);
  const checked = checkModelFiles(files);
  const { rt, reason } = await nodeRuntime(config.device ?? 'auto');
  onLog?.(`device: ${reason}`);
  // `auto`: an F32 checkpoint that fits comfortably stays f32 (the built-in model does), others pack to f16.
  const engine = await createEngineModel(rt, checked, { precision: config.model.precision ?? 'auto', id: config.model.id });
  onLog?.(`weights: ${engine.precision} — ${engine.precisionReason}`);
  loaded.set(engine, { files, engine });
  return engine;
}

/** SHA-256 of the weight files (what the manifest records), and the device the engine ran on. */
export async function modelEnv(model: LabModel): Promise<{ weightsHash: string | null; device: DeviceInfo | null }> {
  const m = loaded.get(model);
  if (!m) return { weightsHash: null, device: null };
  const h = createHash('sha256');
  for (const blob of m.files.weightFiles.values()) {
    const reader = blob.stream().getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) h.update(r.value);
  }
  const a = m.engine.core.rt.summary();
  return {
    weightsHash: h.digest('hex'),
    device: { backend: a.backend, vendor: a.vendor, architecture: a.architecture, description: a.description, fallback: a.fallback, precision: m.engine.precision, precisionReason: m.engine.precisionReason },
  };
}

/** A trained adapter as a PEFT folder's files (adapter_config.json, adapter_model.safetensors). */
export function peftFiles(model: LabModel, state: AdapterState, baseModel: string): Record<string, Uint8Array> {
  const m = loaded.get(model);
  if (!m) throw new Error('peftFiles: not a model the CLI loaded');
  return exportPeft(m.engine.spec, state, baseModel).files;
}
