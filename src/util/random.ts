/**
 * mulberry32, the one seeded generator of IFT Lab: a tiny 32-bit generator, the same stream on every
 * platform. The engine (uniform in [-1, 1)), the lab (splits, mixtures, bootstrap) and the toy world each
 * seed it their own way; it lives in src/util so that every layer reaches it without a back-edge.
 */
export function mulberry32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
