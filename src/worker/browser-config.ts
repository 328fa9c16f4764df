/**
 * The page's step-by-step settings (Probe, Datasets, Train pages) as the lab's one ExperimentConfig, so the
 * browser runs exactly the experiment `ift-lab experiment` runs for the same JSON.
 */
import { parseExperimentConfig, type ExperimentConfig, type ExperimentConfigInput } from '../lab/experiment';
import { ConfigError } from '../lab/errors';
import type { LoraTarget } from '../lab/model';
import { LORA_TARGET_MODULES, LORA_TARGETS } from '../model/lora';
import type { SplitConfig } from '../lab/splits';
import type { ConditionId, ProbeConfig, QuestionSource, TrainSettings } from './protocol';

/** PEFT's module name of each target (q_proj → q), from the model layer's one table. */
const BY_PEFT_NAME = new Map<string, LoraTarget>(LORA_TARGETS.map((t) => [LORA_TARGET_MODULES[t].split('.')[1], t]));

/** The UI names projections as PEFT does (q_proj…); the lab as q, k, v, o, gate, up, down. Unknown names are refused. */
export function loraTargets(names: readonly string[]): LoraTarget[] {
  const unknown = names.filter((n) => !BY_PEFT_NAME.has(n));
  if (unknown.length)
    throw new ConfigError('LoRA target list', unknown.map((n) => `"${n}" is not a projection (use ${[...BY_PEFT_NAME.keys()].join(', ')})`));
  return names.map((n) => BY_PEFT_NAME.get(n)!);
}

function questionsOf(source: Pick<QuestionSource, 'type'> & Partial<{ seed: number; filename: string }>): ExperimentConfigInput['questions'] {
  if (source.type === 'toyworld') return { kind: 'toyworld', seed: source.seed ?? 1 };
  if (source.type === 'mmlu') return { kind: 'mmlu-hub' };
  return { kind: 'file', path: source.filename ?? 'questions' };
}

export interface BrowserPlan {
  name: string;
  modelId: string;
  source: Pick<QuestionSource, 'type'> & Partial<{ seed: number; filename: string }>;
  probe: Pick<ProbeConfig, 'k' | 'threshold' | 'strict' | 'slick'> & { method?: ExperimentConfig['probe']['method'] };
  split: SplitConfig;
  datasets?: { conditions: ConditionId[]; ratios: number[]; size: number; responses: 'letter' | 'explanation'; seed: number; general?: ExperimentConfigInput['general'] };
  train?: TrainSettings;
  /** The model's context length: the training sequences are cut to it. */
  maxPositions: number;
}

/** Probe method of the page's settings: an explicit method, else strict or the paper's letter probe. */
export function probeMethodOf(p: BrowserPlan['probe']): ExperimentConfig['probe']['method'] {
  return p.method ?? (p.strict ? 'strict' : 'letter');
}

export function browserExperimentConfig(plan: BrowserPlan): ExperimentConfig {
  const d = plan.datasets;
  const t = plan.train;
  const input: ExperimentConfigInput = {
    name: plan.name,
    model: { id: plan.modelId },
    questions: questionsOf(plan.source),
    subjects: { train: [...plan.split.trainSubjects], related: plan.split.related === 'category' ? 'category' : [...plan.split.related] },
    splits: {
      seed: plan.split.seed,
      homoFraction: plan.split.homoFraction,
      caps: { ...plan.split.caps },
      ...(plan.split.allowEmpty ? { allowEmpty: plan.split.allowEmpty.filter((s): s is 'homo' | 'id' | 'ood' => s !== 'train') } : {}),
    },
    probe: { shots: plan.probe.k, threshold: plan.probe.threshold, method: probeMethodOf(plan.probe), batchSize: 8, ...(plan.probe.slick ? { slick: true } : {}) },
    ...(d
      ? {
          conditions: [...new Set(d.conditions)],
          ratios: d.ratios.length ? [...d.ratios] : [0],
          size: d.size,
          responses: d.responses === 'explanation' ? 'letter+explanation' : 'letter',
          dataSeed: t?.dataSeed ?? d.seed,
          ...(d.general ? { general: d.general } : {}),
        }
      : {}),
    seeds: t ? (t.seeds?.length ? [...t.seeds] : [t.seed]) : [1],
    training: {
      lora: t ? { rank: t.lora.rank, alpha: t.lora.alpha, dropout: t.lora.dropout, targets: loraTargets(t.lora.targets) } : { rank: 8, alpha: 16, targets: ['q', 'v'] },
      learningRate: t?.lr ?? 1e-4,
      schedule: { kind: t?.schedule ?? 'cosine', warmupFraction: t?.warmup ?? 0.03 },
      epochs: t?.epochs ?? 3,
      batchSize: t?.batch ?? 8,
      maxSeqLen: Math.max(8, Math.min(512, plan.maxPositions)),
    },
    protocols: ['paper', 'like-for-like'],
  };
  return parseExperimentConfig(input);
}
