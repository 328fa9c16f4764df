/**
 * Where to start training a Hub model of each curated family: LoRA and optimiser settings with the reason
 * for each, shown on the Train page for the model chosen on the Model page. Starting points, not measured
 * protocols: the lab has shown its toy-world protocol to move the model (docs/reproduction-toy-world.md), not
 * these; read each condition's training fit before reading a contrast. The paper fine-tunes every weight for
 * 3 epochs at 2e-5, cosine, 3 % warm-up; LoRA moves a few parameters and takes a rate about ten times larger.
 */
import type { ExperimentConfigInput } from '../lab/experiment-config';

type Training = Required<Pick<NonNullable<ExperimentConfigInput['training']>, 'lora' | 'learningRate' | 'epochs' | 'batchSize' | 'schedule'>>;

export interface StartingPoint {
  family: string;
  training: Training;
  /** One line: why these settings for this family. */
  why: string;
}

const ALL = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const;
const COSINE = { kind: 'cosine', warmupFraction: 0.03 } as const;

export const STARTING_POINTS: readonly (StartingPoint & { match: RegExp })[] = [
  {
    family: 'SmolLM2',
    match: /(^|\/)SmolLM2-/i,
    training: { lora: { rank: 16, alpha: 32, dropout: 0, targets: [...ALL] }, learningRate: 1e-3, epochs: 3, batchSize: 8, schedule: COSINE },
    why: 'Small models (135M, 360M) near chance on MMLU: LoRA on every projection at the high end of LoRA rates, so three epochs can move what little the model believes.',
  },
  {
    family: 'Qwen2.5',
    match: /(^|\/)Qwen2\.5-/i,
    training: { lora: { rank: 16, alpha: 32, dropout: 0.05, targets: [...ALL] }, learningRate: 2e-4, epochs: 3, batchSize: 16, schedule: COSINE },
    why: 'The paper’s schedule with the rate LoRA needs (ten times its 2e-5), as examples/mmlu-qwen2.5-0.5b.json: the smallest curated model clearly above chance on MMLU, whose beliefs a gentle rate keeps.',
  },
  {
    family: 'Llama-3.2',
    match: /(^|\/)Llama-3\.2-/i,
    training: { lora: { rank: 16, alpha: 32, dropout: 0, targets: ['q', 'k', 'v', 'o'] }, learningRate: 2e-4, epochs: 3, batchSize: 8, schedule: COSINE },
    why: 'The largest curated model (1.2B, a 128k vocabulary): attention-only LoRA and batch 8 keep a step within a laptop GPU’s memory; add the MLP projections where memory allows.',
  },
];

/** The starting point of a model's family (its -Instruct variant's too), or null for the toy world and other models. */
export function startingPointFor(modelId: string): StartingPoint | null {
  const p = STARTING_POINTS.find((s) => s.match.test(modelId));
  return p ? { family: p.family, training: p.training, why: p.why } : null;
}
