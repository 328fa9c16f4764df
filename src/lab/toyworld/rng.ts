/**
 * A small seeded PRNG (mulberry32) with the helpers the world needs. Independent streams come from
 * `fork(label)`, so adding draws to one part (say the corpus) never changes another (the world).
 */
import { mulberry32 } from '../../util/random';

export class Rng {
  private readonly draw: () => number;
  private readonly seed: string;

  constructor(seed: number | string) {
    this.seed = String(seed);
    this.draw = mulberry32(hashSeed(this.seed));
  }

  /** A float in [0, 1). */
  next(): number {
    return this.draw();
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: empty list');
    return items[this.int(items.length)];
  }

  /** Picks by weight; `weighted([['a', 3], ['b', 1]])` returns 'a' three times as often. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    const total = items.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [item, w] of items) {
      r -= w;
      if (r < 0) return item;
    }
    return items[items.length - 1][0];
  }

  /** A shuffled copy (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const a = items.slice();
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }

  /** `k` distinct items, in random order. */
  sample<T>(items: readonly T[], k: number): T[] {
    if (k > items.length) throw new Error(`Rng.sample: ${k} from ${items.length}`);
    return this.shuffle(items).slice(0, k);
  }

  /** An independent stream, determined by this stream's seed and the label (not by draws made so far). */
  fork(label: string): Rng {
    return new Rng(`${this.seed}/${label}`);
  }
}

/** FNV-1a then a murmur finaliser: any string gives a well-mixed 32-bit state. */
function hashSeed(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
