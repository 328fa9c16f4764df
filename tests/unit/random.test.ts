import { describe, expect, it } from 'vitest';
import { uniformArray, uniformPm1 } from '../../src/engine/random';

describe('engine seeded random numbers', () => {
  it('reproduce the fixed mulberry32 stream the GPU tests and self-tests were written against', () => {
    // Values recorded from the generator the test helpers and self-tests each carried before sharing it.
    expect(Array.from(uniformArray(4, 1))).toEqual([0.25414788722991943, -0.9945285320281982, 0.05489407852292061, 0.962101936340332]);
    expect(Array.from(uniformArray(3, 42, 2))).toEqual([0.4044150114059448, -0.2068377584218979, 1.4098632335662842]);
  });

  it('stay in [-scale, scale), and the array is the generator times scale', () => {
    const next = uniformPm1(9);
    const a = uniformArray(2000, 9, 0.5);
    for (let i = 0; i < a.length; i++) {
      expect(a[i]).toBe(Math.fround(next() * 0.5));
      expect(a[i] >= -0.5 && a[i] < 0.5).toBe(true);
    }
    expect(uniformArray(8, 10)).not.toEqual(uniformArray(8, 11));
  });
});
