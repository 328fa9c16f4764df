// CPU-side batching of the model layer: right padding, next-token targets from the loss mask, left truncation
// that keeps the answer, and top-p sampling.
import { describe, expect, it } from 'vitest';
import { IGNORE_INDEX } from '../../../src/engine/kernels/cross_entropy/cross_entropy';
import { packBatch, roundUp } from '../../../src/model/score';
import { lossRowsOf, packTrainBatch, truncateLeft } from '../../../src/model/train-step';
import { sampleToken } from '../../../src/model/generate';

describe('model batching', () => {
  it('pads right, numbers positions from past, and targets the next token where its mask is 1', () => {
    const { ids, positions } = packBatch([[5, 6, 7], [8]], 2, 4, 10);
    expect(Array.from(ids)).toEqual([5, 6, 7, 0, 8, 0, 0, 0]);
    expect(Array.from(positions)).toEqual([10, 11, 12, 13, 10, 11, 12, 13]);
    const b = packTrainBatch([{ ids: [1, 2, 3, 4], lossMask: [0, 0, 1, 1] }], 2, 5);
    const I = IGNORE_INDEX;
    expect(Array.from(b.targets)).toEqual([I, 3, 4, I, I, I, I, I, I, I]);
    expect(b.tokens).toBe(4);
    expect(() => packBatch([[1, 2, 3]], 1, 2, 0)).toThrow();
    expect(roundUp(17, 16)).toBe(32);
    expect(roundUp(0, 16)).toBe(16);
  });

  it('truncates from the left, keeping the answer', () => {
    const e = truncateLeft({ ids: [1, 2, 3, 4, 5], lossMask: [0, 0, 0, 1, 1] }, 3);
    expect(e).toEqual({ ids: [3, 4, 5], lossMask: [0, 1, 1] });
  });

  it('samples greedily at temperature 0 and only from the top-p nucleus', () => {
    const logits = Float32Array.from([0, 3, 2.9, -1, 1]);
    expect(sampleToken(logits, 0, 1, Math.random)).toBe(1);
    let s = 1;
    const rand = () => ((s = (s * 48271) % 2147483647), s / 2147483647);
    const seen = new Set<number>();
    for (let i = 0; i < 300; i++) seen.add(sampleToken(logits, 1, 0.8, rand));
    expect([...seen].sort()).toEqual([1, 2]);
    const all = new Set<number>();
    for (let i = 0; i < 2000; i++) all.add(sampleToken(logits, 1, 1, rand));
    expect(all.size).toBe(5);
  });
});

describe('loss rows of a training step', () => {
  it('are the most targets a batch of B can hold (the B examples with the most), rounded up to 8, at most B·S', () => {
    // Targets of an example: positions whose next token is in the loss (the first token never is).
    const ex = (mask: number[]) => ({ ids: mask.map((_, i) => i + 1), lossMask: mask });
    const data = [ex([0, 0, 1, 1]), ex([1, 0, 0, 0, 1]), ex([0, 1, 1, 1, 1, 1]), ex([0, 0, 0, 1])];
    const targets = (e: { ids: number[]; lossMask: number[] }) => Array.from(packTrainBatch([e], 1, 8).targets).filter((y) => y !== IGNORE_INDEX).length;
    expect(data.map(targets)).toEqual([2, 1, 5, 1]);
    expect(lossRowsOf(data, 2, 8)).toBe(8); // 5 + 2 → 8
    expect(lossRowsOf(data, 4, 2)).toBe(8); // 9 → 16, but a batch has only 4 × 2 positions
    expect(lossRowsOf(data.map((e) => ({ ...e, lossMask: e.lossMask.map(() => 0) })), 2, 8)).toBe(8);
  });
});
