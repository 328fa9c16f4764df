/**
 * The CLI's door to models. A stub until the engine's Node model loading lands: the lead wires the real
 * factory here (Hub download or local folder → WebGPU model through Dawn → LabModel).
 */
import type { ExperimentConfig } from '../lab/experiment';
import { LabError } from '../lab/errors';
import type { DeviceInfo } from '../lab/manifest';
import type { LabModel } from '../lab/model';

export class ModelUnavailableError extends LabError {
  constructor(id: string) {
    super(
      'model-unavailable',
      `Cannot load model ${JSON.stringify(id)}: model loading in Node lands with the engine.`,
      'Run the experiment in the browser app for now; the CLI runs it once the engine can load models in Node.',
    );
  }
}

export async function createModel(config: ExperimentConfig): Promise<LabModel> {
  throw new ModelUnavailableError(config.model.id);
}

/** What the manifest records about the loaded model and the machine; filled in with the real factory. */
export async function modelEnv(_model: LabModel): Promise<{ weightsHash: string | null; device: DeviceInfo | null }> {
  return { weightsHash: null, device: null };
}
