import { parquetMetadata, parquetReadObjects, type FileMetaData } from 'hyparquet';
import { QuestionFileError } from '../errors';
import { DEFAULT_LIMITS, type ParsedQuestions, type QuestionLimits, type RawRow } from './types';
import { checkFileSize, checkRowCount, validateRows } from './validate';

/** Parquet data may unpack to this many times the byte limit of a question file, and no more. */
const UNPACK_RATIO = 4;

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
  // The footer says how many rows, and how many bytes they unpack to: checked before a single page is
  // decoded (a 130 KB file can declare 45 million rows).
  let meta: FileMetaData;
  try {
    meta = parquetMetadata(data);
  } catch (e) {
    throw new QuestionFileError(`The file is not a readable parquet file (${(e as Error).message}).`, 'Download the file again, or use the CSV release of MMLU.');
  }
  checkRowCount(Number(meta.num_rows), limits);
  const unpacked = meta.row_groups.reduce((n, g) => n + Number(g.total_byte_size), 0);
  if (unpacked > UNPACK_RATIO * limits.maxBytes) {
    throw new QuestionFileError(
      `The parquet file unpacks to ${(unpacked / 2 ** 20).toFixed(0)} MiB of data (its footer says so); the limit is ${((UNPACK_RATIO * limits.maxBytes) / 2 ** 20).toFixed(0)} MiB.`,
      'Split the file, or keep only the subjects you need.',
    );
  }
  let rows: Record<string, unknown>[];
  try {
    rows = await parquetReadObjects({ file: data, columns: undefined, metadata: meta });
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
    // cais/mmlu's answer column is the 0-based index by definition.
    zeroBasedNumbers: true,
    makeId: (row) => {
      const subject = typeof row.subject === 'string' && row.subject ? row.subject : (opts.defaultSubject ?? 'unknown');
      const n = counters.get(subject) ?? 0;
      counters.set(subject, n + 1);
      return `${subject}/${opts.split}/${n}`;
    },
  });
}
