import { describe, expect, it } from 'vitest';
import { checkQuestionFile } from '../../src/worker/question-check';

describe('question files checked by the lab reader (the Probe page through the Worker)', () => {
  it('lists every bad row of a CSV with its line and field, and counts the good ones', async () => {
    const c = await checkQuestionFile('x.csv', 'question,A,B,C,D,answer,subject\n"Q, with comma",a,b,c,d,C,bio\nQ2,a,b,c,,Z,bio\n');
    expect(c.fatal).toBeNull();
    expect(c.valid).toBe(1);
    expect(c.subjects).toEqual(['bio']);
    expect(c.errors.length).toBeGreaterThan(0);
    expect(c.errors.every((e) => e.line === 3)).toBe(true);
  });

  it('reads JSONL with the documented `options` and numeric answers', async () => {
    const c = await checkQuestionFile('x.jsonl', '{"question":"q","options":["a","b","c","d"],"answer":2}\n{"question":"r","choices":["a","b","c","d"],"answer":"A"}\n');
    expect([c.valid, c.errors]).toEqual([2, []]);
  });

  it('a file it cannot read at all is fatal, with advice', async () => {
    const c = await checkQuestionFile('x.txt', 'hello');
    expect(c.valid).toBe(0);
    expect(c.fatal).toMatch(/\S/);
  });
});
