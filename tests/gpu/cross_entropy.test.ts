import { afterAll, describe, expect, it } from 'vitest';
import { gradSplits, IGNORE_INDEX, prepareCrossEntropy } from '../../src/engine/kernels/cross_entropy/cross_entropy';
import { crossEntropyRef, packF16 } from '../../src/engine/kernels/cross_entropy/cross_entropy.ref';
import type { GpuRuntime } from '../../src/engine/runtime';
import { closeTo, randn, testRuntime } from '../helpers/gpu';

// One runtime for the file: its pipeline cache spares recompiling the LM head kernels (seconds each on
// SwiftShader) in every test. Tests only compare counter deltas.
let sharedRt: Promise<GpuRuntime> | undefined;
const runtime = () => (sharedRt ??= testRuntime());
afterAll(async () => (await sharedRt)?.destroy());

interface Case {
  name: string;
  T: number;
  D: number;
  V: number;
  chunk: number;
  targets: number[];
  packedF16?: boolean;
}

const I = IGNORE_INDEX;
const CASES: Case[] = [
  {
    name: 'V=1000 not a multiple of chunk 256, some ignored',
    T: 7,
    D: 24,
    V: 1000,
    chunk: 256,
    targets: [3, I, 999, 0, 512, I, 255],
  },
  {
    name: 'all but one token ignored',
    T: 5,
    D: 16,
    V: 300,
    chunk: 64,
    targets: [I, I, 77, I, I],
  },
  {
    name: 'zero counted tokens: loss 0, no NaN',
    T: 4,
    D: 8,
    V: 100,
    chunk: 32,
    targets: [I, I, I, I],
  },
  {
    name: 'packed f16 weight',
    T: 6,
    D: 20,
    V: 300,
    chunk: 128,
    targets: [1, 299, I, 128, 127, 5],
    packedF16: true,
  },
  {
    name: 'one chunk; T=70 and D=67 cross the 64-wide tiles',
    T: 70,
    D: 67,
    V: 50,
    chunk: 4096,
    targets: Array.from({ length: 70 }, (_, i) => (i * 7) % 50),
  },
];

describe('fused LM head + cross-entropy against the CPU reference', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const rt = await runtime();
      const hidden = randn(c.T * c.D, 3, 1);
      let w = randn(c.V * c.D, 4, 0.5);
      let weight;
      if (c.packedF16) {
        const { packed, rounded } = packF16(w);
        w = rounded; // the reference sees exactly the f16 values the GPU reads
        weight = rt.upload('w16', packed, [packed.length]);
      } else {
        weight = rt.upload('w', w, [c.V, c.D]);
      }
      const targets = new Uint32Array(c.targets);
      const loss = rt.tensor('loss', [c.T]);
      const mean = rt.tensor('mean', [1]);
      const dHidden = rt.tensor('dh', [c.T, c.D]);
      rt.write(dHidden, new Float32Array(c.T * c.D).fill(NaN)); // must be overwritten, not accumulated
      const ops = prepareCrossEntropy(rt, {
        hidden: rt.upload('h', hidden, [c.T, c.D]),
        weight,
        packedF16: c.packedF16,
        targets: rt.upload('y', targets, [c.T]),
        T: c.T,
        D: c.D,
        V: c.V,
        chunk: c.chunk,
        loss,
        mean,
        dHidden,
      });
      const split = gradSplits(c.T, c.D, Math.min(c.chunk, c.V)) > 1 ? 1 : 0;
      expect(ops.length).toBe(5 * Math.ceil(c.V / Math.min(c.chunk, c.V)) + 1 + split);
      rt.run(ops);
      const want = crossEntropyRef(hidden, w, targets, c.T, c.D, c.V);
      // Logits are f32 dots of D ≤ 24 terms; log Σ exp over ≤ 1000 terms: ~1e-6 relative.
      const rl = closeTo(await rt.readF32(loss), want.loss, 1e-5, 1e-5);
      expect(rl.ok, `loss ${rl.worst}`).toBe(true);
      const gotMean = (await rt.readF32(mean))[0];
      expect(Math.abs(gotMean - want.mean)).toBeLessThan(1e-5 + 1e-5 * Math.abs(want.mean));
      const rg = closeTo(await rt.readF32(dHidden), want.dHidden, 1e-6, 1e-4);
      expect(rg.ok, `dHidden ${rg.worst}`).toBe(true);
      if (want.count === 0) expect(gotMean).toBe(0);
    });
  }

  it('runs forward only and re-encodes without allocating', async () => {
    const rt = await runtime();
    const [T, D, V] = [3, 8, 70];
    const hidden = randn(T * D, 1);
    const w = randn(V * D, 2);
    const targets = new Uint32Array([5, 69, 0]);
    const loss = rt.tensor('loss', [T]);
    const mean = rt.tensor('mean', [1]);
    const ops = prepareCrossEntropy(rt, {
      hidden: rt.upload('h', hidden, [T, D]),
      weight: rt.upload('w', w, [V, D]),
      targets: rt.upload('y', targets, [T]),
      T,
      D,
      V,
      chunk: 32,
      loss,
      mean,
    });
    expect(ops.length).toBe(2 * 3 + 1);
    const allocs = rt.counters.allocations;
    rt.run(ops);
    rt.run(ops);
    const want = crossEntropyRef(hidden, w, targets, T, D, V);
    const r = closeTo(await rt.readF32(loss), want.loss, 1e-5, 1e-5);
    expect(r.ok, r.worst).toBe(true);
    expect(rt.counters.allocations).toBe(allocs);
  });

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
