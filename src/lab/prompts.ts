/**
 * The paper's prompt text, in one place so that probing, the IFT datasets and evaluation agree to the byte.
 * (MMLU's evaluation code: header, then each example as `question\nA. …\nD. …\nAnswer: X\n\n`.)
 */
import { formatSubject } from './questions/mmlu';
import { LETTERS, type Question } from './questions/types';

export function header(subject: string): string {
  return `The following are multiple choice questions about ${formatSubject(subject)}.\n\n`;
}

/** `question\nA. ..\nB. ..\nC. ..\nD. ..\nAnswer:` */
export function formatQuestion(q: Pick<Question, 'question' | 'options'>): string {
  return `${q.question}${q.options.map((o, i) => `\n${LETTERS[i]}. ${o}`).join('')}\nAnswer:`;
}

/** A solved example: the question, then ` X\n\n`. */
export function formatExample(q: Question): string {
  return `${formatQuestion(q)} ${LETTERS[q.answer]}\n\n`;
}

/** The k-shot prefix every question of a subject shares: header and k solved examples. */
export function fewShotPrefix(subject: string, examples: readonly Question[]): string {
  return header(subject) + examples.map(formatExample).join('');
}

/** The user turn of the 0-shot chat format (paper: tuned models) and of every IFT example. */
export function chatUserText(q: Question): string {
  return header(q.subject) + formatQuestion(q);
}

/**
 * The question with its options rotated left by `shift` (option i moves to (i − shift) mod 4), gold following.
 * Used by the strict probe: a model that knows the answer picks it wherever it stands.
 */
export function rotate(q: Question, shift: number): Question {
  const s = ((shift % 4) + 4) % 4;
  const options = [0, 1, 2, 3].map((i) => q.options[(i + s) % 4]) as Question['options'];
  return { ...q, id: `${q.id}#shift${s}`, options, answer: (((q.answer - s) % 4) + 4) % 4 as Question['answer'] };
}

/** Dev examples for a subject: the first k of that subject, never the question itself. */
export function pickShots(fewShot: readonly Question[], subject: string, k: number, exclude?: string): Question[] {
  return fewShot.filter((e) => e.subject === subject && e.id !== exclude).slice(0, k);
}
