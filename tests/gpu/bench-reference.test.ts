// The engine-vs-transformers.js benchmark (bench/reference.ts) on the tiny fixture, in Node: both sides
// produce finite positive tokens/s and decode the same greedy tokens (the comparison is on one model).
// Figures are not asserted (speed claims live in `npm run bench`).
import { describe, expect, it } from 'vitest';
import { runReference } from '../../bench/reference';
import { testRuntime } from '../helpers/gpu';

describe('bench/reference.ts: engine vs transformers.js (tiny-llama)', () => {
  it('both engines run prefill and decode, with the same greedy tokens, and the ratio is reported', async () => {
    const rt = await testRuntime();
    const run = await runReference(rt, { log: (s) => console.log(s) });
    for (const e of run.entries) console.log(`${e.kernel.padEnd(24)} ${e.shape.padEnd(34)} ${JSON.stringify(e.extra)}`);
    // onnxruntime-node's CPU provider always opens; its WebGPU provider opens here too (its own Dawn).
    expect(run.skipped).toEqual({});
    const kernels = run.entries.map((e) => e.kernel);
    expect(kernels).toEqual(expect.arrayContaining(['engine_prefill_f32', 'engine_decode_f32', 'transformersjs_prefill', 'transformersjs_decode']));
    for (const e of run.entries) {
      const tps = e.extra?.tokensPerSecond as number;
      expect(Number.isFinite(tps) && tps > 0, `${e.kernel} ${e.extra?.backend}: ${tps}`).toBe(true);
      if (e.kernel.startsWith('transformersjs')) {
        const ratio = e.extra?.ratioEngineOverReference as number;
        expect(Number.isFinite(ratio) && ratio > 0).toBe(true);
        expect(String(e.extra?.backend)).toMatch(/^onnxruntime-node (webgpu|cpu)$/);
      }
    }
    expect(run.greedy.engine.length).toBeGreaterThan(3);
    for (const [backend, theirs] of Object.entries(run.greedy.reference)) expect(theirs, backend).toEqual(run.greedy.engine);
    expect(Object.keys(run.greedy.reference).sort()).toEqual(['onnxruntime-node cpu', 'onnxruntime-node webgpu']);
    rt.destroy();
  });
});
