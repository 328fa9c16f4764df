import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileCheckpointSink } from '../../../src/cli/checkpoints';

describe('FileCheckpointSink', () => {
  it('round-trips adapter states and returns the latest epoch', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ckpt-'));
    const sink = new FileCheckpointSink(dir);
    expect(await sink.latest('exp/run-1')).toBeUndefined();
    const state = (step: number) => ({
      config: { rank: 2, alpha: 4, dropout: 0, targets: ['q' as const] },
      step,
      tensors: { 'a.lora_A.weight': Float32Array.from([1.5, -2, step]), 'a.lora_B.weight': new Float32Array([0.25]) },
      optimizer: { m: { 'a.lora_A.weight': Float32Array.from([0.1, 0.2, 0.3]) }, v: { 'a.lora_A.weight': Float32Array.from([1e-8, 2, 3]) } },
    });
    for (let e = 0; e < 11; e++) await sink.save('exp/run-1', e, state(10 * e));
    const got = await sink.latest('exp/run-1');
    expect(got).toEqual(state(100));
    expect(got!.tensors['a.lora_A.weight']).toBeInstanceOf(Float32Array);
    expect(await sink.latest('exp/run-2')).toBeUndefined();
  });
});
