import { QuestionFileError } from '../errors';
import { parseMmluCsv, parseUserCsv } from './csv';
import { parseJsonl } from './jsonl';
import { parseMmluParquet } from './parquet';
import type { ParsedQuestions, QuestionLimits } from './types';

export * from './types';
export { parseMmluCsv, parseUserCsv, readCsv } from './csv';
export { parseJsonl } from './jsonl';
export { parseMmluParquet } from './parquet';
export { validateRows, requireValid, parseAnswer, checkFileSize } from './validate';
export * from './mmlu';

/** MMLU's own file name: `<subject>_<dev|val|test>.csv`. */
export function mmluFileName(name: string): { subject: string; split: string } | undefined {
  const m = /(?:^|[\\/])([a-z_]+)_(dev|val|test)\.csv$/.exec(name);
  return m ? { subject: m[1], split: m[2] } : undefined;
}

/**
 * Any question file by its name: MMLU's `<subject>_<split>.csv` (no header), another `.csv` (header row),
 * `.jsonl`, or `.parquet` (cais/mmlu layout; `split` from the name when it has one).
 */
export async function parseQuestionFile(
  name: string,
  data: string | ArrayBuffer,
  opts: { limits?: QuestionLimits; defaultSubject?: string } = {},
): Promise<ParsedQuestions> {
  const lower = name.toLowerCase();
  const asText = () => (typeof data === 'string' ? data : new TextDecoder().decode(data));
  if (lower.endsWith('.parquet')) {
    if (typeof data === 'string') throw new QuestionFileError('A parquet file must be read as bytes.', 'Pass the file as an ArrayBuffer.');
    const split = /(dev|validation|val|test|auxiliary_train)/.exec(lower)?.[1] ?? 'test';
    return parseMmluParquet(data, { split: split === 'validation' ? 'val' : split, limits: opts.limits, defaultSubject: opts.defaultSubject });
  }
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return parseJsonl(asText(), opts);
  if (lower.endsWith('.csv')) {
    const mmlu = mmluFileName(lower);
    return mmlu ? parseMmluCsv(asText(), { ...mmlu, limits: opts.limits }) : parseUserCsv(asText(), opts);
  }
  throw new QuestionFileError(
    `Cannot tell the format of ${JSON.stringify(name)} from its name.`,
    'Use a .csv (with a header row, or MMLU\'s <subject>_<split>.csv), .jsonl or .parquet file.',
  );
}
