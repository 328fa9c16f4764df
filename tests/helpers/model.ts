// A fixture model on the engine for the model tests. One Runtime per test file, so that compiled pipelines
// are shared between the models a file makes (SwiftShader compiles slowly).
import { makeFixture } from '../../src/model/fixtures';
import { createTokenizer } from '../../src/model/tokenizer';
import { createEngineModel, type EngineModel, type EngineModelOptions } from '../../src/model/engine-model';
import type { GpuRuntime } from '../../src/engine/runtime';
import { testRuntime } from './gpu';

let shared: Promise<GpuRuntime> | undefined;

/** The GpuRuntime shared by this file's models. */
export function modelRuntime(): Promise<GpuRuntime> {
  return (shared ??= testRuntime());
}

export async function fixtureModel(name: string, precision: 'f32' | 'f16', opts: EngineModelOptions = {}): Promise<EngineModel> {
  const fx = makeFixture(name);
  const rt = await modelRuntime();
  const tokenizer = createTokenizer(fx.tokenizerJson, fx.tokenizerConfig, { spec: fx.spec });
  return createEngineModel(rt, { spec: fx.spec, tokenizer, weights: fx.weights }, { precision, id: name, ...opts });
}
