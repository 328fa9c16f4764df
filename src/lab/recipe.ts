/**
 * Export an experiment as a Hugging Face TRL/PEFT recipe: the lab's datasets (prompt-completion JSONL,
 * loss on the completion only), test sets, few-shot examples, a config JSON with the same hyper-parameters
 * and a short Python script, so the same grid runs on a 7B model on a GPU machine.
 */
import { TEST_SETS, type TestSets } from './evaluate';
import { datasetFileStem, planGrid, protocolsOf } from './experiment';
import type { ExperimentConfig } from './experiment-config';
import type { IftDataset } from './intervene';
import type { LoraTarget } from './model';
import type { ScoringFormat } from './probe';
import type { Question } from './questions/types';
import script from './recipe/train.py?raw';

/** Llama / Qwen2 / Mistral module names of the lab's LoRA targets. */
export const HF_TARGET_MODULES: Record<LoraTarget, string> = {
  q: 'q_proj',
  k: 'k_proj',
  v: 'v_proj',
  o: 'o_proj',
  gate: 'gate_proj',
  up: 'up_proj',
  down: 'down_proj',
};

export interface RecipeInput {
  config: ExperimentConfig;
  /** The grid's datasets; with data redrawn per seed, one per (condition, data seed). */
  datasets: readonly (IftDataset & { dataSeed?: number })[];
  tests: TestSets;
  fewShot: readonly Question[];
}

function jsonl(rows: readonly unknown[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

function questionRow(q: Question) {
  return { id: q.id, subject: q.subject, question: q.question, options: q.options, answer: q.answer };
}

/** File path → contents (text). Write them into a folder and run `python train.py`. */
export function exportRecipe(input: RecipeInput): Record<string, string> {
  const { config } = input;
  const files: Record<string, string> = {};
  const stem = (d: { name: string; dataSeed?: number }) => datasetFileStem({ name: d.name, dataSeed: d.dataSeed ?? 0 }, config);
  for (const ds of input.datasets) {
    // TRL's conversational prompt-completion format: the loss covers the completion (assistant) only.
    files[`datasets/${stem(ds)}.jsonl`] = jsonl(ds.conversations.map((c) => ({ prompt: c.slice(0, -1), completion: c.slice(-1) })));
  }
  const testSets = TEST_SETS.filter((s) => input.tests[s]?.length);
  for (const s of testSets) files[`tests/${s}.jsonl`] = jsonl(input.tests[s]!.map(questionRow));
  files['fewshot.jsonl'] = jsonl(input.fewShot.map(questionRow));
  const names = new Set(input.datasets.map((d) => stem(d)));
  const runs = planGrid(config)
    .map((r) => ({ runId: r.runId, dataset: stem({ name: r.condition, dataSeed: r.dataSeed }), seed: r.seed }))
    .filter((r) => names.has(r.dataset));
  const t = config.training;
  const spec = (f: ScoringFormat) => (f.kind === 'kshot' ? { kind: 'kshot', shots: f.shots } : { kind: 'chat', shots: 0 });
  const protocols = protocolsOf(config).map((p) => ({ name: p.name, base: spec(p.base), tuned: spec(p.tuned) }));
  files['config.json'] =
    JSON.stringify(
      {
        name: config.name,
        exportedBy: 'IFT Lab',
        model: config.model,
        training: { ...t, lora: { ...t.lora, targetModules: t.lora.targets.map((x) => HF_TARGET_MODULES[x]) } },
        protocols,
        testSets,
        runs,
        datasets: input.datasets.map((d) => ({ name: stem(d), condition: d.name, dataSeed: d.dataSeed ?? null, kind: d.kind, ratio: d.ratio ?? null, items: d.items.length, generalCount: d.generalCount, sha256: d.hash })),
        note: 'LoRA on the listed projections (the paper fine-tunes all weights); loss on assistant tokens only.',
      },
      null,
      2,
    ) + '\n';
  files['train.py'] = script;
  files['README.md'] =
    `# ${config.name}: IFT Lab recipe\n\n` +
    `The lab's ${input.datasets.length} datasets (${runs.length} runs: ${config.seeds.length} seed(s) each) for transformers + PEFT + TRL.\n\n` +
    '```\npip install "torch>=2.3" "transformers>=4.51" "peft>=0.15" "trl>=0.20" datasets\npython train.py --model <hub id of a 7B base model>\n```\n\n' +
    'Results go to runs/results.json: accuracy, consistency C and KL per test set, overall and for known/unknown questions.\n';
  return files;
}
