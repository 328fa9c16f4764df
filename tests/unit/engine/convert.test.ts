import { describe, expect, it } from 'vitest';
import {
  bf16BitsToF32,
  bf16ToF16Bits,
  bf16ToF32Array,
  f16BitsToF32,
  f16ToF32Array,
  f32ToF16Array,
  f32ToF16Bits,
} from '../../../src/engine/convert';

describe('f32 → f16 bits', () => {
  const cases: [number, number][] = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [65504, 0x7bff], // largest finite
    [65519.99, 0x7bff], // rounds down, still finite
    [65520, 0x7c00], // halfway to 2^16 rounds to even → inf
    [1e6, 0x7c00],
    [-1e6, 0xfc00],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -25, 0x0000], // exactly half of it: ties to even → 0
    [1.5 * 2 ** -25, 0x0001], // above half → rounds up
    [3 * 2 ** -25, 0x0002], // 1.5 ulp → ties to even (2)
    [1023 * 2 ** -24, 0x03ff], // largest subnormal
    [2 ** -14 - 2 ** -26, 0x0400], // rounds up into the smallest normal
    [1 + 2 ** -11, 0x3c00], // tie → even (down)
    [1 + 3 * 2 ** -11, 0x3c02], // tie → even (up)
    [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above the tie → up
    [0.1, 0x2e66],
    [1e-10, 0x0000],
  ];
  for (const [x, bits] of cases) {
    it(`${x} → 0x${bits.toString(16)}`, () => expect(f32ToF16Bits(x)).toBe(bits));
  }
  it('NaN stays NaN', () => {
    const h = f32ToF16Bits(NaN);
    expect((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0).toBe(true);
    expect(Number.isNaN(f16BitsToF32(h))).toBe(true);
  });
});

describe('f16 bits → f32', () => {
  it('decodes edge values exactly', () => {
    expect(f16BitsToF32(0x3c00)).toBe(1);
    expect(f16BitsToF32(0x7bff)).toBe(65504);
    expect(f16BitsToF32(0x0001)).toBe(2 ** -24);
    expect(f16BitsToF32(0x03ff)).toBe(1023 * 2 ** -24);
    expect(f16BitsToF32(0x7c00)).toBe(Infinity);
    expect(f16BitsToF32(0xfc00)).toBe(-Infinity);
    expect(Object.is(f16BitsToF32(0x8000), -0)).toBe(true);
    expect(Number.isNaN(f16BitsToF32(0x7e00))).toBe(true);
  });
  it('round-trips every finite f16 through f32 → f16', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff)) continue; // NaNs
      expect(f32ToF16Bits(f16BitsToF32(h))).toBe(h);
    }
  });
  it('array helpers agree with the scalar ones', () => {
    const xs = [0.5, -3.25, 1e-5, 7e4];
    const h = f32ToF16Array(xs);
    expect(Array.from(f16ToF32Array(h))).toEqual(xs.map((x) => f16BitsToF32(f32ToF16Bits(x))));
  });
});

describe('bf16', () => {
  it('bf16 → f32 is the top half of the f32 bits', () => {
    expect(bf16BitsToF32(0x3f80)).toBe(1);
    expect(bf16BitsToF32(0xc040)).toBe(-3);
    expect(bf16BitsToF32(0x7f80)).toBe(Infinity);
    expect(bf16BitsToF32(0x0001)).toBeCloseTo(9.18e-41, 43); // bf16 subnormal
    expect(Array.from(bf16ToF32Array(new Uint16Array([0x3f80, 0x4000])))).toEqual([1, 2]);
  });
  it('bf16 → f16 rounds, overflows to inf and flushes tiny values', () => {
    expect(bf16ToF16Bits(0x3f80)).toBe(0x3c00); // 1
    expect(bf16ToF16Bits(0x4780)).toBe(0x7c00); // 65536 → inf
    expect(bf16ToF16Bits(0xc780)).toBe(0xfc00);
    expect(bf16ToF16Bits(0x3380)).toBe(0x0001); // 2^-24 → smallest subnormal
    expect(bf16ToF16Bits(0x2f80)).toBe(0x0000); // 2^-32 → 0
    expect(bf16ToF16Bits(0x3dcd)).toBe(f32ToF16Bits(bf16BitsToF32(0x3dcd))); // ≈0.1
  });
});
