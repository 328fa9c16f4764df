import { FILE_LIMITS } from '../../util/file-limits';
import type { RowError } from '../errors';

/** One 4-option multiple-choice question, whatever file it came from. */
export interface Question {
  /** Unique within a bank: MMLU rows get `subject/split/row`, user rows their `id` column or `line-N`. */
  id: string;
  /** MMLU subject key (underscores, e.g. `high_school_geography`) or a user's subject. */
  subject: string;
  question: string;
  options: [string, string, string, string];
  /** Index of the gold option, 0..3. */
  answer: 0 | 1 | 2 | 3;
  explanation?: string;
  /** How a toy-world question's fact was taught in pretraining (`statement`, `none`, `misconception`, `mc`); reports stratify by it. */
  group?: string;
}

/** The questions an experiment draws on: the pool to split, and solved examples for k-shot prompts. */
export interface QuestionBank {
  pool: readonly Question[];
  fewShot: readonly Question[];
}

export const LETTERS = ['A', 'B', 'C', 'D'] as const;
export type Letter = (typeof LETTERS)[number];

export interface QuestionLimits {
  /** Largest accepted file. */
  maxBytes: number;
  /** Most data rows accepted. */
  maxRows: number;
  /** Longest accepted question, option, explanation, id or subject (characters). */
  maxFieldChars: number;
}

/** Generous enough for all of MMLU (its longest professional_law question is ~5,000 characters). */
export const DEFAULT_LIMITS: QuestionLimits = { maxBytes: FILE_LIMITS.questionBytes, maxRows: 100_000, maxFieldChars: 12_000 };

/** What a loader returns: the good questions and every bad row (nothing thrown for row errors). */
export interface ParsedQuestions {
  questions: Question[];
  errors: RowError[];
  /** Data rows seen (good + bad). */
  rows: number;
  /** Valid rows left out of `questions` (two options with the same text), with the reason; not errors. */
  skipped?: RowError[];
  /** About the file as a whole: its encoding when not UTF-8, columns not read, a guessed format. */
  warnings?: string[];
}

/** The data a raw row offers before validation; `line` is where the row starts in the file. */
export interface RawRow {
  line: number;
  id?: unknown;
  subject?: unknown;
  question?: unknown;
  options?: unknown[];
  /** How many option fields the row had, when it differs from `options.length` (e.g. CSV column count). */
  answer?: unknown;
  explanation?: unknown;
}
