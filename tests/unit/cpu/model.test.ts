// The CPU backend runs the model cases the WebGPU suite runs (tests/helpers/model-cases.ts): the decoder's
// logits and one LoRA step against PyTorch float64 golden values, scoring through the prefix cache, and
// LabModel.train end to end — with the same bounds.
import { goldenForwardCases, goldenStepCases, scoringCases, trainCases } from '../../helpers/model-cases';
import { cpuFixtureModel } from '../../helpers/cpu-model';

goldenForwardCases('CPU', (name) => cpuFixtureModel(name));
goldenStepCases('CPU', (name) => cpuFixtureModel(name));
scoringCases('CPU', (name, opts) => cpuFixtureModel(name, opts));
trainCases('CPU', (name) => cpuFixtureModel(name));
