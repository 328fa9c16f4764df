import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { QuestionFileError } from '../../../src/lab/errors';
import { decodeQuestionBytes, fieldAt, parseJsonl, parseQuestionFile } from '../../../src/lab/questions';
import { fixturesDir, mmluDir } from '../../helpers/paths';

const csv = 'question,A,B,C,D,answer\nWhich café is in Zürich?,Sprüngli,Hiltl,Odéon,Kronenhalle,A\n';
const utf16 = (s: string, le: boolean, bom: boolean) => {
  const out = new Uint8Array((bom ? 2 : 0) + 2 * s.length);
  if (bom) out.set(le ? [0xff, 0xfe] : [0xfe, 0xff]);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[(bom ? 2 : 0) + 2 * i + (le ? 0 : 1)] = c & 0xff;
    out[(bom ? 2 : 0) + 2 * i + (le ? 1 : 0)] = c >> 8;
  }
  return out;
};
const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

describe('question file encodings', () => {
  for (const [name, bytes, enc] of [
    ['UTF-16 LE with BOM (Excel "Unicode text")', utf16(csv, true, true), 'UTF-16LE'],
    ['UTF-16 LE without BOM', utf16(csv, true, false), 'UTF-16LE'],
    ['UTF-16 BE with BOM', utf16(csv, false, true), 'UTF-16BE'],
    ['Latin-1', latin1(csv), 'Windows-1252'],
  ] as const) {
    it(`reads ${name} and names the encoding`, async () => {
      expect(decodeQuestionBytes(bytes).encoding).toBe(enc);
      const p = await parseQuestionFile('cafes.csv', bytes);
      expect(p.errors).toEqual([]);
      expect(p.questions[0].question).toBe('Which café is in Zürich?');
      expect(p.questions[0].options[2]).toBe('Odéon');
      expect(p.warnings?.[0]).toMatch(new RegExp(`The file is ${enc}, not UTF-8`));
    });
  }

  it('UTF-8, with or without BOM, reads silently', async () => {
    const bytes = new TextEncoder().encode(csv);
    for (const b of [bytes, Uint8Array.from([0xef, 0xbb, 0xbf, ...bytes])]) {
      const p = await parseQuestionFile('cafes.csv', b);
      expect(p.questions[0].options[0]).toBe('Sprüngli');
      expect(p.warnings).toBeUndefined();
    }
  });

  it('text decoded as UTF-8 elsewhere (File.text()) is refused with the encoding named, not a garbled header', async () => {
    const asUtf8 = (b: Uint8Array) => new TextDecoder().decode(b);
    const e16 = (await parseQuestionFile('cafes.csv', asUtf8(utf16(csv, true, true))).catch((e: unknown) => e)) as QuestionFileError;
    expect(e16).toBeInstanceOf(QuestionFileError);
    expect(e16.message).toMatch(/looks like UTF-16/);
    expect(e16.advice).toMatch(/UTF-8/);
    const eL1 = (await parseQuestionFile('cafes.csv', asUtf8(latin1(csv))).catch((e: unknown) => e)) as QuestionFileError;
    expect(eL1.message).toMatch(/not UTF-8 .*Latin-1/);
  });
});

describe('header-less MMLU rows by their content', () => {
  it('reads a renamed MMLU file whatever it is called, with the subject from the name or the caller', async () => {
    const text = fs.readFileSync(path.join(mmluDir, 'test/astronomy_test.csv'), 'utf8');
    const p = await parseQuestionFile('my questions.csv', text);
    expect(p.errors).toEqual([]);
    expect(p.questions).toHaveLength(30);
    expect(p.questions[0]).toMatchObject({ id: 'my_questions/file/0', subject: 'my_questions' });
    expect(p.warnings![0]).toMatch(/No header row: read as MMLU's header-less format .* "my_questions"/);
    const named = await parseQuestionFile('download (3).csv', text, { defaultSubject: 'astronomy' });
    expect(named.questions[0].subject).toBe('astronomy');
  });

  it('a real header is still a header', async () => {
    const p = await parseQuestionFile('x.csv', 'Question,A,B,C,D,Answer\nq?,a,b,c,d,B\n');
    expect(p.questions).toHaveLength(1);
    expect(p.warnings).toBeUndefined();
  });
});

describe('columns the CSV reader does not know', () => {
  it('are reported by name, and a fifth option is an error, not dropped', async () => {
    const p = await parseQuestionFile('five.csv', fs.readFileSync(path.join(fixturesDir, 'questions/user-csv-five-options/input.csv'), 'utf8'));
    expect(p.warnings).toEqual(['Column(s) "difficulty" are not read: the reader knows question, A–D (or option_a …), answer, id, subject and explanation.']);
    expect(p.questions).toHaveLength(0);
    const four = await parseQuestionFile('x.csv', 'question,A,B,C,D,answer,source,notes\nq?,a,b,c,d,B,web,\n');
    expect(four.questions).toHaveLength(1);
    expect(four.warnings![0]).toMatch(/"source", "notes" are not read/);
  });
});

describe('JSONL subjects', () => {
  const rows = [
    { question: 'q1?', choices: ['a', 'b', 'c', 'd'], answer: 0, raw: { labels: ['Economics', 'Applied Economics'] }, meta: { area: 'econ' } },
    { question: 'q2?', choices: ['a', 'b', 'c', 'd'], answer: 3, raw: { labels: ['Medicine'] }, meta: { area: 'med' } },
  ];
  const text = rows.map((r) => JSON.stringify(r)).join('\n');

  it("Xiezhi's layout gets its subjects from raw.labels", async () => {
    const file = path.join(fixturesDir, 'questions/jsonl-xiezhi/xiezhi_economics_test.jsonl');
    const p = await parseQuestionFile(path.basename(file), fs.readFileSync(file, 'utf8'));
    expect(p.questions.map((q) => q.subject)).toEqual(['Economics', 'Economics', 'Medicine']);
    expect(p.warnings![0]).toMatch(/subjects come from raw\.labels/);
    expect(p.questions[2].explanation).toMatch(/pancreatic/);
  });

  it('a field path or a file-level default chooses the subject', () => {
    expect(parseJsonl(text, { subjectField: 'meta.area' }).questions.map((q) => q.subject)).toEqual(['econ', 'med']);
    expect(parseJsonl(text, { subjectField: 'raw.labels[1]' }).questions.map((q) => q.subject)).toEqual(['Applied Economics', 'custom']);
    const none = parseJsonl(text, { subjectField: 'meta.nothing', defaultSubject: 'economics' });
    expect(none.questions.map((q) => q.subject)).toEqual(['economics', 'economics']);
    expect(none.warnings![0]).toMatch(/No row has the subject field "meta\.nothing"/);
    const plain = rows.map(({ raw: _raw, ...r }) => JSON.stringify(r)).join('\n');
    expect(parseJsonl(plain, { defaultSubject: 'economics' }).questions.map((q) => q.subject)).toEqual(['economics', 'economics']);
    expect(fieldAt({ a: [{ b: 'x' }] }, 'a[0].b')).toBe('x');
    expect(fieldAt({ a: 1 }, 'a.b.c')).toBeUndefined();
  });
});

describe('guesses that are now questions (issue #27)', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  it('answers 1–3 with no 0 are refused, asking 0- or 1-based', async () => {
    const { parseQuestionFile } = await import('../../../src/lab/questions');
    const rows = ['1', '2', '3', '1', '2'].map((a, i) => `Q${i}?,a,b,c,d,${a}`).join('\n');
    const p = await parseQuestionFile('q.csv', enc(`question,A,B,C,D,answer\n${rows}\n`));
    expect(p.questions).toHaveLength(0);
    expect(p.errors[0].reason).toMatch(/numbers 1–3 and none is 0: counted from 0 \(1 = B\) or from 1 \(1 = A\)\?/);
  });

  it('one stray byte in a UTF-8 file is pointed at, not read as Windows-1252', async () => {
    const { parseQuestionFile } = await import('../../../src/lab/questions');
    const good = enc('question,A,B,C,D,answer\nGröße?,ä,ö,ü,ß,A\n');
    const bytes = new Uint8Array([...good, ...enc('Which?,a,b'), 0xe9, ...enc(',c,d,B\n')]);
    await expect(parseQuestionFile('q.csv', bytes)).rejects.toThrow(/Line 3 has a byte that is not UTF-8 \(0xE9 at byte \d+\), while the rest of the file is UTF-8/);
  });

  it('a subject given as a list, a repeated header column: each an error; repeated options: the row is left out with a warning', async () => {
    const { parseQuestionFile } = await import('../../../src/lab/questions');
    const list = await parseQuestionFile('q.jsonl', enc('{"question":"Q?","choices":["a","b","c","d"],"answer":"A","subject":["geo","x"]}\n'));
    expect(list.errors[0]).toMatchObject({ field: 'subject' });
    expect(list.errors[0].reason).toMatch(/is a list, not a name/);
    await expect(parseQuestionFile('q.csv', enc('question,A,B,C,D,answer,answer\nQ?,a,b,c,d,A,B\n'))).rejects.toThrow(/names the same column more than once: "answer" and "answer"/);
    const same = await parseQuestionFile('q.csv', enc('question,A,B,C,D,answer\nWhich is blue?,sky,sky,blood,coal,A\nWhich is red?,sky,Sky,blood,coal,C\n'));
    // Case counts (genetics: "BB" is not "Bb"), so only the first row repeats an option.
    expect(same.questions.map((q) => q.question)).toEqual(['Which is red?']);
    expect(same.errors).toEqual([]);
    expect(same.skipped).toEqual([{ line: 2, field: 'options', reason: expect.stringMatching(/options A and B are the same \("sky"\); the row is left out/) }]);
    expect(same.warnings).toEqual([expect.stringMatching(/^1 row\(s\) left out because two of their options are the same text \(line 2\)/)]);
  });
});
