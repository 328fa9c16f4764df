// The Worker's `estimate` request finds the configuration's questions where the browser can reach them.
import { describe, expect, it } from 'vitest';
import { parseExperimentConfig } from '../../src/lab/experiment-config';
import { sourceOfConfig } from '../../src/worker/estimate';

const base = { name: 'x', model: { id: 'builtin:toy-world' }, subjects: { train: ['anatomy'], related: ['virology'] }, training: { lora: { rank: 4, alpha: 8, targets: ['q'] }, learningRate: 1e-3 } };

describe('sourceOfConfig', () => {
  it('toy world and MMLU from the Hub map to protocol sources; paths need the file sent with the request', () => {
    expect(sourceOfConfig(parseExperimentConfig({ ...base, questions: { kind: 'toyworld', seed: 7 } }))).toEqual({ type: 'toyworld', seed: 7 });
    expect(sourceOfConfig(parseExperimentConfig({ ...base, questions: { kind: 'mmlu-hub' } }))).toEqual({ type: 'mmlu', subjects: ['anatomy', 'virology'] });
    expect(() => sourceOfConfig(parseExperimentConfig({ ...base, questions: { kind: 'file', path: 'q.csv' } }))).toThrow(/cannot read the file q\.csv/);
  });
});
