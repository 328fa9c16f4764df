import { describe, expect, it } from 'vitest';
import { PlanCache } from '../../../src/model/plan-cache';

/** A stand-in plan that records its release (the cache only ever calls `release`). */
class FakePlan {
  released = false;
  constructor(readonly name: string) {}
  release(): void {
    if (this.released) throw new Error(`${this.name} released twice`);
    this.released = true;
  }
}

function cache(max: number) {
  const made: FakePlan[] = [];
  const c = new PlanCache<FakePlan>(max);
  const get = (key: string, group = '') =>
    c.get(key, group, () => {
      const p = new FakePlan(key);
      made.push(p);
      return p;
    });
  return { c, get, made };
}

describe('PlanCache', () => {
  it('makes a plan once per key and hands back the same one', () => {
    const { c, get, made } = cache(4);
    const a = get('a');
    expect(get('a')).toBe(a);
    expect(made).toHaveLength(1);
    expect(c.size).toBe(1);
  });

  it('releases the least recently used plan when full, not the oldest made', () => {
    const { c, get } = cache(2);
    const a = get('a');
    const b = get('b');
    get('a'); // a is now the most recently used
    const d = get('d');
    expect(b.released).toBe(true);
    expect(a.released).toBe(false);
    expect(d.released).toBe(false);
    expect(c.size).toBe(2);
  });

  it('releases a group together (a decode plan with the prefill whose cache it reads)', () => {
    const { c, get } = cache(3);
    const prefill = get('prefill', 'gen');
    const decode = get('decode', 'gen');
    const other = get('other');
    get('new');
    expect([prefill.released, decode.released, other.released]).toEqual([true, true, false]);
    expect(c.size).toBe(2);
  });

  it('never evicts the group being built, even past its limit', () => {
    const { c, get } = cache(2);
    const g1 = get('g1', 'g');
    const g2 = get('g2', 'g');
    const g3 = get('g3', 'g');
    expect([g1, g2, g3].some((p) => p.released)).toBe(false);
    expect(c.size).toBe(3);
    // the next plan outside the group releases the whole group
    get('x');
    expect([g1, g2, g3].every((p) => p.released)).toBe(true);
    expect(c.size).toBe(1);
  });

  it('releases everything on clear, and refuses a limit below one', () => {
    const { c, get } = cache(3);
    const ps = [get('a'), get('b', 't'), get('c', 't')];
    c.clear();
    expect(ps.every((p) => p.released)).toBe(true);
    expect(c.size).toBe(0);
    expect(() => new PlanCache(0)).toThrow(/at least 1/);
  });
});
