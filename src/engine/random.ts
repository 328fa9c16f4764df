// Seeded pseudo-random numbers for the engine's self-tests and the GPU test suite: the same seed gives the
// same values on every platform, so a failing case reproduces.

/** mulberry32: a tiny seeded generator of uniform numbers in [-1, 1). */
export function uniformPm1(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

/** n values uniform in [-scale, scale) from uniformPm1(seed). */
export function uniformArray(n: number, seed: number, scale = 1): Float32Array {
  const next = uniformPm1(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = next() * scale;
  return out;
}
