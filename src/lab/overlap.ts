/**
 * How independent the per-seed data draws are: the share of items two seeds' datasets have in common.
 * Each seed draws `size` items from a pool of `pool`; when seeds × size exceeds the pool, some sharing is
 * forced. The least possible mean pairwise overlap spreads the draws evenly (each item used ⌊k·n/U⌋ or
 * ⌈k·n/U⌉ times), which `spread` draws achieve (src/lab/intervene.ts).
 */

/** Above this mean pairwise overlap, seeds are reported as dependent draws of data (a limitation). */
export const OVERLAP_LIMIT = 0.25;

export interface DrawOverlap {
  /** Items in the pool drawn from, items per seed, seeds. */
  pool: number;
  size: number;
  seeds: number;
  /** Mean and largest share of one seed's items that another seed's draw also holds. */
  meanPairwise: number;
  maxPairwise: number;
  /** The least mean pairwise overlap the pool allows at this size and number of seeds. */
  floor: number;
  /** In words, when the overlap is above OVERLAP_LIMIT: a limitation of the result. */
  limitation: string | null;
}

/** The least mean pairwise overlap of k draws of n items each from a pool of U (balanced use of the pool). */
export function overlapFloor(pool: number, size: number, seeds: number): number {
  if (seeds < 2 || size === 0) return 0;
  const total = seeds * size;
  const lo = Math.floor(total / pool);
  const high = total - lo * pool; // items used lo + 1 times
  const pairs = high * ((lo + 1) * lo) / 2 + (pool - high) * (lo * (lo - 1)) / 2;
  return pairs / ((seeds * (seeds - 1)) / 2) / size;
}

export function drawOverlap(draws: readonly (readonly string[])[], pool: number): DrawOverlap | null {
  const k = draws.length;
  if (k === 0) return null;
  const size = draws[0].length;
  const sets = draws.map((d) => new Set(d));
  let sum = 0;
  let max = 0;
  let pairs = 0;
  for (let i = 0; i < k; i++)
    for (let j = i + 1; j < k; j++) {
      let common = 0;
      for (const x of sets[i]) if (sets[j].has(x)) common++;
      const share = size ? common / size : 0;
      sum += share;
      max = Math.max(max, share);
      pairs++;
    }
  const meanPairwise = pairs ? sum / pairs : 0;
  const floor = overlapFloor(pool, size, k);
  const pc = (x: number) => `${(100 * x).toFixed(0)} %`;
  const limitation =
    meanPairwise > OVERLAP_LIMIT
      ? `The ${k} seeds' draws of ${size} items from a pool of ${pool} share ${pc(meanPairwise)} of their items on average (up to ${pc(max)} for one pair; the pool allows no less than ${pc(floor)}): the seeds are not independent draws of data, and the spread over seeds understates how much a new draw would vary.`
      : null;
  return { pool, size, seeds: k, meanPairwise, maxPairwise: max, floor, limitation };
}

