import type { AdapterState, TrainConfig, TrainExample, TrainHooks } from '../lab/model';
import type { EngineModel } from './engine-model';

export async function trainLora(model: EngineModel, examples: readonly TrainExample[], config: TrainConfig, hooks?: TrainHooks): Promise<AdapterState> {
  void model; void examples; void config; void hooks;
  throw new Error('not yet');
}
