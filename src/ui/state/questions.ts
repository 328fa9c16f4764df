/** A user's question file for the probe: read, validated row by row, kept for the session. */

export interface QuestionRowError {
  /** 1-based line (JSONL) or record (CSV, after the header). */
  row: number;
  field: string;
  message: string;
}

export interface QuestionFileCheck {
  /** Valid questions. */
  valid: number;
  errors: QuestionRowError[];
  subjects: string[];
  /** The file as a whole cannot be read. */
  fatal: string | null;
}

/**
 * WIRE: the one call site of question-file validation. Point it at the lab's validator in
 * src/lab/questions when that lands, mapping its result to QuestionFileCheck. Until then this interim
 * check reads JSONL ({question, choices[4], answer, subject?}) and CSV (question,A,B,C,D,answer[,subject]).
 */
export function validateQuestionsFile(text: string, filename: string): QuestionFileCheck {
  return interimValidate(text, filename);
}

const MAX_CHARS = 50_000_000;
const MAX_ERRORS = 200;

function interimValidate(text: string, filename: string): QuestionFileCheck {
  const out: QuestionFileCheck = { valid: 0, errors: [], subjects: [], fatal: null };
  if (text.length > MAX_CHARS) return { ...out, fatal: 'The file is larger than 50 MB.' };
  const subjects = new Set<string>();
  const check = (row: number, q: unknown, choices: unknown[], answer: unknown, subject: unknown) => {
    const errs: QuestionRowError[] = [];
    if (typeof q !== 'string' || !q.trim()) errs.push({ row, field: 'question', message: 'missing question text' });
    if (choices.length !== 4) errs.push({ row, field: 'choices', message: `needs 4 options, has ${choices.length}` });
    else choices.forEach((c, i) => (typeof c !== 'string' || !String(c).trim()) && errs.push({ row, field: 'ABCD'[i], message: 'empty option' }));
    const a = typeof answer === 'number' ? 'ABCD'[answer] : typeof answer === 'string' ? answer.trim().toUpperCase() : '';
    if (!a || !'ABCD'.includes(a) || a.length !== 1) errs.push({ row, field: 'answer', message: `answer must be A, B, C or D (or 0–3), got ${JSON.stringify(answer)?.slice(0, 20)}` });
    if (errs.length === 0) {
      out.valid++;
      if (typeof subject === 'string' && subject.trim()) subjects.add(subject.trim().slice(0, 80));
    } else if (out.errors.length < MAX_ERRORS) out.errors.push(...errs.slice(0, MAX_ERRORS - out.errors.length));
  };
  if (/\.jsonl?$/i.test(filename)) {
    text.split(/\r?\n/).forEach((line, i) => {
      if (!line.trim()) return;
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(line);
      } catch {
        if (out.errors.length < MAX_ERRORS) out.errors.push({ row: i + 1, field: '(line)', message: 'not valid JSON' });
        return;
      }
      const choices = Array.isArray(o?.choices) ? o.choices : ['A', 'B', 'C', 'D'].map((k) => o?.[k]).filter((x) => x !== undefined);
      check(i + 1, o?.question, choices, o?.answer, o?.subject);
    });
  } else if (/\.csv$/i.test(filename)) {
    const rows = parseCsv(text);
    const head = rows.shift()?.map((h) => h.trim().toLowerCase()) ?? [];
    const col = (n: string) => head.indexOf(n);
    if (col('question') < 0 || col('answer') < 0) return { ...out, fatal: 'The CSV needs a header with question, A, B, C, D, answer (and optionally subject).' };
    rows.forEach((r, i) => {
      if (r.length === 1 && !r[0].trim()) return;
      check(i + 1, r[col('question')], ['a', 'b', 'c', 'd'].map((k) => r[col(k)]).filter((x) => x !== undefined), r[col('answer')], r[col('subject')]);
    });
  } else return { ...out, fatal: 'Choose a .csv or .jsonl file.' };
  out.subjects = [...subjects].sort();
  if (out.valid === 0 && out.errors.length === 0) out.fatal = 'The file holds no questions.';
  return out;
}

/** RFC 4180 CSV: quoted fields, doubled quotes, newlines inside quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let f = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') {
        f += '"';
        i++;
      } else if (c === '"') q = false;
      else f += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      row.push(f);
      f = '';
    }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(f);
      rows.push(row);
      row = [];
      f = '';
    } else f += c;
  }
  if (f || row.length) {
    row.push(f);
    rows.push(row);
  }
  return rows;
}
