/**
 * The toy world's one-click experiment: every setting of the front page's "Run the whole toy-world
 * experiment", and the Probe, Datasets and Train pages' defaults when the question set is the toy world.
 * ONE constant, so the one click and the step-by-step pages run the same experiment; examples/toy-world-quick.json
 * is the same experiment for the CLI (it fits ten minutes on the CPU backend: a unit test holds the two equal).
 * Plain data (type-only imports): the page imports it without pulling in the lab.
 */
import type { ExperimentConfigInput } from '../lab/experiment-config';

export const TOY_EXPERIMENT = {
  name: 'toy-world',
  model: { id: 'builtin:toy-world' },
  // The seed is the shipped world.json's own (the Worker reads it from the file).
  questions: { kind: 'toyworld', seed: 1 },
  // Toy world v3: train on three relations, ID = two related ones, OOD = the other two (src/lab/toyworld TOY_SUBJECTS).
  subjects: { train: ['toy_continents', 'toy_currencies', 'toy_founders'], related: ['toy_languages', 'toy_exports'] },
  // Every usable test question (HOMO 100, ID 116, OOD 116; the caps are ceilings): each interval ~√3 narrower than with 40.
  splits: { seed: 42, homoFraction: 0.35, caps: { train: 150, homo: 100, id: 128, ood: 128 } },
  // Debiased beliefs (each option's letter probability averaged over the four option orders): the letter probe's
  // "B" habit made Self-aligning learn a letter (docs/reproduction-toy-world.md, both belief methods).
  probe: { shots: 3, threshold: 0.5, method: 'debiased', batchSize: 8 },
  conditions: ['harmonious', 'incompatible', 'selfAligning', 'randomWrong'],
  // 30 items per condition (of the debiased probe's 64 known / 40 unknown in the pool): the committed one-click
  // run's (docs/results/toy-world-oneclick-debiased-e15, on a 2-core software GPU).
  size: 30,
  seeds: [1, 2, 3],
  dataSeed: 'per-seed',
  responses: 'letter',
  training: {
    lora: { rank: 8, alpha: 16, dropout: 0, targets: ['q', 'v'] },
    // From the committed runs (docs/reproduction-toy-world.md): with debiased beliefs, 10 epochs left one seed's
    // Harmonious at 50 % fit (H − I 0 in that seed, +22 to +32 in the others); 15 epochs.
    learningRate: 1e-2,
    schedule: { kind: 'constant', warmupFraction: 0 },
    epochs: 15,
    batchSize: 8,
    maxSeqLen: 256,
  },
  protocols: ['paper', 'like-for-like'],
} as const satisfies ExperimentConfigInput;

/**
 * The front page's second experiment, "Does new knowledge make it hallucinate?" (Gekhman et al. 2024): the same
 * world, model, split and training as TOY_EXPERIMENT, with SliCK categories from the debiased probe and training
 * sets of 0–100 % Unknown items (src/lab/unknown-share.ts, docs/slick.md); ID and OOD capped at 40 questions, since
 * every epoch of every run scores them. examples/toy-world-unknown-share.json is the same with 5 seeds (a unit
 * test holds them equal).
 */
export const TOY_UNKNOWN_SHARE = {
  name: 'toy-world-unknown-share',
  model: TOY_EXPERIMENT.model,
  questions: TOY_EXPERIMENT.questions,
  subjects: TOY_EXPERIMENT.subjects,
  splits: { seed: 42, homoFraction: 0.35, caps: { train: 150, homo: 100, id: 40, ood: 40 } },
  probe: { shots: 3, threshold: 0.5, method: 'debiased', batchSize: 8, slick: { prompts: 5, temperature: 0.5, samples: 16, threshold: 0.5 } },
  unknownShare: { shares: [0, 0.25, 0.5, 0.75, 1], rest: ['highlyKnown', 'maybeKnown'], devFraction: 0.15 },
  seeds: [1, 2, 3],
  dataSeed: 'per-seed',
  training: TOY_EXPERIMENT.training,
  evaluation: { bootstrapSamples: 1000, batchSize: 32 },
} as const satisfies ExperimentConfigInput;
