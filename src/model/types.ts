/**
 * The model layer's vocabulary for LoRA fine-tuning: the adapter's configuration and state, the training
 * configuration, and what a training run reports. The lab names these through its port (src/lab/model.ts),
 * which re-exports them; they live here because the model is what they describe.
 */

/** One tokenised training sequence; the loss counts only positions whose mask is 1 (assistant tokens). */
export interface TrainExample {
  ids: readonly number[];
  /** Same length as `ids`: 1 where the token is a target of the loss. */
  lossMask: readonly number[];
}

export type LoraTarget = 'q' | 'k' | 'v' | 'o' | 'gate' | 'up' | 'down';

export interface LoraConfig {
  rank: number;
  alpha: number;
  dropout: number;
  targets: readonly LoraTarget[];
}

export interface TrainConfig {
  lora: LoraConfig;
  learningRate: number;
  weightDecay: number;
  betas: readonly [number, number];
  eps: number;
  schedule: { kind: 'constant' | 'linear' | 'cosine'; warmupFraction: number };
  epochs: number;
  batchSize: number;
  /** Longer sequences are truncated from the left, keeping the answer. */
  maxSeqLen: number;
  /** Global gradient-norm clip; 0 disables. */
  clipNorm: number;
  seed: number;
}

export interface StepEvent {
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  learningRate: number;
  gradNorm: number;
  tokensPerSecond: number;
}

/** Everything needed to use or resume an adapter: plain arrays, storable in IndexedDB or files. */
export interface AdapterState {
  config: LoraConfig;
  /** PEFT tensor names (…q_proj.lora_A.weight) → values, row-major. */
  tensors: Record<string, Float32Array>;
  /** Optimizer steps taken. */
  step: number;
  /** Adam moments in the same order as `tensors`, for resuming. */
  optimizer?: { m: Record<string, Float32Array>; v: Record<string, Float32Array> };
}

export interface TrainHooks {
  onStep?(e: StepEvent): void;
  /** Called after each epoch; the lab checkpoints here. */
  onEpoch?(epoch: number, state: AdapterState): Promise<void> | void;
  signal?: AbortSignal;
  /** Continue from a checkpoint: its tensors, moments and step. */
  resumeFrom?: AdapterState;
}

/** This device's measured speed on a model's shapes (src/model/speed.ts), for the estimate before a run. */
export interface DeviceSpeed {
  /** Scoring: tokens forwarded per second in full batches. */
  forwardTokensPerSecond: number;
  /** Scoring: fixed cost of one model call (submit, read-back), seconds. */
  callSeconds: number;
  /** Training: seconds of one LoRA step of `stepTokens` padded tokens. */
  stepSeconds: number;
  stepTokens: number;
  /** Wall time the measurement took. */
  measuredSeconds: number;
  /** The shapes measured, for the record. */
  shapes: string;
  /**
   * Seconds per unit of the report's bootstrap (src/lab/estimate.ts ReportWork) on this machine's CPU, timed by
   * the lab beside the device and kept with it (absent: timed when the estimate is made).
   */
  bootstrapSecondsPerUnit?: number;
}

/** The shapes a speed measurement times: the experiment's scoring and training batches. */
export interface SpeedShapes {
  /** Prompts per scoring call (the experiment's batch). */
  scoreBatch: number;
  /** Tokens of a typical scored prompt after its shared prefix. */
  scoreSeq: number;
  trainBatch: number;
  /** Tokens of a typical training sequence. */
  trainSeq: number;
  /** Its tokens the loss counts (the reply; default half the sequence). */
  trainLoss?: number;
  lora: LoraConfig;
}
