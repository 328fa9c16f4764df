import { describe, expect, it } from 'vitest';
import { parseHash } from '../../../src/ui/state/router.svelte';
import { parseRatios } from '../../../src/ui/state/forms.svelte';
import { experiment } from '../../../src/ui/state/experiment.svelte';
import { parseSeeds } from '../../../src/ui/state/forms.svelte';

describe('routes', () => {
  it.each([
    ['', 'home', '', {}],
    ['#/', 'home', '', {}],
    ['#/?epochs=1', 'home', '', { epochs: '1' }],
    ['#/model', 'model', '', {}],
    ['#/history', 'history', '', {}],
    ['#/history/result-abc', 'history', 'result-abc', {}],
    ['#/share/AbC-_9', 'share', 'AbC-_9', {}],
    ['#/share/a?b=c', 'share', 'a?b=c', {}],
    ['#/train?rank=16&lr=0.0005&targets=q_proj,v_proj', 'train', '', { rank: '16', lr: '0.0005', targets: 'q_proj,v_proj' }],
    ['#/nowhere', 'home', '', {}],
    ['#/probe?bad=%E0%A4%A', 'probe', '', { bad: '' }],
  ])('%s', (hash, page, rest, query) => {
    const r = parseHash(hash);
    expect([r.page, r.rest, { ...r.query }]).toEqual([page, rest, query]);
  });
});

describe('datasets plan', () => {
  it('parses ratios and reuses Incompatible and Self-aligning for r = 0 and 1', () => {
    expect(parseRatios('0, 0.2;1 1 x 2')).toEqual({ ratios: [0, 0.2, 1], bad: ['x', '2'] });
    const keys = (c: string[], r: number[]) => experiment.plan(c as never, r).map((p) => p.key);
    expect(keys(['incompatible', 'selfAligning', 'mixture'], [0, 0.5, 1])).toEqual(['incompatible', 'selfAligning', 'mixture:0.5']);
    expect(keys(['mixture'], [0, 1])).toEqual(['mixture:0', 'mixture:1']);
  });
});

describe('seeds', () => {
  it('parses a list of seeds and names what is not one', () => {
    expect(parseSeeds('1, 2;3 2 x -1')).toEqual({ seeds: [1, 2, 3], bad: ['x', '-1'] });
    expect(parseSeeds('')).toEqual({ seeds: [], bad: [] });
  });
});
