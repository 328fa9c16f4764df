// Seeded pseudo-random numbers for the engine's self-tests and the GPU test suite: the same seed gives the
// same values on every platform, so a failing case reproduces.

import { mulberry32 } from '../util/random';

/** mulberry32 (src/util/random.ts) seeded with `seed` as is, stretched to uniform numbers in [-1, 1). */
export function uniformPm1(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() * 2 - 1;
}

/** n values uniform in [-scale, scale) from uniformPm1(seed). */
export function uniformArray(n: number, seed: number, scale = 1): Float32Array {
  const next = uniformPm1(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = next() * scale;
  return out;
}
