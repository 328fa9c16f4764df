/**
 * The only door from the lab's science to a language model. The lab knows nothing of GPUs: `src/model`
 * implements this over the WebGPU engine (the same engine scores base and tuned models, so kernel and
 * quantisation differences never pollute the consistency metric).
 */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface LabTokenizer {
  /** Token ids of `text`, with no special tokens added. */
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  /** The model's own chat template (from tokenizer_config.json), rendered to text. */
  applyChatTemplate(messages: readonly ChatMessage[], opts?: { addGenerationPrompt?: boolean }): string;
  /** 'vicuna-fallback' when the model ships no chat template and the lab renders Vicuna's (the paper's); the manifest records it. */
  readonly chatTemplate?: 'model' | 'vicuna-fallback';
  readonly bosTokenId: number | null;
  readonly eosTokenIds: readonly number[];
  readonly vocabSize: number;
}

/** A trained adapter the model layer holds; the lab refers to it by id. `null` means the base model. */
export interface AdapterRef {
  readonly id: string;
}

export interface NextTokenRequest {
  /** Tokens shared by every prompt (the k-shot prefix): encoded once, its KV cache reused. */
  prefix?: readonly number[];
  /** Each prompt continues the prefix. */
  prompts: readonly (readonly number[])[];
  /** Token ids whose log-probabilities are wanted (e.g. the four option letters). */
  candidates: readonly number[];
  adapter?: AdapterRef | null;
}

export interface ContinuationRequest {
  prompts: readonly (readonly number[])[];
  /** For each prompt, the continuation whose summed log-probability is wanted. */
  continuations: readonly (readonly number[])[];
  adapter?: AdapterRef | null;
}

export interface GenerateOptions {
  maxNewTokens: number;
  /** 0 = greedy. */
  temperature?: number;
  topP?: number;
  /** Stop when the decoded continuation ends with one of these. EOS always stops. */
  stop?: readonly string[];
  seed?: number;
  adapter?: AdapterRef | null;
}

// The training vocabulary is the model's (src/model/types.ts); the lab names it through this port, as types.
import type { AdapterState, TrainConfig, TrainExample, TrainHooks } from '../model/types';
export type { AdapterState, DeviceSpeed, LoraConfig, LoraTarget, SpeedShapes, StepEvent, TrainConfig, TrainExample, TrainHooks } from '../model/types';

export interface LabModel {
  readonly id: string;
  readonly tokenizer: LabTokenizer;
  /** Per prompt: log p(candidate | prefix + prompt) under the full-vocabulary softmax, one per candidate. */
  nextTokenLogProbs(req: NextTokenRequest): Promise<Float32Array[]>;
  /** Per prompt: Σ log p(continuation tokens | prompt). */
  continuationLogProbs(req: ContinuationRequest): Promise<number[]>;
  /** New token ids (not including the prompt). */
  generate(prompt: readonly number[], opts: GenerateOptions): Promise<number[]>;
  /** LoRA fine-tuning; throws NonFiniteError (engine) if the loss or a gradient stops being finite. */
  train(examples: readonly TrainExample[], config: TrainConfig, hooks?: TrainHooks): Promise<AdapterState>;
  /** Make a trained adapter usable in scoring and generation. */
  loadAdapter(state: AdapterState): Promise<AdapterRef>;
  unloadAdapter(ref: AdapterRef): void;
}
