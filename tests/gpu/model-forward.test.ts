// The assembled decoder against PyTorch (float64) golden logits, and the LabModel scoring paths against
// each other (shared-prefix KV cache vs full recomputation, an untrained adapter vs the base).
import { describe, expect, it } from 'vitest';
import { goldenForwardCases, scoringCases, worstGoldenDiff } from '../helpers/model-cases';
import { fixtureModel } from '../helpers/model';

goldenForwardCases('WebGPU', (name) => fixtureModel(name, 'f32'));

describe('WebGPU: packed f16 weights vs PyTorch float64 golden logits', () => {
  // Packed f16 weights round every weight to 11 significant bits (relative 2^-12 ≈ 2.4e-4); through two
  // layers and the LM head that moves logits by ~1e-3: 1e-2 bounds it with margin.
  it('tiny-qwen2, packed f16 weights: |Δlogit| < 1e-2', async () => {
    const m = await fixtureModel('tiny-qwen2', 'f16');
    expect(m.precision).toBe('f16');
    const worst = await worstGoldenDiff(m, 'tiny-qwen2');
    console.log(`tiny-qwen2 f16 max |Δlogit| = ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-2);
    m.dispose();
  });
});

scoringCases('WebGPU', (name, opts) => fixtureModel(name, 'f32', opts));
