import { describe, expect, it } from 'vitest';
import { itemMessages, toTrainExample } from '../../../src/lab/intervene';
import { formatLetterIds } from '../../../src/lab/probe';
import { chatUserText, fewShotPrefix, formatQuestion } from '../../../src/lab/prompts';
import { loadMmlu } from '../../helpers/mmlu';
import { qwenTokenizer } from '../../helpers/qwen-tokenizer';

// The lab's tokenizer-facing logic against a real BPE vocabulary and chat template.
const tok = qwenTokenizer();

describe('with the Qwen tokenizer', () => {
  it('finds one token per letter after "Answer:" and after the generation prompt', () => {
    const kshot = formatLetterIds(tok, { kind: 'kshot', shots: 5 });
    expect(kshot.map((i) => tok.decode([i]))).toEqual([' A', ' B', ' C', ' D']);
    const chat = formatLetterIds(tok, { kind: 'chat' });
    expect(chat.map((i) => tok.decode([i]))).toEqual(['A', 'B', 'C', 'D']);
  });

  it('tokenises the k-shot prefix and a question separately exactly as together', () => {
    // The probe encodes the shared prefix once and each question on its own; on MMLU text the seam is clean.
    const dev = loadMmlu(['high_school_geography'], ['dev']);
    const val = loadMmlu(['high_school_geography'], ['val']).slice(0, 20);
    const prefix = fewShotPrefix('high_school_geography', dev);
    for (const q of val) expect([...tok.encode(prefix), ...tok.encode(formatQuestion(q))]).toEqual(tok.encode(prefix + formatQuestion(q)));
  });

  it('puts the loss on the assistant turn only, whatever the template adds to it', () => {
    const [q] = loadMmlu(['astronomy'], ['dev']);
    const messages = itemMessages({ question: q, response: 2, source: 'self' }, 'letter');
    const ex = toTrainExample(tok, messages);
    const first = ex.lossMask.indexOf(1);
    expect(tok.decode(ex.ids.slice(0, first))).toBe(tok.applyChatTemplate([messages[0]], { addGenerationPrompt: true }));
    expect(tok.decode(ex.ids.slice(0, first))).toContain(chatUserText(q));
    // Qwen3's template writes an empty think block into the last assistant turn: it is part of the reply.
    expect(tok.decode(ex.ids.slice(first))).toBe('<think>\n\n</think>\n\nC<|im_end|>\n');
    expect(ex.lossMask.slice(first).every((m) => m === 1)).toBe(true);
  });
});
