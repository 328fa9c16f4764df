import { QuestionFileError, type RowError } from '../errors';
import type { ParsedQuestions, Question, QuestionLimits, RawRow } from './types';

/** Throws for a file that cannot hold questions at all: empty, or over the byte limit. */
export function checkFileSize(text: string | ArrayBuffer | Uint8Array, limits: QuestionLimits, name = 'The file'): void {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text).byteLength : text.byteLength;
  if (bytes > limits.maxBytes) {
    throw new QuestionFileError(
      `${name} is ${(bytes / 2 ** 20).toFixed(1)} MiB; the limit is ${(limits.maxBytes / 2 ** 20).toFixed(1)} MiB.`,
      'Split the file, or keep only the subjects you need.',
    );
  }
  const blank = typeof text === 'string' ? text.trim().length === 0 : bytes === 0;
  if (blank) throw new QuestionFileError(`${name} is empty.`, 'Choose a file with at least one question.');
}

export function checkRowCount(rows: number, limits: QuestionLimits): void {
  if (rows > limits.maxRows) {
    throw new QuestionFileError(
      `The file has ${rows} rows; the limit is ${limits.maxRows}.`,
      'Split the file, or keep only the questions you need.',
    );
  }
  if (rows === 0) throw new QuestionFileError('The file has no question rows.', 'Add at least one question below the header.');
}

/** Reads an answer given as a letter (A–D, any case) or a 0-based index (number or digit string). */
export function parseAnswer(v: unknown): 0 | 1 | 2 | 3 | undefined {
  if (typeof v === 'bigint') v = Number(v);
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= 3 ? (v as 0 | 1 | 2 | 3) : undefined;
  if (typeof v !== 'string') return undefined;
  const s = v.trim().toUpperCase();
  const letter = ['A', 'B', 'C', 'D'].indexOf(s);
  if (letter >= 0) return letter as 0 | 1 | 2 | 3;
  if (/^[0-3]$/.test(s)) return Number(s) as 0 | 1 | 2 | 3;
  return undefined;
}

function text(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return undefined;
}

/**
 * Validates raw rows into questions, collecting every problem of every row (a row can have several).
 * `makeId(row, index)` names rows without an id.
 */
export function validateRows(
  rows: readonly RawRow[],
  limits: QuestionLimits,
  opts: { defaultSubject: string; makeId: (row: RawRow, index: number) => string; rowErrors?: readonly RowError[]; zeroBasedNumbers?: boolean },
): ParsedQuestions {
  // Errors found earlier (e.g. broken CSV quoting) make their rows bad too: such rows are never imported.
  const errors: RowError[] = [...(opts.rowErrors ?? [])];
  const badLines = new Set(errors.map((e) => e.line));
  const questions: Question[] = [];
  const skipped: RowError[] = [];
  const seen = new Map<string, number>();
  rows.forEach((row, index) => {
    const line = row.line;
    const before = errors.length;
    const err = (field: string, reason: string) => errors.push({ line, field, reason });
    const long = (field: string, s: string | undefined) => {
      if (s !== undefined && s.length > limits.maxFieldChars) err(field, `too long: ${s.length} characters (limit ${limits.maxFieldChars})`);
    };

    const question = text(row.question)?.trim();
    if (!question) err('question', 'empty question');
    long('question', question);

    const opts4 = row.options ?? [];
    if (opts4.length !== 4) err('options', `expected exactly 4 options, found ${opts4.length}`);
    const options = opts4.map((o) => text(o)?.trim());
    options.slice(0, 4).forEach((o, i) => {
      const f = `option ${'ABCD'[i]}`;
      if (o === undefined || o === '') err(f, 'empty option');
      else long(f, o);
    });

    // Two options with the same text: the debiased probe averages by option content, and a self-aligning label
    // could not say which of the two the model believed. Such a row is left out, not refused: MMLU itself has 13
    // (e.g. high_school_biology dev row 3), and a file should not fail for them. Case counts ("BB" ≠ "Bb").
    let repeated: string | undefined;
    if (opts4.length === 4 && options.every((o) => o)) {
      const key = (o: string) => o.replace(/\s+/g, ' ');
      for (let i = 0; i < 4 && !repeated; i++) {
        const j = options.findIndex((o, k) => k > i && key(o!) === key(options[i]!));
        if (j > i) repeated = `options ${'ABCD'[i]} and ${'ABCD'[j]} are the same (${JSON.stringify(options[i])})`;
      }
    }

    const rawAnswer = row.answer;
    const answer = parseAnswer(rawAnswer);
    if (rawAnswer === undefined || rawAnswer === null || (typeof rawAnswer === 'string' && rawAnswer.trim() === '')) err('answer', 'missing answer');
    else if (answer === undefined) err('answer', `invalid answer ${JSON.stringify(text(rawAnswer) ?? rawAnswer)}: use A–D or 0–3`);

    if (row.subject !== undefined && row.subject !== null && text(row.subject) === undefined) {
      err('subject', `is a ${Array.isArray(row.subject) ? 'list' : 'an object'}, not a name (${JSON.stringify(row.subject).slice(0, 60)}): pick one, e.g. --subject-field subject[0], or set --subject`);
    }
    const subject = text(row.subject)?.trim() || opts.defaultSubject;
    long('subject', subject);
    const explanation = text(row.explanation)?.trim() || undefined;
    long('explanation', explanation);

    const givenId = text(row.id)?.trim();
    const id = givenId || opts.makeId(row, index);
    long('id', givenId);
    const first = seen.get(id);
    if (first !== undefined) err('id', `duplicate id ${JSON.stringify(id)} (first on line ${first})`);
    else seen.set(id, line);

    if (errors.length === before && !badLines.has(line) && question && answer !== undefined && repeated) {
      skipped.push({ line, field: 'options', reason: `${repeated}; the row is left out, since the probe could not tell which of the two the model chose` });
    } else if (errors.length === before && !badLines.has(line) && question && answer !== undefined) {
      const q: Question = { id, subject, question, options: options as Question['options'], answer };
      if (explanation) q.explanation = explanation;
      questions.push(q);
    }
  });
  // Answers written as numbers 1–3 and never 0: 0-based (1 = B) or 1-based (1 = A)? A guess would shift every
  // answer by one letter, so the file is refused with the question instead.
  if (!opts.zeroBasedNumbers) {
    const numeric = rows.filter((r) => (typeof r.answer === 'number' && Number.isInteger(r.answer)) || (typeof r.answer === 'string' && /^\s*\d\s*$/.test(r.answer)));
    const values = numeric.map((r) => Number(r.answer));
    if (numeric.length >= 4 && !values.includes(0) && values.every((x) => x >= 1 && x <= 4)) {
      errors.push({
        line: numeric[0].line,
        field: 'answer',
        reason: `the answers are numbers ${Math.min(...values)}–${Math.max(...values)} and none is 0: counted from 0 (1 = B) or from 1 (1 = A)? Write the answers as letters A–D (every row of the file)`,
      });
      questions.length = 0;
    }
  }
  errors.sort((a, b) => a.line - b.line);
  const parsed: ParsedQuestions = { questions, errors, rows: rows.length };
  if (skipped.length) {
    parsed.skipped = skipped;
    const lines = skipped.slice(0, 5).map((e) => e.line).join(', ') + (skipped.length > 5 ? ', …' : '');
    parsed.warnings = [`${skipped.length} row(s) left out because two of their options are the same text (line ${lines}): the probe could not tell which of the two the model chose.`];
  }
  return parsed;
}

/** Turns row errors into one thrown error (for callers that cannot proceed with a partial file). */
export function requireValid(parsed: ParsedQuestions, name = 'The file'): Question[] {
  if (parsed.errors.length > 0) {
    const shown = parsed.errors.slice(0, 20).map((e) => `line ${e.line}, ${e.field}: ${e.reason}`);
    const more = parsed.errors.length > 20 ? `\n… and ${parsed.errors.length - 20} more` : '';
    throw new QuestionFileError(
      `${name} has ${parsed.errors.length} problem(s) in ${new Set(parsed.errors.map((e) => e.line)).size} row(s):\n${shown.join('\n')}${more}`,
      'Fix the rows listed (line numbers count from 1) and load the file again; nothing was imported.',
      parsed.errors,
    );
  }
  return parsed.questions;
}
