import { QuestionFileError, type RowError } from '../errors';
import { DEFAULT_LIMITS, type ParsedQuestions, type QuestionLimits, type RawRow } from './types';
import { checkFileSize, checkRowCount, validateRows } from './validate';

/**
 * A field of a row by its path: `raw.labels`, `meta.subject`, `raw.labels[1]`. A list yields its first
 * string (Xiezhi's `raw.labels` runs from the broad discipline to the narrow one).
 */
export function fieldAt(row: unknown, path: string): unknown {
  let v: unknown = row;
  for (const part of path.split('.')) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) return undefined;
    if (m[1]) v = v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>)[m[1]] : undefined;
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) v = Array.isArray(v) ? v[Number(idx[1])] : undefined;
  }
  if (Array.isArray(v)) v = v.find((x) => typeof x === 'string' && x.trim() !== '');
  return v;
}

/** Xiezhi's layout keeps the domain in `raw.labels`: used for the subject when a file has no `subject`. */
const XIEZHI_SUBJECT = 'raw.labels';

/**
 * One JSON object per line: `question`, the options as `options` (or `choices`) array or `A`..`D` keys,
 * `answer` (letter or 0-based index), optional `id`, `subject`, `explanation`. Blank lines are skipped.
 * The subject comes from `subjectField` (a path such as `raw.labels`) when given, else `subject`, else
 * Xiezhi's `raw.labels`, else `defaultSubject`.
 */
export function parseJsonl(text: string, opts: { defaultSubject?: string; subjectField?: string; limits?: QuestionLimits } = {}): ParsedQuestions {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  checkFileSize(text, limits);
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const raw: RawRow[] = [];
  /** The JSON object of each raw row (undefined for a line that was not one). */
  const objects: (Record<string, unknown> | undefined)[] = [];
  const errors: RowError[] = [];
  lines.forEach((l, i) => {
    const line = i + 1;
    if (l.trim() === '') return;
    let o: unknown;
    try {
      o = JSON.parse(l);
    } catch (e) {
      errors.push({ line, field: 'row', reason: `not valid JSON (${(e as Error).message})` });
      objects.push(undefined);
      raw.push({ line });
      return;
    }
    if (!o || typeof o !== 'object' || Array.isArray(o)) {
      errors.push({ line, field: 'row', reason: 'not a JSON object' });
      objects.push(undefined);
      raw.push({ line });
      return;
    }
    const r = o as Record<string, unknown>;
    const list = r.options ?? r.choices;
    const options = Array.isArray(list) ? list : ['A', 'B', 'C', 'D'].filter((k) => k in r).map((k) => r[k]);
    objects.push(r);
    raw.push({ line, id: r.id, subject: opts.subjectField ? fieldAt(r, opts.subjectField) : r.subject, question: r.question, options, answer: r.answer, explanation: r.explanation });
  });
  const warnings: string[] = [];
  const present = objects.filter((r): r is Record<string, unknown> => r !== undefined);
  if (opts.subjectField && present.length && present.every((r) => fieldAt(r, opts.subjectField!) === undefined)) {
    warnings.push(`No row has the subject field ${JSON.stringify(opts.subjectField)}: every question gets the subject ${JSON.stringify(opts.defaultSubject ?? 'custom')}.`);
  } else if (!opts.subjectField && present.length && present.every((r) => r.subject === undefined) && present.some((r) => typeof fieldAt(r, XIEZHI_SUBJECT) === 'string')) {
    raw.forEach((row, i) => {
      if (objects[i]) row.subject = fieldAt(objects[i], XIEZHI_SUBJECT);
    });
    warnings.push(`The rows have no "subject"; their subjects come from ${XIEZHI_SUBJECT} (Xiezhi's layout: the first label).`);
  }
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
  if (warnings.length) parsed.warnings = [...warnings, ...(parsed.warnings ?? [])];
  return parsed;
}
