/** Seeded randomness for every choice the lab makes (splits, mixtures, bootstrap): same seed, same result. */
import { mulberry32 } from '../util/random';

export type Rng = () => number;

/** mulberry32 (src/util/random.ts), its seed mixed with the golden ratio; uniform in [0, 1). */
export function rng(seed: number): Rng {
  return mulberry32((Math.floor(seed) ^ 0x9e3779b9) >>> 0);
}

/** Integer in [0, n). */
export function randInt(r: Rng, n: number): number {
  return Math.floor(r() * n);
}

/** A shuffled copy (Fisher–Yates). */
export function shuffled<T>(items: readonly T[], r: Rng): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = randInt(r, i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Mix a string into a seed, so that each subject/condition gets its own stream from one seed. */
export function subSeed(seed: number, label: string): number {
  let h = (Math.floor(seed) ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
