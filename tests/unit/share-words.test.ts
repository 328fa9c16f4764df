import { describe, expect, it } from 'vitest';
import { contrastWords, decodeShare, encodeShare, overallContrasts } from '../../src/share';
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
