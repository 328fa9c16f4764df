import { describe, expect, it } from 'vitest';
import { crossEntropyRef, f16Bits } from '../../../src/engine/kernels/cross_entropy/cross_entropy.ref';
import { f16BitsToF32 } from '../../../src/engine/convert';

describe('cross-entropy reference', () => {
  it('d(mean loss)/d(hidden) matches f64 central differences', () => {
    const [T, D, V] = [4, 3, 6];
    const hidden = Float64Array.from({ length: T * D }, (_, i) => Math.sin(i * 1.7));
    const w = Float64Array.from({ length: V * D }, (_, i) => Math.cos(i * 0.9));
    const targets = new Uint32Array([2, 0xffffffff, 5, 0]);
    const g = crossEntropyRef(hidden, w, targets, T, D, V).dHidden;
    const h = 1e-6;
    for (let i = 0; i < hidden.length; i++) {
      const x0 = hidden[i];
      hidden[i] = x0 + h;
      const up = crossEntropyRef(hidden, w, targets, T, D, V).mean;
      hidden[i] = x0 - h;
      const down = crossEntropyRef(hidden, w, targets, T, D, V).mean;
      hidden[i] = x0;
      // f64 central differences: O(h²) truncation plus ~1e-16/h rounding.
      expect(Math.abs((up - down) / (2 * h) - g[i])).toBeLessThan(1e-8);
    }
    // The ignored row gets no gradient.
    for (let d = 0; d < D; d++) expect(g[D + d]).toBe(0);
  });

  it('converts f32 to f16 bits exactly for representable values and rounds to nearest', () => {
    for (const x of [0, 1, -2, 0.5, 65504, 1 / 1024, -3.140625]) expect(f16BitsToF32(f16Bits(x))).toBe(x);
    expect(f16BitsToF32(f16Bits(1 + 1 / 4096))).toBe(1);
    expect(f16BitsToF32(f16Bits(1 + 3 / 2048))).toBe(1 + 2 / 1024);
  });
});
