// `model.precision` (issue 16, item 8): auto keeps an F32 checkpoint's f32 when it fits comfortably and
// packs bf16/f16 checkpoints and large models to f16; explicit values win.
import { describe, expect, it } from 'vitest';
import { parseExperimentConfig } from '../../src/lab/experiment-config';
import { makeFixture } from '../../src/model/fixtures';
import { realSpec } from '../../src/model/memory';
import { checkpointDtype, choosePrecision, f32WeightBytes } from '../../src/model/precision';
import { checkpointAs } from '../helpers/checkpoint-as';

const fx = makeFixture('tiny-llama');
const big = { maxBufferSize: 2 ** 31 };

describe('choosePrecision', () => {
  it('auto: a small F32 checkpoint stays f32; F16 and BF16 checkpoints pack to f16', async () => {
    expect(checkpointDtype(fx.spec, await checkpointAs(fx, 'F32'))).toBe('F32');
    expect(choosePrecision('auto', fx.spec, await checkpointAs(fx, 'F32'), big).precision).toBe('f32');
    for (const d of ['F16', 'BF16'] as const) {
      const r = await checkpointAs(fx, d);
      expect(checkpointDtype(fx.spec, r)).toBe(d);
      const c = choosePrecision('auto', fx.spec, r, big);
      expect(c.precision).toBe('f16');
      expect(c.reason).toContain(d);
    }
  });
  it('auto: f32 weights over a quarter of the memory budget, or a tensor over maxBufferSize, pack to f16', () => {
    // Qwen2.5-0.5B: 494M parameters, 1.98 GB in f32 > 1 GiB (a quarter of the 4 GiB default budget).
    const qwen = realSpec('Qwen2.5-0.5B');
    expect(f32WeightBytes(qwen).total).toBeGreaterThan(2 ** 30);
    expect(choosePrecision('auto', qwen, 'zeros', big).precision).toBe('f16');
    // SmolLM2-135M: 0.54 GB in f32 fits under 1 GiB…
    const smol = realSpec('SmolLM2-135M');
    expect(choosePrecision('auto', smol, 'zeros', big).precision).toBe('f32');
    // …but not a 1 GiB budget, nor a device whose largest buffer is smaller than its embedding (113 MB in f32).
    expect(choosePrecision('auto', smol, 'zeros', { ...big, memoryBudget: 2 ** 30 }).precision).toBe('f16');
    expect(choosePrecision('auto', smol, 'zeros', { maxBufferSize: 64 * 2 ** 20 }).precision).toBe('f16');
  });
  it('explicit f32 / f16 are honoured whatever the checkpoint', async () => {
    expect(choosePrecision('f16', fx.spec, await checkpointAs(fx, 'F32'), big).precision).toBe('f16');
    expect(choosePrecision('f32', fx.spec, await checkpointAs(fx, 'BF16'), big).precision).toBe('f32');
    expect(choosePrecision('f32', realSpec('Qwen2.5-0.5B'), 'zeros', big).precision).toBe('f32');
  });
  it('the experiment config takes model.precision, auto by default, and rejects other values', () => {
    const base = { name: 'x', model: { id: 'builtin:toy-world' }, questions: { kind: 'toyworld' }, subjects: { train: ['a'] }, training: { lora: { rank: 4, alpha: 8, targets: ['q'] }, learningRate: 1e-3 } };
    expect(parseExperimentConfig(base).model.precision).toBe('auto');
    expect(parseExperimentConfig({ ...base, model: { id: 'm', precision: 'f32' } }).model.precision).toBe('f32');
    expect(() => parseExperimentConfig({ ...base, model: { id: 'm', precision: 'bf16' } })).toThrow(/model\.precision/);
  });
});
