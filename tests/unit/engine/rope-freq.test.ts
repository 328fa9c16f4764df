import { describe, expect, it } from 'vitest';
import { ropeInvFreq } from '../../../src/engine/kernels/rope/rope';
import torch from '../fixtures/rope_inv_freq.json';

// The fixture was computed with PyTorch 1.13 (f32) by a transcription of Hugging Face's
// _compute_default_rope_parameters and _compute_llama3_parameters (head dim 64):
// smol = SmolLM2 (θ 1e5), qwen = Qwen2.5 (θ 1e6), llama32 = Llama-3.2 (θ 5e5, factor 32, low 1, high 4, 8192).
const CASES = {
  smol: { headDim: 64, ropeTheta: 100000, ropeScaling: null },
  qwen: { headDim: 64, ropeTheta: 1000000, ropeScaling: null },
  llama32: {
    headDim: 64,
    ropeTheta: 500000,
    ropeScaling: { factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 },
  },
} as const;

describe('ropeInvFreq matches Hugging Face (PyTorch f32)', () => {
  for (const [name, spec] of Object.entries(CASES)) {
    it(name, () => {
      const got = ropeInvFreq(spec);
      const want = (torch as Record<string, number[]>)[name];
      expect(got.length).toBe(want.length);
      for (let i = 0; i < want.length; i++) {
        // f32 pow may differ from torch's by an ulp or two; nothing else may.
        expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(3e-7 * want[i]);
      }
    });
  }
  it('llama3 scaling really changes the low frequencies and keeps the high ones', () => {
    const plain = ropeInvFreq({ ...CASES.llama32, ropeScaling: null });
    const scaled = ropeInvFreq(CASES.llama32);
    expect(scaled[0]).toBe(plain[0]);
    expect(scaled[31]).toBeCloseTo(plain[31] / 32, 12);
  });
});
