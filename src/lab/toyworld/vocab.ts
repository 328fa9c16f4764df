/**
 * The word-level vocabulary of the toy world and its Hugging Face tokenizer files. A word is a run of
 * characters that are neither whitespace nor punctuation; every punctuation character is its own token
 * (HF's BertPreTokenizer), so "Answer:" is [Answer, :] and " A" is [A]: each option letter is one token.
 * Whitespace is not kept: layouts differ by words and punctuation only.
 */
import { RELATIONS, EXISTS_TEMPLATES, subjectText } from './relations';
import { ANSWER_CUES, ANSWER_FORMS, BOS, CHAT_TEMPLATE, EOS, ITEM_TRAILERS, LETTERS, MC_HEADERS, OPTION_INTROS, OPTION_MARKERS, PAD, QUESTION_PREFIXES, SPECIAL_TOKENS, UNK } from './formats';

/** Same character class as transformers.js / HF tokenizers use for punctuation. */
const P = '\\p{P}\\u0021-\\u002F\\u003A-\\u0040\\u005B-\\u0060\\u007B-\\u007E';
const WORD_RE = new RegExp(`[^\\s${P}]+|[${P}]`, 'gu');
const SPECIAL_RE = new RegExp(`(${SPECIAL_TOKENS.map(escapeRe).join('|')})`);

/** Splits text into the tokenizer's pieces (special tokens kept whole). */
export function splitWords(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(SPECIAL_RE)) {
    if ((SPECIAL_TOKENS as readonly string[]).includes(part)) out.push(part);
    else for (const m of part.matchAll(WORD_RE)) out.push(m[0]);
  }
  return out;
}

/** Words the prompts and formats may use besides the world's names. */
const EXTRA_WORDS =
  'Explanation because correct wrong True False Yes No yes no I do not know it is answer option letter the a an of and or';

/** Every non-name word any template, format or probe can produce. */
export function fixedWords(): string[] {
  const texts: string[] = [EXTRA_WORDS, LETTERS.join(' '), '0 1 2 3 4 5 6 7 8 9'];
  for (const r of RELATIONS) {
    texts.push(...r.statements, ...r.questions, r.subject, subjectText(r.subject), r.domain);
  }
  texts.push(...Object.values(EXISTS_TEMPLATES));
  for (const list of [
    MC_HEADERS,
    QUESTION_PREFIXES,
    OPTION_INTROS,
    OPTION_MARKERS,
    ITEM_TRAILERS,
    ANSWER_CUES,
    ANSWER_FORMS,
  ]) {
    texts.push(...list.map(([t]) => t));
  }
  const words = new Set<string>();
  for (const t of texts) {
    for (const w of splitWords(t.replace(/\{[A-Z]+\}/g, ' ')))
      if (!(SPECIAL_TOKENS as readonly string[]).includes(w)) words.add(w);
  }
  return [...words].sort();
}

export interface Vocab {
  /** Token strings by id. */
  tokens: string[];
  ids: Map<string, number>;
}

/** Specials first (PAD 0, UNK 1, BOS 2, EOS 3, roles), then fixed words (sorted), then the world's names. */
export function buildVocab(world: { entities: readonly { name: string }[] }): Vocab {
  const tokens: string[] = [...SPECIAL_TOKENS];
  const seen = new Set(tokens);
  for (const w of [...fixedWords(), ...world.entities.map((e) => e.name)]) {
    if (!seen.has(w)) {
      seen.add(w);
      tokens.push(w);
    }
  }
  return { tokens, ids: new Map(tokens.map((t, i) => [t, i])) };
}

/** Token ids of `text` without BOS (unknown words → UNK). The HF tokenizer gives the same ids. */
export function encodeWords(vocab: Vocab, text: string): number[] {
  const unk = vocab.ids.get(UNK)!;
  return splitWords(text).map((w) => vocab.ids.get(w) ?? unk);
}

export const TOKEN_IDS = { pad: 0, unk: 1, bos: 2, eos: 3 } as const;

/** tokenizer.json (HF tokenizers format): WordLevel model, BertPreTokenizer, BOS prepended, WordPiece decoder. */
export function tokenizerJson(vocab: Vocab): object {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: BOS, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: BOS, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: BOS, type_id: 1 } },
        { Sequence: { id: 'B', type_id: 1 } },
      ],
      special_tokens: {
        [BOS]: { id: BOS, ids: [TOKEN_IDS.bos], tokens: [BOS] },
      },
    },
    // Joins words with spaces and removes the space before . , ? ! (cleanup).
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordLevel',
      vocab: Object.fromEntries(vocab.tokens.map((t, i) => [t, i])),
      unk_token: UNK,
    },
  };
}

export function tokenizerConfigJson(): object {
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: BOS,
    eos_token: EOS,
    pad_token: PAD,
    unk_token: UNK,
    add_bos_token: true,
    add_eos_token: false,
    clean_up_tokenization_spaces: true,
    model_max_length: 512,
    padding_side: 'left',
    chat_template: CHAT_TEMPLATE,
    added_tokens_decoder: Object.fromEntries(
      SPECIAL_TOKENS.map((content, id) => [
        String(id),
        {
          content,
          lstrip: false,
          normalized: false,
          rstrip: false,
          single_word: false,
          special: true,
        },
      ]),
    ),
  };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
