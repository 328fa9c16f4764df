// LoRA training on the assembled decoder on WebGPU: one step against PyTorch float64 (loss, every LoRA
// gradient, the global norm, clipping and AdamW), then LabModel.train end to end. The cases are shared with
// the CPU backend (tests/helpers/model-cases.ts).
import { goldenStepCases, trainCases } from '../helpers/model-cases';
import { fixtureModel } from '../helpers/model';

goldenStepCases('WebGPU', (name) => fixtureModel(name, 'f32'));
// SwiftShader costs ~40 ms a dispatch here, so the train case keeps to 10 steps of ~100 dispatches.
trainCases('WebGPU', (name) => fixtureModel(name, 'f32'));
