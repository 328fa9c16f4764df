import { describe, expect, it } from 'vitest';
import { chanceNote } from '../../../src/lab/manifest';

describe('the report on a protocol whose base answers at chance', () => {
  it('warns that its known/unknown split is luck, only when the base is within 5 points of 1 in 4', () => {
    // The toy world's untuned base: chat format 26.0 / 25.0 / 24.2 %, 3-shot 31.0 / 35.2 / 30.5 %.
    expect(chanceNote([0.26, 0.25, 0.242])).toMatch(/answers at chance \(25\.1 % on average, chance 25 %\).*regression to the mean/);
    expect(chanceNote([0.31, 0.352, 0.305])).toBeNull();
    expect(chanceNote([0.199, 0.2, 0.2])).toBeNull();
    expect(chanceNote([NaN])).toBeNull();
  });
});
