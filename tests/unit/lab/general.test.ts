import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QuestionFileError } from '../../../src/lab/errors';
import { parseGeneral, requireGeneral } from '../../../src/lab/general';
import { buildVocab, encodeWords, renderChat, TOKEN_IDS, toyGeneralSet, type ToyWorld } from '../../../src/lab/toyworld';

describe('general instruction files', () => {
  it('reads Alpaca, chat and ShareGPT rows from JSON Lines, one example each', () => {
    const text = [
      '{"instruction":"Name a colour.","input":"","output":"Blue."}',
      '{"instruction":"Translate.","input":"bonjour","output":"hello"}',
      '{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}]}',
      '{"conversations":[{"from":"human","value":"2+2?"},{"from":"gpt","value":"4"}]}',
      '',
    ].join('\r\n');
    const r = parseGeneral(text);
    expect(r.errors).toEqual([]);
    expect(r.formats).toEqual({ alpaca: 2, chat: 1, sharegpt: 1 });
    expect(r.examples.map((e) => e.messages)).toEqual([
      [{ role: 'user', content: 'Name a colour.' }, { role: 'assistant', content: 'Blue.' }],
      [{ role: 'user', content: 'Translate.\n\nbonjour' }, { role: 'assistant', content: 'hello' }],
      [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }],
      [{ role: 'user', content: '2+2?' }, { role: 'assistant', content: '4' }],
    ]);
  });

  it('reads one JSON array (as tatsu-lab/alpaca ships), with a byte-order mark', () => {
    const r = parseGeneral('\uFEFF[{"instruction":"a","output":"b"},{"instruction":"c","input":null,"output":"d"}]');
    expect(r.errors).toEqual([]);
    expect(r.examples).toHaveLength(2);
  });

  it('reports every bad row, by line, with the field and the reason', () => {
    const text = [
      '{"instruction":"Hi","output":"Hello"}',
      '{"instruction":"","output":"x"}',
      'nope',
      '{"instruction":"a","output":"b","input":3}',
      '{"messages":[{"role":"user","content":"q"},{"role":"user","content":"again"}]}',
      '{"messages":[{"role":"bot","content":"x"},{"role":"assistant","content":""}]}',
      '[1]',
      '{"conversations":[{"from":"gpt","value":"x"}]}',
    ].join('\n');
    const r = parseGeneral(text);
    expect(r.examples).toHaveLength(1);
    expect(r.errors).toEqual([
      { line: 2, field: 'instruction', reason: 'missing or empty' },
      { line: 3, field: 'row', reason: 'not valid JSON' },
      { line: 4, field: 'input', reason: 'must be a string' },
      { line: 5, field: 'messages', reason: "the last turn must be the assistant's (the reply the loss is computed on)" },
      { line: 6, field: 'messages[0]', reason: '"role" must be system, user or assistant, not "bot"' },
      { line: 6, field: 'messages[1]', reason: '"content" missing or empty' },
      { line: 7, field: 'row', reason: 'not a JSON object' },
      { line: 8, field: 'conversations', reason: 'must be a list of at least two turns' },
    ]);
    expect(() => requireGeneral(text, 'mine.jsonl')).toThrow(/mine\.jsonl has 8 bad row\(s\):\nrow 2, instruction: missing or empty/);
  });

  it('refuses an empty file, a broken array and a file of no examples with advice', () => {
    expect(() => parseGeneral(' \n')).toThrow(QuestionFileError);
    expect(() => parseGeneral('[{"instruction": ')).toThrow(/starts like a JSON array but is not valid JSON/);
    expect(() => requireGeneral('[]', 'e.json')).toThrow(/e\.json holds no examples/);
  });
});

describe("the toy world's general set", () => {
  const world = JSON.parse(readFileSync(join('public', 'models', 'toy-world', 'world.json'), 'utf8')) as ToyWorld;
  const set = toyGeneralSet(world);
  const names = new Set(world.entities.map((e) => e.name));

  it('has two tasks per name, is the same on every call, and says True as often as False', () => {
    expect(set).toHaveLength(2 * world.entities.length);
    expect(toyGeneralSet(world)).toEqual(set);
    const claims = set.filter((g) => g.messages[0].content.endsWith('True or False?'));
    const trues = claims.filter((g) => g.messages[1].content === 'True.').length;
    expect(claims).toHaveLength(world.entities.length);
    expect(Math.abs(trues / claims.length - 0.5)).toBeLessThan(0.1);
  });

  it('is written in the toy vocabulary only (no unknown token) and rendered by its chat template', () => {
    const vocab = buildVocab(world);
    for (const g of set) {
      const text = renderChat(g.messages, false);
      expect(encodeWords(vocab, text)).not.toContain(TOKEN_IDS.unk);
    }
  });

  it('teaches no relation: every example names exactly one entity, and only its kind', () => {
    for (const g of set) {
      const text = g.messages.map((m) => m.content).join(' ');
      const named = new Set([...text.matchAll(/[^\s.,?]+/g)].map((m) => m[0]).filter((w) => names.has(w)));
      expect(named.size).toBe(1);
    }
  });
});
