/**
 * From a Hub repository to checked parts: ModelSpec (config.json), the tokenizer (fits the embedding), and
 * lazily readable weights whose names and shapes match the config. Every failure is a typed EngineError.
 */
import { mergeEosTokenIds, parseConfig } from './config';
import { loadModelFiles, type HubOptions, type ModelFiles } from './hub';
import { checkTensors, type TensorReader } from './safetensors';
import type { ModelSpec } from './spec';
import { createTokenizer, type HfTokenizer } from './tokenizer';

export interface CheckedModel {
  modelId: string;
  revision: string;
  /** eosTokenIds already include generation_config.json's. */
  spec: ModelSpec;
  tokenizer: HfTokenizer;
  weights: TensorReader;
  generationConfig: unknown | null;
  bytes: number;
}

/** Validate downloaded files against each other (config ↔ weights ↔ tokenizer). */
export function checkModelFiles(files: ModelFiles): CheckedModel {
  const parsed = parseConfig(files.config);
  const spec: ModelSpec = { ...parsed, eosTokenIds: mergeEosTokenIds(parsed, files.generationConfig) };
  checkTensors(files.weights.tensors, spec);
  const tokenizer = createTokenizer(files.tokenizer, files.tokenizerConfig, { spec });
  return {
    modelId: files.modelId, revision: files.revision, spec, tokenizer, weights: files.weights,
    generationConfig: files.generationConfig, bytes: files.bytes,
  };
}

/** Download (or read from the cache) and check a model. */
export async function loadCheckedModel(modelId: string, opts: HubOptions = {}): Promise<CheckedModel> {
  return checkModelFiles(await loadModelFiles(modelId, opts));
}
