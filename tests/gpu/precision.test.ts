// Model loading honours `model.precision`: under auto an F32 tiny checkpoint uploads f32 weights, F16 and
// BF16 checkpoints upload packed f16 (the weights' bytes on the GPU tell which), explicit values win.
import { describe, expect, it } from 'vitest';
import { createEngineModel } from '../../src/model/engine-model';
import { makeFixture } from '../../src/model/fixtures';
import { createTokenizer } from '../../src/model/tokenizer';
import { checkpointAs } from '../helpers/checkpoint-as';
import { modelRuntime } from '../helpers/model';

const fx = makeFixture('tiny-llama');
const tokenizer = createTokenizer(fx.tokenizerJson, fx.tokenizerConfig, { spec: fx.spec });

describe('createEngineModel precision', () => {
  it('auto: F32 → f32, F16/BF16 → f16; explicit f16 on F32 and f32 on BF16 honoured', async () => {
    const rt = await modelRuntime();
    const load = async (dtype: 'F32' | 'F16' | 'BF16', precision: 'auto' | 'f32' | 'f16') =>
      createEngineModel(rt, { spec: fx.spec, tokenizer, weights: await checkpointAs(fx, dtype) }, { precision });
    const cases = [['F32', 'auto', 'f32'], ['F16', 'auto', 'f16'], ['BF16', 'auto', 'f16'], ['F32', 'f16', 'f16'], ['BF16', 'f32', 'f32']] as const;
    const bytes: Record<string, number> = {};
    for (const [dtype, choice, want] of cases) {
      const m = await load(dtype, choice);
      expect(m.precision, `${dtype} ${choice}`).toBe(want);
      expect(m.precisionReason.length).toBeGreaterThan(10);
      bytes[want] = m.weightBytes;
      // The model scores: finite log-probs from the weights as uploaded.
      const lp = await m.nextTokenLogProbs({ prompts: [tokenizer.encode('the cat')], candidates: [1, 2] });
      expect(lp[0].every(Number.isFinite)).toBe(true);
      m.dispose();
    }
    // Packed f16 matrices take about half the bytes (norms and biases stay f32).
    expect(bytes.f16).toBeLessThan(0.6 * bytes.f32);
  });
});
