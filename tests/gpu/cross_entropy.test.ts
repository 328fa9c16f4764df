import { afterAll, describe, expect, it } from 'vitest';
import { gradSplits, IGNORE_INDEX, prepareCrossEntropy } from '../../src/engine/kernels/cross_entropy/cross_entropy';
import type { GpuRuntime } from '../../src/engine/runtime';
import { testRuntime } from '../helpers/gpu';
import { CROSS_ENTROPY_CASES, expectCrossEntropyAsRef, expectCrossEntropyForwardOnly, type CrossEntropyCase } from '../helpers/cross-entropy-cases';

// One runtime for the file: its pipeline cache spares recompiling the LM head kernels (seconds each on
// SwiftShader) in every test. Tests only compare counter deltas.
let sharedRt: Promise<GpuRuntime> | undefined;
const runtime = () => (sharedRt ??= testRuntime());
afterAll(async () => (await sharedRt)?.destroy());

// The shared cases, and one with the head as packed f16 (the GPU's alone).
const CASES: CrossEntropyCase[] = [
  ...CROSS_ENTROPY_CASES,
  { name: 'packed f16 weight', T: 6, D: 20, V: 300, chunk: 128, targets: [1, 299, IGNORE_INDEX, 128, 127, 5], packedF16: true },
];

describe('fused LM head + cross-entropy against the CPU reference', () => {
  for (const c of CASES)
    it(c.name, async () => {
      // One more op where dHidden's product is split over the rows and reduced.
      const split = gradSplits(c.T, c.D, Math.min(c.chunk, c.V)) > 1 ? 1 : 0;
      await expectCrossEntropyAsRef(await runtime(), c, split);
    });

  it('runs forward only and re-encodes without allocating', async () => expectCrossEntropyForwardOnly(await runtime()));

  it('plans Qwen2.5’s V=151936 in chunks that tile the vocabulary, within grid limits (prepared, not run)', async () => {
    // Running it on SwiftShader takes minutes; the kernels are the ones checked above on ragged chunks.
    const rt = await runtime();
    const [T, D, V, chunk] = [64, 64, 151936, 8192];
    const ops = prepareCrossEntropy(rt, {
      hidden: rt.tensor('h', [T, D]),
      weight: rt.tensor('w16', [(V * D) / 2], 'u32'),
      packedF16: true,
      targets: rt.tensor('y', [T], 'u32'),
      T,
      D,
      V,
      chunk,
      loss: rt.tensor('loss', [T]),
      mean: rt.tensor('mean', [1]),
      dHidden: rt.tensor('dh', [T, D]),
    });
    const chunks = Math.ceil(V / chunk);
    expect(ops.length).toBe(5 * chunks + 1 + (gradSplits(T, D, chunk) > 1 ? 1 : 0));
    const slices = ops
      .filter((o) => o.label.startsWith('ce_stats'))
      .map((o) =>
        o.label
          .match(/v(\d+)\+(\d+)/)!
          .slice(1)
          .map(Number),
      );
    let next = 0;
    for (const [v0, c] of slices) {
      expect(v0).toBe(next);
      next = v0 + c;
    }
    expect(next).toBe(V);
    for (const o of ops) if ('workgroups' in o) for (const g of o.workgroups) expect(g).toBeLessThanOrEqual(65535);
    // Three T×D×V products (logits twice, d_hidden once).
    const flops = ops.filter((o) => o.label.startsWith('lm_head')).reduce((a, o) => a + o.flops, 0);
    expect(flops).toBe(3 * 2 * T * D * V);
  });
});
