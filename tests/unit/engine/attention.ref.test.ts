import { describe, expect, it } from 'vitest';
import { attentionBackwardRef, attentionForwardRef, type AttentionShape } from '../../../src/engine/kernels/attention/attention.ref';

function rand(n: number, seed: number): Float64Array {
  let s = seed;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = (s / 2147483648) * 2 - 1;
  }
  return out;
}

describe('attention reference: analytic gradients vs f64 central differences', () => {
  const cases: AttentionShape[] = [
    { B: 2, S: 4, H: 4, KVH: 2, Dh: 3, L: 4, past: 0, kvStart: [0, 1] },
    { B: 1, S: 2, H: 3, KVH: 1, Dh: 2, L: 6, past: 3, kvStart: [1] },
  ];
  for (const a of cases) {
    it(`B${a.B} S${a.S} H${a.H}/${a.KVH} past${a.past}`, () => {
      const q = rand(a.B * a.S * a.H * a.Dh, 1);
      const k = rand(a.B * a.L * a.KVH * a.Dh, 2);
      const v = rand(a.B * a.L * a.KVH * a.Dh, 3);
      const dO = rand(q.length, 4);
      const loss = () => attentionForwardRef(q, k, v, a).out.reduce((acc, o, i) => acc + o * dO[i], 0);
      const g = attentionBackwardRef(q, k, v, dO, a);
      const h = 1e-6;
      let checked = 0;
      for (const [x, dx] of [
        [q, g.dq],
        [k, g.dk],
        [v, g.dv],
      ] as const) {
        for (let i = 0; i < x.length; i++) {
          const x0 = x[i];
          x[i] = x0 + h;
          const up = loss();
          x[i] = x0 - h;
          const down = loss();
          x[i] = x0;
          // Central differences in f64: truncation O(h²) and rounding ~1e-16/h, so ~1e-9 absolute.
          expect(Math.abs((up - down) / (2 * h) - dx[i])).toBeLessThan(1e-7);
          checked++;
        }
      }
      expect(checked).toBe(2 * k.length + q.length);
    });
  }
});
