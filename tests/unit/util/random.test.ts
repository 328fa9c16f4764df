import { describe, expect, it } from 'vitest';
import { uniformArray, uniformPm1 } from '../../../src/engine/random';
import { rng } from '../../../src/lab/random';
import { Rng } from '../../../src/lab/toyworld/rng';
import { mulberry32 } from '../../../src/util/random';

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

describe('the lab and the toy world share the one generator (src/util/random.ts)', () => {
  it('keep the streams they had when each carried its own mulberry32', () => {
    // Values recorded from the lab's and the toy world's own copies, before they were folded into one.
    const a = rng(7);
    expect([a(), a(), a()]).toEqual([0.9823943767696619, 0.3341257639694959, 0.6892532545607537]);
    const b = rng(-3.7);
    expect([b(), b()]).toEqual([0.9349438862409443, 0.19497447018511593]);
    const w = new Rng('world');
    expect([w.next(), w.next(), w.next()]).toEqual([0.3403615092393011, 0.18870363058522344, 0.7482455663848668]);
    const c = new Rng(42).fork('corpus');
    expect([c.next(), c.int(1000)]).toEqual([0.6218223455362022, 514]);
  });

  it('is the engine stream before it is stretched to [-1, 1)', () => {
    const u = mulberry32(5);
    const e = uniformPm1(5);
    for (let i = 0; i < 100; i++) expect(e()).toBe(u() * 2 - 1);
  });
});
