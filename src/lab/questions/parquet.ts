import { parquetReadObjects } from 'hyparquet';
import { QuestionFileError } from '../errors';
import { DEFAULT_LIMITS, type ParsedQuestions, type QuestionLimits, type RawRow } from './types';
import { checkFileSize, checkRowCount, validateRows } from './validate';

/**
 * MMLU as the Hub serves it (`cais/mmlu`, parquet): columns `question`, `subject`, `choices` (list of 4),
 * `answer` (index 0–3, int64). `line` in errors is the 1-based row number. Ids match the CSV loader's.
 */
export async function parseMmluParquet(
  data: ArrayBuffer,
  opts: { split: string; limits?: QuestionLimits; defaultSubject?: string },
): Promise<ParsedQuestions> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  checkFileSize(data, limits);
  let rows: Record<string, unknown>[];
  try {
    rows = await parquetReadObjects({ file: data, columns: undefined });
  } catch (e) {
    throw new QuestionFileError(`The file is not a readable parquet file (${(e as Error).message}).`, 'Download the file again, or use the CSV release of MMLU.');
  }
  checkRowCount(rows.length, limits);
  const cols = Object.keys(rows[0] ?? {});
  const missing = ['question', 'choices', 'answer'].filter((c) => !cols.includes(c));
  if (missing.length) {
    throw new QuestionFileError(
      `The parquet file lacks the column(s) ${missing.join(', ')} (it has ${cols.join(', ')}).`,
      'Expected the cais/mmlu layout: question, subject, choices, answer.',
    );
  }
  const counters = new Map<string, number>();
  const raw: RawRow[] = rows.map((r, i) => ({
    line: i + 1,
    subject: r.subject,
    question: r.question,
    options: Array.isArray(r.choices) ? r.choices : [],
    answer: r.answer,
  }));
  return validateRows(raw, limits, {
    defaultSubject: opts.defaultSubject ?? 'unknown',
    makeId: (row) => {
      const subject = typeof row.subject === 'string' && row.subject ? row.subject : (opts.defaultSubject ?? 'unknown');
      const n = counters.get(subject) ?? 0;
      counters.set(subject, n + 1);
      return `${subject}/${opts.split}/${n}`;
    },
  });
}
