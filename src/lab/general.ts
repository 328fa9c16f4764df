/**
 * General instruction data: the paper mixes an equal share of it into every condition, so the tuned model
 * learns to follow instructions while only the knowledge items differ between conditions.
 *
 * One example is a conversation whose last turn is the assistant's reply (the loss is computed on it).
 * Files come in the formats instruction data ships in, as JSON Lines or as one JSON array:
 *  - Alpaca: {"instruction", "input"?, "output"} (tatsu-lab/alpaca, Dolly-style copies of it);
 *  - chat: {"messages": [{"role": "system" | "user" | "assistant", "content"}]} (TRL's conversational format);
 *  - ShareGPT: {"conversations": [{"from": "system" | "human" | "gpt", "value"}]}.
 */
import { QuestionFileError, type RowError } from './errors';
import type { ChatMessage } from './model';

export interface GeneralExample {
  /** The conversation; the last message is the assistant's reply. */
  messages: ChatMessage[];
}

export type GeneralFormat = 'alpaca' | 'chat' | 'sharegpt';

export interface GeneralParse {
  examples: GeneralExample[];
  errors: RowError[];
  /** Each format's count among the good rows. */
  formats: Partial<Record<GeneralFormat, number>>;
}

const SHAREGPT_ROLES: Record<string, ChatMessage['role']> = { system: 'system', human: 'user', user: 'user', gpt: 'assistant', assistant: 'assistant' };

type Row = Record<string, unknown>;

/** One row as an example, or the reasons it is not one. */
function rowExample(r: Row): { example: GeneralExample; format: GeneralFormat } | { reasons: [string, string][] } {
  const reasons: [string, string][] = [];
  const text = (v: unknown) => typeof v === 'string' && v.trim() !== '';
  if ('messages' in r || 'conversations' in r) {
    const sharegpt = !('messages' in r);
    const list = sharegpt ? r.conversations : r.messages;
    const field = sharegpt ? 'conversations' : 'messages';
    if (!Array.isArray(list) || list.length < 2) return { reasons: [[field, 'must be a list of at least two turns']] };
    const messages: ChatMessage[] = [];
    list.forEach((m: unknown, i) => {
      const t = (m && typeof m === 'object' ? m : {}) as Row;
      const role = sharegpt ? SHAREGPT_ROLES[String(t.from)] : (['system', 'user', 'assistant'] as const).find((x) => x === t.role);
      const content = sharegpt ? t.value : t.content;
      if (!role) reasons.push([`${field}[${i}]`, sharegpt ? `"from" must be human, gpt or system, not ${JSON.stringify(t.from)}` : `"role" must be system, user or assistant, not ${JSON.stringify(t.role)}`]);
      else if (!text(content)) reasons.push([`${field}[${i}]`, `${sharegpt ? '"value"' : '"content"'} missing or empty`]);
      else messages.push({ role, content: content as string });
    });
    if (reasons.length) return { reasons };
    if (messages[messages.length - 1].role !== 'assistant') return { reasons: [[field, 'the last turn must be the assistant\'s (the reply the loss is computed on)']] };
    if (!messages.some((m) => m.role === 'user')) return { reasons: [[field, 'no user turn']] };
    return { example: { messages }, format: sharegpt ? 'sharegpt' : 'chat' };
  }
  if (!text(r.instruction)) reasons.push(['instruction', 'missing or empty']);
  if (!text(r.output)) reasons.push(['output', 'missing or empty']);
  if (r.input !== undefined && r.input !== null && typeof r.input !== 'string') reasons.push(['input', 'must be a string']);
  if (reasons.length) return { reasons };
  const input = typeof r.input === 'string' && r.input.trim() ? `\n\n${r.input}` : '';
  return {
    example: { messages: [{ role: 'user', content: `${r.instruction as string}${input}` }, { role: 'assistant', content: r.output as string }] },
    format: 'alpaca',
  };
}

/** Reads an instruction file (JSON Lines, or one JSON array), reporting every bad row by line or index. */
export function parseGeneral(text: string): GeneralParse {
  const body = text.replace(/^\uFEFF/, '');
  if (body.trim() === '') throw new QuestionFileError('The instruction file is empty.', 'Choose a JSON Lines file of Alpaca ({"instruction", "output"}) or chat ({"messages": [...]}) examples.');
  const rows: { line: number; value: unknown; bad?: string }[] = [];
  if (body.trimStart().startsWith('[')) {
    let all: unknown;
    try {
      all = JSON.parse(body);
    } catch (e) {
      throw new QuestionFileError(`The instruction file starts like a JSON array but is not valid JSON (${(e as Error).message}).`, 'Save it as JSON Lines (one example per line) or as one valid JSON array.');
    }
    if (!Array.isArray(all)) throw new QuestionFileError('The instruction file is not a JSON array.', 'Use JSON Lines or one JSON array of examples.');
    all.forEach((value, i) => rows.push({ line: i + 1, value }));
  } else {
    body.split(/\r?\n/).forEach((l, i) => {
      if (l.trim() === '') return;
      try {
        rows.push({ line: i + 1, value: JSON.parse(l) });
      } catch {
        rows.push({ line: i + 1, value: null, bad: 'not valid JSON' });
      }
    });
  }
  const examples: GeneralExample[] = [];
  const errors: RowError[] = [];
  const formats: GeneralParse['formats'] = {};
  for (const { line, value, bad } of rows) {
    if (bad) {
      errors.push({ line, field: 'row', reason: bad });
      continue;
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      errors.push({ line, field: 'row', reason: 'not a JSON object' });
      continue;
    }
    const r = rowExample(value as Row);
    if ('reasons' in r) for (const [field, reason] of r.reasons) errors.push({ line, field, reason });
    else {
      examples.push(r.example);
      formats[r.format] = (formats[r.format] ?? 0) + 1;
    }
  }
  return { examples, errors, formats };
}

/** Reads an instruction file and throws, naming up to 10 bad rows, unless every row is a good example. */
export function requireGeneral(text: string, name: string): GeneralParse {
  const r = parseGeneral(text);
  if (r.errors.length) {
    const shown = r.errors.slice(0, 10).map((e) => `row ${e.line}, ${e.field}: ${e.reason}`);
    if (r.errors.length > shown.length) shown.push(`… and ${r.errors.length - shown.length} more`);
    throw new QuestionFileError(
      `${name} has ${r.errors.length} bad row(s):\n${shown.join('\n')}`,
      'Each row must be an Alpaca example ({"instruction", "input"?, "output"}) or a chat example ({"messages": [{"role", "content"}, …]} ending with the assistant).',
      r.errors,
    );
  }
  if (r.examples.length === 0) throw new QuestionFileError(`${name} holds no examples.`, 'Choose a file with at least one instruction example.');
  return r;
}
