// Dispatch budgets, counted (not timed): a dispatch costs ~15-25 µs of barrier on a real GPU (docs/design.md),
// so decode is bound by how many it encodes per token. Inference at decode sizes runs q|k|v and gate|up as
// one dispatch each with the RMSNorm before them folded in, and SwiGLU folded into down: 6 per layer
// (qkv, rope_qkv, attention, o, gate|up, down) where 12 ran before. A LoRA target keeps its own ops.
import { describe, expect, it } from 'vitest';
import type { LoraConfig } from '../../src/lab/model';
import { makeFixture } from '../../src/model/fixtures';
import { countingRuntime, realSpec } from '../../src/model/memory';
import { allocLora, buildPlan, loraLayout, uploadWeights } from '../../src/model/transformer';
import { fixtureModel, modelRuntime } from '../helpers/model';
import type { GpuRuntime } from '../../src/engine/runtime';
import type { ModelSpec } from '../../src/model/spec';

const qv: LoraConfig = { rank: 8, alpha: 16, dropout: 0, targets: ['q', 'v'] };

/** Forward dispatches per layer of a decode plan (B sequences, one token each), the embedding set aside. */
async function decodePerLayer(rt: GpuRuntime, spec: ModelSpec, precision: 'f32' | 'f16', lora: LoraConfig | null, B = 1, release = true): Promise<{ perLayer: number; labels: string[] }> {
  const w = await uploadWeights(rt, spec, 'zeros', precision);
  const buffers = lora ? allocLora(rt, loraLayout(spec, lora), false) : null;
  const plan = buildPlan(rt, w, { B, S: 1, L: 8, past: 0, settablePast: true, lora: buffers });
  const labels = plan.forward.map((op) => op.label.split(' ')[0]);
  expect(labels[0]).toMatch(/^embedding/);
  const perLayer = (plan.forward.length - 1) / spec.numLayers;
  if (release) plan.release();
  return { perLayer, labels };
}

describe('decode dispatches per token per layer', () => {
  it('tiny fixtures (f32 and packed f16, Qwen2 biases): 6 per layer; 11 with LoRA on q, v', async () => {
    const rt = await modelRuntime();
    for (const [name, precision] of [['tiny-llama', 'f32'], ['tiny-qwen2', 'f16']] as const) {
      const spec = makeFixture(name).spec;
      const base = await decodePerLayer(rt, spec, precision, null);
      expect(base.perLayer, base.labels.join(',')).toBe(6);
      expect(base.labels.slice(1, 7)).toEqual(['matmul_gemv_fused3+rmsnorm', 'rope_qkv', base.labels[3], 'matmul_gemv', 'matmul_gemv_fused+rmsnorm', 'matmul_gemv_fused+swiglu']);
      // LoRA on q and v: the attention input keeps its norm and three projections (q and v two each).
      const tuned = await decodePerLayer(rt, spec, precision, qv);
      expect(tuned.perLayer).toBe(11); // norm, q (2), k, v (2), then rope_qkv … down as without LoRA
    }
  });

  it('SmolLM2-135M shapes (576 wide, 9/3 heads, FFN 1536), packed f16, 8 scored rows: 6 per layer', async () => {
    const rt = await modelRuntime();
    const spec = realSpec('SmolLM2-135M', { numLayers: 2, vocabSize: 256 });
    expect((await decodePerLayer(rt, spec, 'f16', null, 8)).perLayer).toBe(6);
  });

  it('all 30 layers of SmolLM2-135M: 181 forward dispatches per token (361 before the fusions)', async () => {
    // Counted on the planning runtime (buffers sizes only): nothing runs, the plan is the engine's own.
    const rt = countingRuntime();
    const { perLayer } = await decodePerLayer(rt, realSpec('SmolLM2-135M'), 'f16', null, 1, false);
    expect(1 + 30 * perLayer).toBe(181);
  });
});

describe('a decoded token, run and counted', () => {
  it('tiny-llama: 16 dispatches a decoded token (28 before), nothing allocated per call', async () => {
    const m = await fixtureModel('tiny-llama', 'f32');
    const prompt = m.tokenizer.encode('the cat and the dog');
    await m.generate(prompt, { maxNewTokens: 6 }); // plans and heads prepared
    const count = async (n: number) => {
      const d0 = m.counters.dispatches;
      const a0 = m.counters.allocations;
      const got = await m.generate(prompt, { maxNewTokens: n });
      expect(got.length).toBe(n); // no early end of sequence: every step ran
      expect(m.counters.allocations).toBe(a0);
      return m.counters.dispatches - d0;
    };
    // One prefill and n - 1 decode steps: the difference is 4 decode steps.
    const perToken = ((await count(6)) - (await count(2))) / 4;
    console.log(`tiny-llama decode: ${perToken} dispatches a token`);
    expect(perToken).toBe(16); // 1 embedding + 2 layers × 6 + the LM head's 3
    m.dispose();
  });
});

describe('LoRA training step dispatches', () => {
  it('tiny-llama, LoRA r8 on q, v: the forward adds each residual in its o / down projection (15 a layer, 17 before)', async () => {
    const rt = countingRuntime(); // plans only: counted, not run
    const spec = makeFixture('tiny-llama').spec;
    const w = await uploadWeights(rt, spec, 'zeros', 'f32');
    const plan = buildPlan(rt, w, { B: 2, S: 16, L: 16, past: 0, train: true, lora: allocLora(rt, loraLayout(spec, qv), true) });
    const perLayer = (plan.forward.length - 1) / spec.numLayers;
    console.log(`tiny-llama LoRA q,v training plan: forward ${plan.forward.length}, backward ${plan.backward!.length} dispatches`);
    expect(plan.forward.map((op) => op.label).some((l) => l.startsWith('add'))).toBe(false);
    expect(perLayer).toBe(15);
  });
});
