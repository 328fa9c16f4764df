import { afterAll, describe, expect, it } from 'vitest';
import { IGNORE_INDEX } from '../../src/engine/kernels/cross_entropy/cross_entropy';
import { crossEntropyRef, logitsRef, packF16 } from '../../src/engine/kernels/cross_entropy/cross_entropy.ref';
import { prepareCandidateLogProbs, prepareFullLogits, prepareTargetLogProbs } from '../../src/engine/kernels/scoring/scoring';
import { candidateLogProbsRef } from '../../src/engine/kernels/scoring/scoring.ref';
import type { GpuRuntime } from '../../src/engine/runtime';
import { closeTo, randn, testRuntime } from '../helpers/gpu';

// One runtime for the file: its pipeline cache spares recompiling the LM head kernels (seconds each on
// SwiftShader) in every test. Tests only compare counter deltas.
let sharedRt: Promise<GpuRuntime> | undefined;
const runtime = () => (sharedRt ??= testRuntime());
afterAll(async () => (await sharedRt)?.destroy());

const [R, D, V] = [3, 40, 777];

describe('scoring gathers against the CPU reference', () => {
  for (const packedF16 of [false, true]) {
    it(`candidate log-probs, V=${V} over chunks of 200${packedF16 ? ', packed f16' : ''}`, async () => {
      const rt = await runtime();
      const hidden = randn(R * D, 1);
      let w = randn(V * D, 2, 0.5);
      let weight;
      if (packedF16) {
        const pk = packF16(w);
        w = pk.rounded;
        weight = rt.upload('w16', pk.packed, [pk.packed.length]);
      } else weight = rt.upload('w', w, [V, D]);
      const cands = new Uint32Array([32, 33, 776, 0, 5000]);
      const out = rt.tensor('out', [R, cands.length]);
      rt.run(
        prepareCandidateLogProbs(rt, {
          hidden: rt.upload('h', hidden, [R, D]),
          weight,
          packedF16,
          V,
          D,
          R,
          chunk: 200,
          candidates: rt.upload('c', cands, [cands.length]),
          C: cands.length,
          out,
        }),
      );
      const want = candidateLogProbsRef(hidden, w, cands, R, D, V);
      // Dots of 40 f32 terms and a log Σ exp over 777 terms: ~1e-6 relative.
      const r = closeTo(await rt.readF32(out), want, 1e-5, 1e-5);
      expect(r.ok, r.worst).toBe(true);
    });
  }

  it('target log-probs (continuation scoring) equal −CE per row', async () => {
    const rt = await runtime();
    const hidden = randn(R * D, 3);
    const w = randn(V * D, 4, 0.5);
    const targets = new Uint32Array([7, IGNORE_INDEX, 700]);
    const nll = rt.tensor('nll', [R]);
    rt.run(
      prepareTargetLogProbs(rt, {
        hidden: rt.upload('h', hidden, [R, D]),
        weight: rt.upload('w', w, [V, D]),
        V,
        D,
        R,
        chunk: 256,
        targets: rt.upload('y', targets, [R]),
        nll,
        mean: rt.tensor('mean', [1]),
      }),
    );
    const r = closeTo(await rt.readF32(nll), crossEntropyRef(hidden, w, targets, R, D, V).loss, 1e-5, 1e-5);
    expect(r.ok, r.worst).toBe(true);
  });

  it('full logits of a few rows', async () => {
    const rt = await runtime();
    const hidden = randn(R * D, 5);
    const w = randn(V * D, 6, 0.5);
    const out = rt.tensor('logits', [R, V]);
    rt.run([
      prepareFullLogits(rt, {
        hidden: rt.upload('h', hidden, [R, D]),
        weight: rt.upload('w', w, [V, D]),
        V,
        D,
        R,
        out,
      }),
    ]);
    const r = closeTo(await rt.readF32(out), logitsRef(hidden, w, R, D, V), 1e-5, 1e-5);
    expect(r.ok, r.worst).toBe(true);
  });
});
