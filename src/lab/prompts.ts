/**
 * The prompt text, in one place so that probing, the IFT datasets and evaluation agree to the byte. A
 * `PromptLayout` says how a question is written; the default is the paper's (MMLU's evaluation code:
 * header, then each example as `question\nA. …\nD. …\nAnswer: X\n\n`), so a model pretrained on another
 * layout, or a user's own question style, can be probed in its own format.
 */
import { LabError } from './errors';
import { formatSubject } from './questions/mmlu';
import { LETTERS, type Question } from './questions/types';

export interface PromptLayout {
  /** Opens every prompt of a subject; `{subject}` is the subject's readable name. */
  header: string;
  /** One question: `{question}` and its options `{A}` … `{D}`; ends where the answer starts. */
  question: string;
  /** How a solved example continues after the question, and what is scored next: `{letter}` is the answer's letter. */
  answer: string;
  /** After each solved example of the k-shot prefix. */
  shotSeparator: string;
}

/** The paper's MMLU layout, byte for byte. */
export const DEFAULT_LAYOUT: Readonly<PromptLayout> = Object.freeze({
  header: 'The following are multiple choice questions about {subject}.\n\n',
  question: '{question}\nA. {A}\nB. {B}\nC. {C}\nD. {D}\nAnswer:',
  answer: ' {letter}',
  shotSeparator: '\n\n',
});

/** One pass, so that a brace in a question's own text is never taken for a placeholder. */
function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(subject|question|letter|A|B|C|D)\}/g, (m, k: string) => values[k] ?? m);
}

/** Checks a layout; the errors name the field and what it lacks. */
export function validateLayout(layout: PromptLayout): PromptLayout {
  const problems: string[] = [];
  const count = (s: string, p: string) => s.split(p).length - 1;
  for (const p of ['{question}', '{A}', '{B}', '{C}', '{D}']) if (count(layout.question, p) !== 1) problems.push(`"question" must contain ${p} exactly once`);
  if (count(layout.answer, '{letter}') !== 1) problems.push('"answer" must contain {letter} exactly once');
  if (/\{(question|letter|A|B|C|D)\}/.test(layout.header)) problems.push('"header" may use only {subject}');
  if (problems.length) {
    throw new LabError('invalid-layout', `The prompt layout is not usable: ${problems.join('; ')}.`, `Start from the paper's layout: ${JSON.stringify(DEFAULT_LAYOUT)}.`);
  }
  return layout;
}

/** Every piece of prompt text, written in one layout. */
export interface Prompts {
  readonly layout: PromptLayout;
  header(subject: string): string;
  /** `question\nA. ..\nB. ..\nC. ..\nD. ..\nAnswer:` in the default layout. */
  formatQuestion(q: Pick<Question, 'question' | 'options'>): string;
  /** What follows the question for answer `letter` (` C` in the default layout); any text for cloze. */
  formatAnswer(letter: string): string;
  /** A solved example: the question, its answer, the separator (` X\n\n`). */
  formatExample(q: Question): string;
  /** The k-shot prefix every question of a subject shares: header and k solved examples. */
  fewShotPrefix(subject: string, examples: readonly Question[]): string;
  /** The user turn of the 0-shot chat format (paper: tuned models) and of every IFT example. */
  chatUserText(q: Question): string;
}

export function layoutPrompts(layout: PromptLayout = DEFAULT_LAYOUT): Prompts {
  const p: Prompts = {
    layout,
    header: (subject) => fill(layout.header, { subject: formatSubject(subject) }),
    formatQuestion: (q) => fill(layout.question, { question: q.question, A: q.options[0], B: q.options[1], C: q.options[2], D: q.options[3] }),
    formatAnswer: (letter) => fill(layout.answer, { letter }),
    formatExample: (q) => `${p.formatQuestion(q)}${p.formatAnswer(LETTERS[q.answer])}${layout.shotSeparator}`,
    fewShotPrefix: (subject, examples) => p.header(subject) + examples.map((e) => p.formatExample(e)).join(''),
    chatUserText: (q) => p.header(q.subject) + p.formatQuestion(q),
  };
  return p;
}

const PAPER = layoutPrompts(DEFAULT_LAYOUT);

// The paper's layout as plain functions (one argument each, so `questions.map(formatQuestion)` works).
export function header(subject: string): string {
  return PAPER.header(subject);
}

export function formatQuestion(q: Pick<Question, 'question' | 'options'>): string {
  return PAPER.formatQuestion(q);
}

export function formatExample(q: Question): string {
  return PAPER.formatExample(q);
}

export function fewShotPrefix(subject: string, examples: readonly Question[]): string {
  return PAPER.fewShotPrefix(subject, examples);
}

export function chatUserText(q: Question): string {
  return PAPER.chatUserText(q);
}

/**
 * The question with its options rotated left by `shift` (option i moves to (i − shift) mod 4), gold following.
 * Used by the strict probe (a model that knows the answer picks it wherever it stands) and the debiased one.
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
