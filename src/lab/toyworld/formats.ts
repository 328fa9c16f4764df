/**
 * How multiple-choice questions are laid out: the MMLU-style k-shot prompt the lab's probe uses, the
 * varied formats of the pretraining corpus, and the chat template. Whitespace is not a token in the
 * toy tokenizer, so layouts differ by words and punctuation (markers, headers, answer cues).
 */
import { subjectText } from './relations';

export const LETTERS = ['A', 'B', 'C', 'D'] as const;

/** The probe header of the science doc ("…questions about {subject}."), and the lm-eval-harness one. */
export const MMLU_HEADER = 'The following are multiple choice questions about {SUBJ}.';
export const MMLU_HEADER_WITH_ANSWERS = 'The following are multiple choice questions (with answers) about {SUBJ}.';

export interface McItem {
  question: string;
  options: readonly string[];
  answer: number;
}

/** `question\nA. ..\nB. ..\nC. ..\nD. ..\nAnswer:` plus ` X` when answered. */
export function mmluItem(item: McItem, withAnswer: boolean): string {
  const lines = [item.question, ...item.options.map((o, i) => `${LETTERS[i]}. ${o}`), 'Answer:'];
  return lines.join('\n') + (withAnswer ? ` ${LETTERS[item.answer]}` : '');
}

/** The k-shot prompt of the probe, ending in "Answer:" (the next token is the letter). */
export function mmluPrompt(subject: string, shots: readonly McItem[], item: McItem): string {
  const header = MMLU_HEADER.replace('{SUBJ}', subjectText(subject));
  return [header, ...shots.map((s) => mmluItem(s, true)), mmluItem(item, false)].join('\n\n');
}

// ---- The corpus's formats. Weights are relative; the probe's own format is the most common. ----
// None of them is the chat template: the lab tunes in the chat format, which pretraining never shows,
// so that instruction tuning has a format to align to (as in the pilot of docs/science.md).

export const MC_HEADERS: readonly (readonly [string, number])[] = [
  [MMLU_HEADER, 4],
  [MMLU_HEADER_WITH_ANSWERS, 2],
  ['Answer the following questions about {SUBJ}.', 1],
  ['Here are some questions about {DOMAIN}.', 1],
  ['Quiz on {SUBJ}.', 1],
  ['Choose the correct option for each question about {SUBJ}.', 1],
  ['Test your knowledge of {DOMAIN}.', 1],
  ['', 1],
];
export const QUESTION_PREFIXES: readonly (readonly [string, number])[] = [
  ['', 4],
  ['Question:', 2],
  ['Q:', 1],
];
export const OPTION_INTROS: readonly (readonly [string, number])[] = [
  ['', 4],
  ['Options:', 1],
  ['Choices:', 1],
];
/** Option markers; `L` is the letter. */
export const OPTION_MARKERS: readonly (readonly [string, number])[] = [
  ['L.', 4],
  ['(L)', 1],
  ['L)', 1],
  ['L:', 1],
];
/** Lines between the options and the answer cue (instructions some quizzes print). */
export const ITEM_TRAILERS: readonly (readonly [string, number])[] = [
  ['', 6],
  ['Reply with A, B, C or D.', 1],
  ['Pick the letter of the correct option.', 1],
];
export const ANSWER_CUES: readonly (readonly [string, number])[] = [
  ['Answer:', 6],
  ['The answer is', 1],
  ['Correct answer:', 1],
  ['Solution:', 1],
];
/** How a solved item gives its answer: `{L}` letter, `{O}` the option text, `{E}` a statement of the fact. */
export const ANSWER_FORMS: readonly (readonly [string, number])[] = [
  ['{L}', 6],
  ['{L}. {O}', 2],
  ['{L}, {O}.', 1],
  ['{L}. {E}', 1],
];

// ---- Chat template. ----

export const BOS = '<s>';
export const EOS = '<|end|>';
export const PAD = '[PAD]';
export const UNK = '[UNK]';
export const ROLE_TOKENS = {
  system: '<|system|>',
  user: '<|user|>',
  assistant: '<|assistant|>',
} as const;
export const SPECIAL_TOKENS = [
  PAD,
  UNK,
  BOS,
  EOS,
  ROLE_TOKENS.system,
  ROLE_TOKENS.user,
  ROLE_TOKENS.assistant,
] as const;

/** Jinja for tokenizer_config.json; `renderChat` must produce the same text. */
export const CHAT_TEMPLATE =
  "{{ bos_token }}{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + '<|end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}";

export interface ChatTurn {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export function renderChat(messages: readonly ChatTurn[], addGenerationPrompt: boolean): string {
  let s = BOS;
  for (const m of messages) s += `<|${m.role}|>\n${m.content}<|end|>\n`;
  if (addGenerationPrompt) s += '<|assistant|>\n';
  return s;
}
