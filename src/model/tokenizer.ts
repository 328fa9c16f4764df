/**
 * The model's own tokenizer and chat template, through transformers.js, built from the tokenizer.json and
 * tokenizer_config.json objects already downloaded (no network, no file system): transformers.js's
 * tokenizer classes take exactly these two objects in their constructor; the class is chosen as
 * AutoTokenizer does (tokenizer_config.tokenizer_class, "Fast" suffix dropped), among the classes the
 * supported models name (SmolLM2: GPT2Tokenizer, Qwen2.5: Qwen2Tokenizer, TinyLlama: LlamaTokenizer,
 * Llama 3.2: PreTrainedTokenizerFast); anything else gets the base class, as AutoTokenizer would.
 */
import { GPT2Tokenizer, LlamaTokenizer, PreTrainedTokenizer, Qwen2Tokenizer } from '@huggingface/transformers';
import type { ChatMessage, LabTokenizer } from '../lab/model';
import type { ModelSpec } from './spec';
import { TokenizerMismatchError } from './errors';
import { vicunaChat, type ChatTemplateSource } from './chat-fallback';

export interface HfTokenizer extends LabTokenizer {
  /** The underlying transformers.js tokenizer (for anything the LabTokenizer does not cover). */
  readonly hf: PreTrainedTokenizer;
  /** The token's id, or null if the vocabulary has no such token. */
  tokenToId(token: string): number | null;
  /** Where the chat format comes from: the model's chat_template, or the Vicuna fallback (base models). */
  readonly chatTemplate: ChatTemplateSource;
}

type TokenizerCtor = new (json: object, config: object) => PreTrainedTokenizer;

const CLASSES: Record<string, TokenizerCtor> = {
  GPT2Tokenizer: GPT2Tokenizer as unknown as TokenizerCtor,
  Qwen2Tokenizer: Qwen2Tokenizer as unknown as TokenizerCtor,
  LlamaTokenizer: LlamaTokenizer as unknown as TokenizerCtor,
};

function tokenizerClass(config: Record<string, unknown>): TokenizerCtor {
  const name = typeof config.tokenizer_class === 'string' ? config.tokenizer_class.replace(/Fast$/, '') : '';
  return CLASSES[name] ?? (PreTrainedTokenizer as unknown as TokenizerCtor);
}

/** The largest token id the tokenizer can produce, + 1 (model vocab plus added tokens). */
function tokenizerVocabSize(json: Record<string, unknown>, hf: PreTrainedTokenizer): number {
  let max = -1;
  const vocab = hf.get_vocab() as Map<string, number> | Record<string, number>;
  const ids = vocab instanceof Map ? vocab.values() : Object.values(vocab);
  for (const id of ids) if (id > max) max = id;
  for (const t of (json.added_tokens as { id: number }[] | undefined) ?? []) if (t.id > max) max = t.id;
  return max + 1;
}

export interface TokenizerOptions {
  /** When given, the tokenizer must fit the model's embedding (TokenizerMismatchError otherwise), and the
   * model's EOS ids (config.json, generation_config.json) are added to the tokenizer's. */
  spec?: ModelSpec;
  /** Extra EOS ids (e.g. from generation_config.json via mergeEosTokenIds). */
  eosTokenIds?: readonly number[];
}

export function createTokenizer(tokenizerJson: unknown, tokenizerConfig: unknown, opts: TokenizerOptions = {}): HfTokenizer {
  if (typeof tokenizerJson !== 'object' || tokenizerJson === null || !('model' in tokenizerJson))
    throw new TokenizerMismatchError('tokenizer.json has no "model" section (is it a tokenizers-library file?)');
  const config = (typeof tokenizerConfig === 'object' && tokenizerConfig ? tokenizerConfig : {}) as Record<string, unknown>;
  let hf: PreTrainedTokenizer;
  try {
    hf = new (tokenizerClass(config))(tokenizerJson, config);
  } catch (e) {
    throw new TokenizerMismatchError(`transformers.js could not build it (${(e as Error).message})`);
  }
  const vocabSize = tokenizerVocabSize(tokenizerJson as Record<string, unknown>, hf);
  const spec = opts.spec;
  if (spec && vocabSize > spec.vocabSize)
    throw new TokenizerMismatchError(`it has token ids up to ${vocabSize - 1} but the model's vocab_size is ${spec.vocabSize}`);

  const eos: number[] = [];
  const add = (id: unknown) => {
    if (typeof id === 'number' && id >= 0 && !eos.includes(id)) eos.push(id);
  };
  add(hf.eos_token_id);
  spec?.eosTokenIds.forEach(add);
  opts.eosTokenIds?.forEach(add);
  const chatTemplate: ChatTemplateSource = hf.chat_template ? 'model' : 'vicuna-fallback';
  const eosText = typeof hf.eos_token === 'string' && hf.eos_token ? hf.eos_token : '</s>';
  const bos = typeof hf.bos_token_id === 'number' ? hf.bos_token_id : (spec?.bosTokenId ?? null);

  return {
    hf,
    vocabSize,
    bosTokenId: bos,
    eosTokenIds: eos,
    encode: (text: string) => hf.encode(text, { add_special_tokens: false }),
    // Special tokens are kept: the lab decides what to show; generation stops at EOS anyway.
    decode: (ids: readonly number[]) => hf.decode([...ids], { skip_special_tokens: false }),
    chatTemplate,
    applyChatTemplate(messages: readonly ChatMessage[], o: { addGenerationPrompt?: boolean } = {}): string {
      // A base model ships no template: the paper's Vicuna format, ended by the tokenizer's own EOS text.
      if (!hf.chat_template) return vicunaChat(messages, eosText, o);
      return hf.apply_chat_template(
        messages.map((m) => ({ role: m.role, content: m.content })),
        { tokenize: false, add_generation_prompt: o.addGenerationPrompt ?? false },
      ) as string;
    },
    tokenToId(token: string): number | null {
      const v = hf.get_vocab() as Map<string, number> | Record<string, number>;
      const id = v instanceof Map ? v.get(token) : v[token];
      if (id !== undefined) return id;
      const added = ((tokenizerJson as { added_tokens?: { id: number; content: string }[] }).added_tokens ?? []).find((t) => t.content === token);
      return added ? added.id : null;
    },
  };
}
