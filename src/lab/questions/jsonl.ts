import { QuestionFileError, type RowError } from '../errors';
import { DEFAULT_LIMITS, type ParsedQuestions, type QuestionLimits, type RawRow } from './types';
import { checkFileSize, checkRowCount, validateRows } from './validate';

/**
 * One JSON object per line: `question`, the options as `options` (or `choices`) array or `A`..`D` keys,
 * `answer` (letter or 0-based index), optional `id`, `subject`, `explanation`. Blank lines are skipped.
 */
export function parseJsonl(text: string, opts: { defaultSubject?: string; limits?: QuestionLimits } = {}): ParsedQuestions {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  checkFileSize(text, limits);
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const raw: RawRow[] = [];
  const errors: RowError[] = [];
  lines.forEach((l, i) => {
    const line = i + 1;
    if (l.trim() === '') return;
    let o: unknown;
    try {
      o = JSON.parse(l);
    } catch (e) {
      errors.push({ line, field: 'row', reason: `not valid JSON (${(e as Error).message})` });
      raw.push({ line });
      return;
    }
    if (!o || typeof o !== 'object' || Array.isArray(o)) {
      errors.push({ line, field: 'row', reason: 'not a JSON object' });
      raw.push({ line });
      return;
    }
    const r = o as Record<string, unknown>;
    const list = r.options ?? r.choices;
    const options = Array.isArray(list) ? list : ['A', 'B', 'C', 'D'].filter((k) => k in r).map((k) => r[k]);
    raw.push({ line, id: r.id, subject: r.subject, question: r.question, options, answer: r.answer, explanation: r.explanation });
  });
  checkRowCount(raw.length, limits);
  if (errors.length === raw.length && raw.length > 0 && errors.every((e) => e.reason.startsWith('not valid JSON'))) {
    throw new QuestionFileError(
      'No line of the file is a JSON object: it does not look like JSONL.',
      'JSONL has one JSON object per line, e.g. {"question": "…", "options": ["…","…","…","…"], "answer": "B"}.',
      errors,
    );
  }
  const parsed = validateRows(raw, limits, {
    defaultSubject: opts.defaultSubject ?? 'custom',
    makeId: (row) => `line-${row.line}`,
    rowErrors: errors,
  });
  // A line that was not JSON has no fields: report only why it failed, not a list of missing fields.
  const jsonBad = new Set(errors.map((e) => e.line));
  parsed.errors = parsed.errors.filter((e) => !jsonBad.has(e.line) || e.field === 'row');
  return parsed;
}
