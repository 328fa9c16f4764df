// A fixture model on the CPU backend (no GPU driver needed: the unit suite runs it).
import { CpuRuntime } from '../../src/engine/cpu-runtime';
import { makeFixture } from '../../src/model/fixtures';
import { createTokenizer } from '../../src/model/tokenizer';
import { createEngineModel, type EngineModel, type EngineModelOptions } from '../../src/model/engine-model';

export async function cpuFixtureModel(name: string, opts: EngineModelOptions = {}, rt = new CpuRuntime()): Promise<EngineModel> {
  const fx = makeFixture(name);
  const tokenizer = createTokenizer(fx.tokenizerJson, fx.tokenizerConfig, { spec: fx.spec });
  return createEngineModel(rt, { spec: fx.spec, tokenizer, weights: fx.weights }, { id: name, ...opts });
}
