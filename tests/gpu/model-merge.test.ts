import { describe, expect, it } from 'vitest';
import type { AdapterState } from '../../src/lab/model';
import { makeFixture } from '../../src/model/fixtures';
import { createEngineModel } from '../../src/model/engine-model';
import { initLora, loraShapes, mergedCheckpoint } from '../../src/model/lora';
import { SafetensorsFile, sourceFromBytes } from '../../src/model/safetensors';
import { createTokenizer } from '../../src/model/tokenizer';
import { randn } from '../helpers/gpu';
import { modelRuntime } from '../helpers/model';

describe('merging a LoRA adapter into the base weights', () => {
  it('the merged checkpoint scores exactly like base + adapter (tiny-qwen2, q/v/down)', async () => {
    const fx = makeFixture('tiny-qwen2');
    const config = { rank: 4, alpha: 8, dropout: 0, targets: ['q', 'v', 'down'] as const };
    // A as PEFT initialises it, B non-zero so the adapter changes the model.
    const tensors = initLora(fx.spec, config, 7);
    let seed = 100;
    for (const [name, shape] of loraShapes(fx.spec, config)) if (name.includes('lora_B')) tensors[name] = randn(shape[0] * shape[1], seed++, 0.2);
    const state: AdapterState = { config: { ...config, targets: [...config.targets] }, tensors, step: 0 };

    const rt = await modelRuntime();
    const tokenizer = createTokenizer(fx.tokenizerJson, fx.tokenizerConfig, { spec: fx.spec });
    const base = await createEngineModel(rt, { spec: fx.spec, tokenizer, weights: fx.weights }, { precision: 'f32' });
    const ref = await base.loadAdapter(state);
    const prompts = [tokenizer.encode('hello there'), tokenizer.encode('the cat sat')];
    const withAdapter = await base.logits(prompts, ref);
    const plain = await base.logits(prompts, null);

    const bytes = await mergedCheckpoint(fx.spec, state, await SafetensorsFile.open(sourceFromBytes(fx.files['model.safetensors'] as Uint8Array)));
    const merged = await createEngineModel(rt, { spec: fx.spec, tokenizer, weights: await SafetensorsFile.open(sourceFromBytes(bytes)) }, { precision: 'f32' });
    const mergedLogits = await merged.logits(prompts, null);

    let diff = 0;
    let moved = 0;
    for (let p = 0; p < prompts.length; p++)
      for (let i = 0; i < withAdapter[p].length; i++) {
        diff = Math.max(diff, Math.abs(mergedLogits[p][i] - withAdapter[p][i]));
        moved = Math.max(moved, Math.abs(plain[p][i] - withAdapter[p][i]));
      }
    expect(moved).toBeGreaterThan(1e-2); // the adapter really changes the model…
    expect(diff).toBeLessThan(1e-4); // …and merging reproduces it (f32; sums in another order)
    base.dispose();
    merged.dispose();
  });
});
