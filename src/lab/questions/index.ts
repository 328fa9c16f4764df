import { QuestionFileError } from '../errors';
import { looksLikeHeaderlessMmlu, parseMmluCsv, parseUserCsv } from './csv';
import { checkDecodedText, decodeQuestionBytes } from './encoding';
import { parseJsonl } from './jsonl';
import { parseMmluParquet } from './parquet';
import { DEFAULT_LIMITS, type ParsedQuestions, type QuestionLimits } from './types';
import { checkFileSize } from './validate';

export * from './types';
export { looksLikeHeaderlessMmlu, parseMmluCsv, parseUserCsv, readCsv } from './csv';
export { decodeQuestionBytes, checkDecodedText, type DecodedText } from './encoding';
export { fieldAt, parseJsonl } from './jsonl';
export { parseMmluParquet } from './parquet';
export { validateRows, requireValid, parseAnswer, checkFileSize } from './validate';
export * from './mmlu';

/** MMLU's own file name: `<subject>_<dev|val|test>.csv`. */
export function mmluFileName(name: string): { subject: string; split: string } | undefined {
  const m = /(?:^|[\\/])([a-z_]+)_(dev|val|test)\.csv$/.exec(name);
  return m ? { subject: m[1], split: m[2] } : undefined;
}

/** A subject key from a file name: `astronomy questions (2).csv` → `astronomy_questions_2`. */
function stemSubject(name: string): string {
  const base = name.split(/[\\/]/).at(-1)!.replace(/\.[^.]*$/, '');
  return base.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '') || 'custom';
}

export interface ParseFileOptions {
  limits?: QuestionLimits;
  /** The subject of rows that name none (default: `custom`; for header-less MMLU rows, the file name). */
  defaultSubject?: string;
  /** JSONL: where a row's subject is, as a path (`raw.labels`, `meta.subject`). */
  subjectField?: string;
}

/**
 * Any question file: MMLU's header-less rows (by the `<subject>_<split>.csv` name, or by their content),
 * another `.csv` (header row), `.jsonl`, or `.parquet` (cais/mmlu layout; `split` from the name when it has
 * one). Bytes are decoded whatever their encoding (UTF-8, UTF-16, Latin-1), and the result says so; text
 * decoded elsewhere is refused when it shows the marks of a wrong encoding.
 */
export async function parseQuestionFile(name: string, data: string | ArrayBuffer | Uint8Array, opts: ParseFileOptions = {}): Promise<ParsedQuestions> {
  const lower = name.toLowerCase();
  // The size limit holds before any decoding: a 700 MB file is refused as bytes, never turned into a string.
  if (typeof data !== 'string') checkFileSize(data, opts.limits ?? DEFAULT_LIMITS);
  const notes: string[] = [];
  const asText = () => {
    if (typeof data === 'string') {
      checkDecodedText(data, name);
      return data;
    }
    const d = decodeQuestionBytes(data);
    if (d.warning) notes.push(d.warning);
    return d.text;
  };
  const withNotes = (p: ParsedQuestions): ParsedQuestions => {
    const all = [...notes, ...(p.warnings ?? [])];
    if (all.length) p.warnings = all;
    return p;
  };
  if (lower.endsWith('.parquet')) {
    if (typeof data === 'string') throw new QuestionFileError('A parquet file must be read as bytes.', 'Pass the file as an ArrayBuffer.');
    const split = /(dev|validation|val|test|auxiliary_train)/.exec(lower)?.[1] ?? 'test';
    const buf = data instanceof Uint8Array ? (data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer) : data;
    return parseMmluParquet(buf, { split: split === 'validation' ? 'val' : split, limits: opts.limits, defaultSubject: opts.defaultSubject });
  }
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return withNotes(parseJsonl(asText(), opts));
  if (lower.endsWith('.csv')) {
    const text = asText();
    const mmlu = mmluFileName(lower);
    if (mmlu) return withNotes(parseMmluCsv(text, { subject: opts.defaultSubject ?? mmlu.subject, split: mmlu.split, limits: opts.limits }));
    if (text.trim() !== '' && looksLikeHeaderlessMmlu(text)) {
      const subject = opts.defaultSubject ?? stemSubject(name);
      const split = /(?:^|[^a-z])(dev|val|test)(?:[^a-z]|$)/.exec(lower)?.[1] ?? 'file';
      notes.push(
        `No header row: read as MMLU's header-less format (question, A, B, C, D, answer) by its content, every question with the subject ${JSON.stringify(subject)}` +
          (opts.defaultSubject ? '.' : ' (from the file name; choose another with --subject).'),
      );
      return withNotes(parseMmluCsv(text, { subject, split, limits: opts.limits }));
    }
    return withNotes(parseUserCsv(text, opts));
  }
  throw new QuestionFileError(
    `Cannot tell the format of ${JSON.stringify(name)} from its name.`,
    'Use a .csv (with a header row, or MMLU\'s header-less rows), .jsonl or .parquet file.',
  );
}
