import { describe, expect, it } from 'vitest';
import { contrastWords, decodeShare, degenerateWords, encodeShare, overallContrasts } from '../../src/share';
import { exampleResult, richResult } from '../fixtures/share-example';

describe('contrasts in words', () => {
  it('says beat, did not clearly differ and fell below, with the interval', () => {
    const words = overallContrasts(richResult()).map(contrastWords);
    expect(words[0]).toBe('Harmonious beat Incompatible by 8.1 points [+3.0, +13.2] on OOD');
    expect(words[2]).toBe('Self-aligning did not clearly differ from Incompatible (+2.0 points [−1.5, +5.5]) on OOD');
    expect(words[3]).toBe('Random wrong fell below Incompatible by 6.0 points [−9.0, −3.0] on ID');
  });

  it('a result with the new fields survives a share link; an older one has no contrasts', () => {
    const back = decodeShare(encodeShare(richResult()));
    expect(back.ok).toBe(true);
    if (back.ok) {
      expect(overallContrasts(back.result)).toHaveLength(4);
      expect(back.result.partialNote).toMatch(/not enough ratios/);
    }
    expect(overallContrasts(exampleResult())).toEqual([]);
  });
});

describe('degenerate results in words (issue 26)', () => {
  const contrast = (mean: number, lo: number, hi: number) => ({ a: 'Harmonious', b: 'Incompatible', set: 'ood' as const, group: 'overall' as const, mean, lo, hi, p: 1, seeds: 1, n: 8, holds: false, reversed: false });
  it('a zero-width interval is said in words, never as [+0.0, +0.0]', () => {
    const w = contrastWords(contrast(0, 0, 0));
    expect(w).toBe('Harmonious and Incompatible scored exactly alike on OOD: every seed and question agree, so there is no interval (a sign the tuned models answer alike, not a measured zero)');
    expect(contrastWords(contrast(0.125, 0.125, 0.125))).toMatch(/^Harmonious differed from Incompatible by \+12\.5 points on OOD on every seed and question alike/);
    expect(contrastWords(contrast(0.05, -0.1, 0.2))).toMatch(/\[.10\.0, \+20\.0\]/);
  });
  it('collapsed conditions and flat contrasts are named; a healthy result has none', () => {
    const cond = (name: string, before: number, after: number) => ({ name, fit: { before, after, underTrained: after < 0.9, reason: null } });
    const bad = degenerateWords({ conditions: [cond('Harmonious', 0.67, 0.22), cond('Incompatible', 0.3, 0.95)] as never, contrasts: [contrast(0, 0, 0), contrast(0.1, 0.02, 0.2)] });
    expect(bad[0]).toMatch(/^Collapsed: Harmonious \(fits 22 % of its own training answers after tuning, 67 % before; chance is 25 %\)\./);
    expect(bad[1]).toMatch(/^1 of 2 contrasts came out with an interval of zero width/);
    expect(degenerateWords({ conditions: [cond('Harmonious', 0.6, 1), cond('Incompatible', 0.3, 0.95)] as never, contrasts: [contrast(0.1, 0.02, 0.2)] })).toEqual([]);
  });
});
