import { describe, expect, it } from 'vitest';
import { parseHash } from '../../../src/ui/state/router.svelte';
import { parseRatios } from '../../../src/ui/state/forms.svelte';
import { experiment } from '../../../src/ui/state/experiment.svelte';
import { validateQuestionsFile } from '../../../src/ui/state/questions';

describe('routes', () => {
  it.each([
    ['', 'model', '', {}],
    ['#/history', 'history', '', {}],
    ['#/history/result-abc', 'history', 'result-abc', {}],
    ['#/share/AbC-_9', 'share', 'AbC-_9', {}],
    ['#/share/a?b=c', 'share', 'a?b=c', {}],
    ['#/train?rank=16&lr=0.0005&targets=q_proj,v_proj', 'train', '', { rank: '16', lr: '0.0005', targets: 'q_proj,v_proj' }],
    ['#/nowhere', 'model', '', {}],
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

describe('question files (interim validator)', () => {
  it('reports row-level problems in CSV and JSONL', () => {
    const csv = validateQuestionsFile('question,A,B,C,D,answer,subject\n"Q, with comma",a,b,c,d,C,bio\nQ2,a,b,c,,Z,bio\n', 'x.csv');
    expect(csv.valid).toBe(1);
    expect(csv.subjects).toEqual(['bio']);
    expect(csv.errors.map((e) => [e.row, e.field])).toEqual([
      [2, 'D'],
      [2, 'answer'],
    ]);
    const jsonl = validateQuestionsFile('{"question":"q","choices":["a","b","c","d"],"answer":2}\nnot json\n{"question":"q","choices":["a"],"answer":"A"}\n', 'x.jsonl');
    expect(jsonl.valid).toBe(1);
    expect(jsonl.errors.map((e) => [e.row, e.field])).toEqual([
      [2, '(line)'],
      [3, 'choices'],
    ]);
    expect(validateQuestionsFile('x', 'x.txt').fatal).toMatch(/csv or \.jsonl/);
    expect(validateQuestionsFile('a,b\n1,2\n', 'x.csv').fatal).toMatch(/header/);
  });
});
