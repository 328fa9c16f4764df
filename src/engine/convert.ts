// Half-precision conversions on the CPU: checkpoint bf16 → f32/f16 on upload, and f32 → f16 for the
// packed frozen weights (two f16 per u32, unpacked in WGSL with the core `unpack2x16float`).

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);

/** f32 → IEEE binary16 bits, round-to-nearest-even; overflow → ±inf; subnormals kept; NaN stays NaN. */
export function f32ToF16Bits(x: number): number {
  f32buf[0] = x;
  const b = u32buf[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0); // inf / NaN (quiet)
  const e = exp - 127 + 15; // rebias
  if (e >= 0x1f) return sign | 0x7c00; // too large even before rounding
  if (e <= 0) {
    // Subnormal f16 (or zero): shift the full significand (with its implicit 1) right.
    if (e < -10) return sign; // below half the smallest subnormal → ±0
    const m = mant | 0x800000;
    const shift = 14 - e; // 13 for the f32→f16 mantissa width, plus 1 - e
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let h = m >>> shift;
    if (rest > half || (rest === half && (h & 1))) h++; // may carry into the smallest normal: correct
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++; // a carry into the exponent (even → inf) is correct
  return sign | h;
}

/** IEEE binary16 bits → number (exact). */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** bfloat16 bits → number (exact: bf16 is the top half of an f32). */
export function bf16BitsToF32(b: number): number {
  u32buf[0] = (b & 0xffff) << 16;
  return f32buf[0];
}

/** bfloat16 bits → f16 bits (rounded to nearest even; bf16's wider range overflows to ±inf or flushes to 0). */
export function bf16ToF16Bits(b: number): number {
  return f32ToF16Bits(bf16BitsToF32(b));
}

export function f32ToF16Array(src: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f32ToF16Bits(src[i]);
  return out;
}

export function f16ToF32Array(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f16BitsToF32(src[i]);
  return out;
}

export function bf16ToF32Array(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  const u = new Uint32Array(out.buffer);
  for (let i = 0; i < src.length; i++) u[i] = src[i] << 16;
  return out;
}

/** Round an f32 array through f16 (what a packed-f16 weight holds), for CPU references. */
export function roundToF16(src: ArrayLike<number>): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f16BitsToF32(f32ToF16Bits(src[i]));
  return out;
}
