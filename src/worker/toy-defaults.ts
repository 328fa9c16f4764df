/**
 * The toy world's one-click experiment: every setting of the front page's "Run the whole toy-world
 * experiment", and the Probe, Datasets and Train pages' defaults when the question set is the toy world.
 * ONE constant, so the one click and the step-by-step pages run the same experiment; the numbers are
 * the same as examples/toy-world-quick.json (a unit test holds them equal). Plain data (type-only imports): the
 * page imports it without pulling in the lab.
 */
import type { ExperimentConfigInput } from '../lab/experiment-config';

export const TOY_EXPERIMENT = {
  name: 'toy-world',
  model: { id: 'builtin:toy-world' },
  // The seed is the shipped world.json's own (the Worker reads it from the file).
  questions: { kind: 'toyworld', seed: 1 },
  // Toy world v2: train on three relations, ID = two related ones, OOD = the other two (src/lab/toyworld TOY_SUBJECTS).
  subjects: { train: ['toy_continents', 'toy_currencies', 'toy_founders'], related: ['toy_languages', 'toy_exports'] },
  // Test sets of 40: the toy world is for seeing the effect in minutes, even on a software GPU.
  splits: { seed: 42, homoFraction: 0.3, caps: { train: 150, homo: 40, id: 40, ood: 40 } },
  probe: { shots: 3, threshold: 0.5, method: 'letter', batchSize: 8 },
  conditions: ['harmonious', 'incompatible', 'selfAligning', 'randomWrong'],
  seeds: [1, 2, 3],
  dataSeed: 'per-seed',
  responses: 'letter',
  training: {
    lora: { rank: 8, alpha: 16, dropout: 0, targets: ['q', 'v'] },
    learningRate: 5e-3,
    schedule: { kind: 'constant', warmupFraction: 0 },
    epochs: 5,
    batchSize: 8,
    maxSeqLen: 256,
  },
  protocols: ['paper', 'like-for-like'],
} as const satisfies ExperimentConfigInput;
