/**
 * What RoPE needs to know of a model: its head size, base and optional Llama-3 frequency scaling. It lives in
 * the engine so the rope kernel need not import the model layer; src/model/spec.ts builds ModelSpec on it.
 */
export interface Llama3RopeScaling {
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

export interface RopeSpec {
  headDim: number;
  ropeTheta: number;
  /** Llama-3.x "llama3" frequency scaling; null for plain RoPE. */
  ropeScaling: Llama3RopeScaling | null;
}
