/**
 * The experiment's forms, saved and mirrored in the URL. Their defaults are the toy world's one-click
 * experiment (TOY_EXPERIMENT), the question set they start on; the hints name the paper's settings.
 */
import { TOY_EXPERIMENT } from '../../worker/toy-defaults';
import { PersistedForm } from './settings.svelte';

const T = TOY_EXPERIMENT;
/** The Train page names projections as PEFT does. */
export const PEFT_NAME: Record<string, string> = { q: 'q_proj', k: 'k_proj', v: 'v_proj', o: 'o_proj', gate: 'gate_proj', up: 'up_proj', down: 'down_proj' };

export const MMLU_SUBJECTS = [
  'abstract_algebra', 'anatomy', 'astronomy', 'business_ethics', 'clinical_knowledge', 'college_biology', 'college_chemistry',
  'college_computer_science', 'college_mathematics', 'college_medicine', 'college_physics', 'computer_security', 'conceptual_physics',
  'econometrics', 'electrical_engineering', 'elementary_mathematics', 'formal_logic', 'global_facts', 'high_school_biology',
  'high_school_chemistry', 'high_school_computer_science', 'high_school_european_history', 'high_school_geography',
  'high_school_government_and_politics', 'high_school_macroeconomics', 'high_school_mathematics', 'high_school_microeconomics',
  'high_school_physics', 'high_school_psychology', 'high_school_statistics', 'high_school_us_history', 'high_school_world_history',
  'human_aging', 'human_sexuality', 'international_law', 'jurisprudence', 'logical_fallacies', 'machine_learning', 'management',
  'marketing', 'medical_genetics', 'miscellaneous', 'moral_disputes', 'moral_scenarios', 'nutrition', 'philosophy', 'prehistory',
  'professional_accounting', 'professional_law', 'professional_medicine', 'professional_psychology', 'public_relations',
  'security_studies', 'sociology', 'us_foreign_policy', 'virology', 'world_religions',
] as const;

export const probeForm = new PersistedForm(
  'probe',
  { source: 'toyworld', subjects: ['high_school_biology', 'college_biology', 'anatomy'] as string[], k: T.probe.shots as number, threshold: T.probe.threshold as number, method: T.probe.method as string, seed: T.splits.seed as number },
  { page: 'probe', keys: ['source', 'subjects', 'k', 'threshold', 'method', 'seed'] },
);

export const CONDITIONS = [
  { id: 'harmonious', label: 'Harmonious', hint: 'known questions, gold answer (= the model’s belief)' },
  { id: 'incompatible', label: 'Incompatible', hint: 'unknown questions, gold answer (new knowledge)' },
  { id: 'selfAligning', label: 'Self-aligning', hint: 'the same unknown questions, the model’s own (wrong) answer' },
  { id: 'randomWrong', label: 'Random-wrong', hint: 'control: a random wrong option (not in the paper)' },
  { id: 'mixture', label: 'Mixtures', hint: 'Incompatible with a fraction r replaced by Self-aligning items' },
] as const;

export const datasetsForm = new PersistedForm(
  'datasets',
  {
    conditions: [...T.conditions] as string[],
    ratios: '0, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1',
    // The one-click's size (the page clamps it to what the probe allows; 0 = the largest size every condition can have).
    size: T.size as number,
    responses: T.responses as string,
    seed: 42,
    // General instruction data: none until a source is chosen ('toyworld' or 'file'); the paper's share is 1.
    general: 'none' as string,
    generalRatio: 1,
  },
  { page: 'datasets', keys: ['conditions', 'ratios', 'size', 'responses', 'seed', 'general', 'generalRatio'] },
);

export const LORA_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;

export const trainForm = new PersistedForm(
  'train',
  {
    rank: T.training.lora.rank as number,
    alpha: T.training.lora.alpha as number,
    dropout: T.training.lora.dropout as number,
    targets: T.training.lora.targets.map((t) => PEFT_NAME[t]) as string[],
    lr: T.training.learningRate as number,
    epochs: T.training.epochs as number,
    batch: T.training.batchSize as number,
    schedule: T.training.schedule.kind as string,
    warmup: T.training.schedule.warmupFraction as number,
    seeds: T.seeds.join(', ') as string,
    dataSeed: (T.dataSeed === 'per-seed' ? 'per-seed' : 'fixed') as string,
    protocol: 'paper',
  },
  { page: 'train', keys: ['rank', 'alpha', 'dropout', 'targets', 'lr', 'epochs', 'batch', 'schedule', 'warmup', 'seeds', 'dataSeed', 'protocol'] },
);

/** "0, 0.05, 0.1" → sorted unique ratios in [0, 1], and the parts that are not. */
export function parseRatios(text: string): { ratios: number[]; bad: string[] } {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  const bad = parts.filter((p) => !(Number(p) >= 0 && Number(p) <= 1));
  const ratios = parts.map(Number).filter((x, i, all) => x >= 0 && x <= 1 && all.indexOf(x) === i).sort((a, b) => a - b);
  return { ratios, bad };
}

/** "1, 2, 3" → distinct whole-number seeds in the order given, and the parts that are not seeds. */
export function parseSeeds(text: string): { seeds: number[]; bad: string[] } {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  const ok = (p: string) => /^\d{1,9}$/.test(p);
  const seeds = parts.filter(ok).map(Number);
  return { seeds: seeds.filter((x, i) => seeds.indexOf(x) === i), bad: parts.filter((p) => !ok(p)) };
}
