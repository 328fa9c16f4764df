import Papa from 'papaparse';
import { QuestionFileError, type RowError } from '../errors';
import { DEFAULT_LIMITS, type ParsedQuestions, type QuestionLimits, type RawRow } from './types';
import { checkFileSize, checkRowCount, validateRows } from './validate';

interface CsvRow {
  line: number;
  fields: string[];
}

/** Parses CSV text into rows, each with the 1-based line it starts on; malformed quoting becomes a row error. */
export function readCsv(text: string): { rows: CsvRow[]; errors: RowError[] } {
  // One newline convention, no BOM: papaparse guesses a single newline per file and would keep stray \r.
  const src = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const rows: CsvRow[] = [];
  const errors: RowError[] = [];
  let start = 0;
  let line = 1;
  Papa.parse<string[]>(src, {
    delimiter: ',',
    newline: '\n',
    skipEmptyLines: false,
    step: (r) => {
      const end = r.meta.cursor;
      const fields = r.data;
      const rowLine = line;
      for (let i = start; i < end && i < src.length; i++) if (src.charCodeAt(i) === 10) line++;
      start = end;
      if (fields.length === 1 && fields[0].trim() === '') return; // blank line
      for (const e of r.errors) {
        if (e.code === 'MissingQuotes' || e.code === 'InvalidQuotes') errors.push({ line: rowLine, field: 'row', reason: `${e.message.toLowerCase()} (check the quotes)` });
      }
      rows.push({ line: rowLine, fields });
    },
  });
  return { rows, errors };
}

// A row with broken quoting swallowed its neighbours' text: report only the quoting, not what follows from it.
function onlyQuoting(parsed: ParsedQuestions, quoting: readonly RowError[]): ParsedQuestions {
  const lines = new Set(quoting.map((e) => e.line));
  parsed.errors = parsed.errors.filter((e) => !lines.has(e.line) || quoting.includes(e));
  return parsed;
}

/**
 * The original MMLU release: no header, `question,A,B,C,D,answer-letter` per row.
 * Ids are `subject/split/row` (row 0-based), stable across loads.
 */
export function parseMmluCsv(
  text: string,
  opts: { subject: string; split: string; limits?: QuestionLimits },
): ParsedQuestions {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  checkFileSize(text, limits, `${opts.subject}_${opts.split}.csv`);
  const { rows, errors } = readCsv(text);
  checkRowCount(rows.length, limits);
  const raw: RawRow[] = rows.map((r) => ({
    line: r.line,
    question: r.fields[0],
    options: r.fields.slice(1, Math.max(1, r.fields.length - 1)),
    answer: r.fields.length >= 2 ? r.fields[r.fields.length - 1] : undefined,
  }));
  const parsed = validateRows(raw, limits, {
    defaultSubject: opts.subject,
    makeId: (_row, i) => `${opts.subject}/${opts.split}/${i}`,
    rowErrors: errors,
  });
  return onlyQuoting(parsed, errors);
}

const HEADER_ALIASES: Record<string, string> = {
  question: 'question',
  prompt: 'question',
  a: 'A',
  b: 'B',
  c: 'C',
  d: 'D',
  option_a: 'A',
  option_b: 'B',
  option_c: 'C',
  option_d: 'D',
  optiona: 'A',
  optionb: 'B',
  optionc: 'C',
  optiond: 'D',
  answer: 'answer',
  id: 'id',
  subject: 'subject',
  explanation: 'explanation',
};

/**
 * A user's CSV with a header row: `question`, the options as `A..D` (or `option_a..option_d`), `answer`
 * (letter A–D or 0-based index), and optional `id`, `subject`, `explanation`.
 */
export function parseUserCsv(text: string, opts: { defaultSubject?: string; limits?: QuestionLimits } = {}): ParsedQuestions {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  checkFileSize(text, limits);
  const { rows, errors } = readCsv(text);
  if (rows.length === 0) throw new QuestionFileError('The file has no rows.', 'Add a header row and at least one question.');
  const norm = (h: string) => h.trim().toLowerCase().replace(/[\s-]+/g, '_');
  // Option columns past D (E, option_e, …) are read as options, so a 5-option file is refused row by row
  // ("found 5") instead of silently losing its fifth option.
  const extraOption = (h: string) => /^(?:option_?)?([e-j])$/.exec(norm(h))?.[1].toUpperCase();
  const header = rows[0].fields.map((h) => HEADER_ALIASES[norm(h)] ?? extraOption(h));
  const unknown = rows[0].fields.filter((h, i) => header[i] === undefined && h.trim() !== '');
  const warnings = unknown.length
    ? [`Column(s) ${unknown.map((h) => JSON.stringify(h.trim())).join(', ')} are not read: the reader knows question, A–D (or option_a …), answer, id, subject and explanation.`]
    : [];
  // A column given twice (two "answer" columns, or "A" and "option_a") is not silently dropped: which one is meant?
  const twice = [...new Set(header.filter((h, i) => h !== undefined && header.indexOf(h) !== i))];
  if (twice.length) {
    const names = (c: string) => rows[0].fields.filter((_, i) => header[i] === c).map((f) => JSON.stringify(f.trim())).join(' and ');
    throw new QuestionFileError(
      `The header row (line ${rows[0].line}) names the same column more than once: ${twice.map(names).join('; ')}.`,
      'Keep one column of each (rename or delete the other), then load the file again.',
    );
  }
  const missing = ['question', 'A', 'B', 'C', 'D', 'answer'].filter((c) => !header.includes(c));
  const optionCols = header.filter((h) => h === 'A' || h === 'B' || h === 'C' || h === 'D').length;
  if (missing.includes('question') || missing.includes('answer') || optionCols === 0) {
    throw new QuestionFileError(
      `The header row (line ${rows[0].line}) lacks the column(s): ${missing.join(', ')}. It reads: ${rows[0].fields.join(', ')}.`,
      rows[0].fields.length === 6 && /^[A-D]$/i.test(rows[0].fields[5].trim())
        ? "This looks like MMLU's header-less format: name the file <subject>_<dev|val|test>.csv, or add a header row: question,A,B,C,D,answer."
        : 'The first row must name the columns: question, A, B, C, D (or option_a … option_d), answer; optionally id, subject, explanation.',
    );
  }
  const data = rows.slice(1);
  checkRowCount(data.length, limits);
  const col = (name: string) => header.indexOf(name);
  const quoting = errors.slice();
  const width = rows[0].fields.length;
  const raw: RawRow[] = data.map((r) => {
    const get = (name: string) => (col(name) >= 0 ? r.fields[col(name)] : undefined);
    // A row whose field count differs from the header's has shifted columns: say so rather than guess.
    if (r.fields.length !== width) errors.push({ line: r.line, field: 'row', reason: `has ${r.fields.length} fields; the header has ${width}` });
    return {
      line: r.line,
      id: get('id'),
      subject: get('subject'),
      question: get('question'),
      options: ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J'].filter((l) => col(l) >= 0).map((l) => get(l)),
      answer: get('answer'),
      explanation: get('explanation'),
    };
  });
  const parsed = validateRows(raw, limits, {
    defaultSubject: opts.defaultSubject ?? 'custom',
    makeId: (row) => `line-${row.line}`,
    rowErrors: errors,
  });
  if (warnings.length) parsed.warnings = [...warnings, ...(parsed.warnings ?? [])];
  return onlyQuoting(parsed, quoting);
}

/**
 * MMLU's header-less rows, told by their content rather than the file's name: the first row is not a
 * header and most rows have 6 fields, the last a letter A–D.
 */
export function looksLikeHeaderlessMmlu(text: string): boolean {
  const { rows } = readCsv(text.length > 1 << 20 ? text.slice(0, 1 << 20) : text);
  const sample = rows.slice(0, 200);
  if (sample.length === 0) return false;
  const fits = (r: CsvRow) => r.fields.length === 6 && /^[A-D]$/i.test(r.fields[5].trim());
  const first = sample[0].fields.map((h) => HEADER_ALIASES[h.trim().toLowerCase().replace(/[\s-]+/g, '_')]);
  if (first.includes('question') || first.includes('answer') || !fits(sample[0])) return false;
  return sample.filter(fits).length >= 0.5 * sample.length;
}
