import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AutoTokenizer, env } from '@huggingface/transformers';
import {
  LETTERS,
  RELATIONS,
  TEACH_GROUPS,
  TOKEN_IDS,
  TOY_MODEL_PATH,
  buildCorpus,
  buildVocab,
  encodeWords,
  fill,
  generateWorld,
  mmluPrompt,
  renderChat,
  toyProbePrompt,
  toyWorldFiles,
  type ToyWorld,
} from '../../../src/lab/toyworld';
import { expectedTensors, type ModelSpec } from '../../../src/model/spec';

const MODEL_DIR = join(process.cwd(), 'public', TOY_MODEL_PATH);
const shipped = (name: string) => readFileSync(join(MODEL_DIR, name));
const world = generateWorld({ seed: 42 });

describe('toy world generator', () => {
  it('is deterministic in its seed', () => {
    expect(generateWorld({ seed: 42 })).toEqual(world);
    const other = generateWorld({ seed: 7 });
    expect(other.entities.map((e) => e.name)).not.toEqual(world.entities.map((e) => e.name));
    expect(other.questions.map((q) => q.answer)).not.toEqual(world.questions.map((q) => q.answer));
  });

  it('gives every entity a unique single-word name and an exists sentence', () => {
    const names = world.entities.map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    for (const e of world.entities) {
      expect(e.name).toMatch(/^[A-Za-z]+$/);
      expect(e.exists).toContain(e.name);
    }
  });

  it('partitions each relation into disjoint, complete teaching groups of the asked sizes', () => {
    const { countries, creatures, fractions, devPerSubject } = world.options;
    for (const rel of RELATIONS) {
      const facts = world.facts.filter((f) => f.relation === rel.id);
      const n = rel.domain === 'countries' ? countries : creatures;
      expect(facts).toHaveLength(n);
      const count = (g: string) => facts.filter((f) => f.group === g).length;
      expect(count('mc')).toBe(Math.round(n * fractions.mc));
      expect(count('statement')).toBe(Math.round(n * fractions.statement));
      expect(count('mc') + count('statement') + count('none')).toBe(n);
      expect(facts.every((f) => TEACH_GROUPS.includes(f.group))).toBe(true);
      const dev = facts.filter((f) => f.dev);
      expect(dev).toHaveLength(devPerSubject);
      expect(dev.every((f) => f.group === 'mc')).toBe(true);
      // Each subject entity has exactly one fact per relation.
      expect(new Set(facts.map((f) => f.entity)).size).toBe(n);
    }
    expect(new Set(world.facts.map((f) => f.id)).size).toBe(world.facts.length);
  });

  it('asks one 4-option question per fact with distinct options from the relation pool and one correct answer', () => {
    expect(world.questions).toHaveLength(world.facts.length);
    const factById = new Map(world.facts.map((f) => [f.id, f]));
    const letterCounts = [0, 0, 0, 0];
    for (const q of world.questions) {
      const f = factById.get(q.factId)!;
      const rel = RELATIONS.find((r) => r.id === f.relation)!;
      const pool = new Set(world.entities.filter((e) => e.kind === rel.valueKind).map((e) => e.name));
      expect(q.subject).toBe(rel.subject);
      expect(q.options).toHaveLength(4);
      expect(new Set(q.options).size).toBe(4);
      expect(q.options.every((o) => pool.has(o))).toBe(true);
      expect(Number.isInteger(q.answer) && q.answer >= 0 && q.answer < 4).toBe(true);
      expect(q.options[q.answer]).toBe(f.value);
      expect(q.options.filter((o) => o === f.value)).toHaveLength(1);
      expect(q.group).toBe(f.group);
      expect(q.explanation).toBe(fill(rel.statements[0], f.entity, f.value));
      letterCounts[q.answer]++;
    }
    // Seeded option order: the gold letter is spread over A..D.
    for (const c of letterCounts) expect(c).toBeGreaterThan(world.questions.length / 8);
  });
});

describe('toy world corpus', () => {
  const docs = buildCorpus(world, { documents: 4000, seed: 1 });
  const text = docs.map((d) => d.text).join('\n');

  it('never states or asks a fact of the untaught group, and asks only MC facts as questions', () => {
    for (const f of world.facts) {
      const rel = RELATIONS.find((r) => r.id === f.relation)!;
      if (f.group === 'none') for (const t of rel.statements) expect(text).not.toContain(fill(t, f.entity, f.value));
      if (f.group !== 'mc') for (const t of rel.questions) expect(text).not.toContain(fill(t, f.entity));
    }
    // Taught facts do appear (sanity: the check above can fail).
    const taught = world.facts.filter((f) => f.group === 'statement');
    const seen = taught.filter((f) =>
      RELATIONS.find((r) => r.id === f.relation)!.statements.some((t) => text.includes(fill(t, f.entity, f.value))),
    );
    expect(seen.length).toBeGreaterThan(taught.length * 0.9);
  });

  it('has every kind of document, each starting with BOS and ending with EOS, with no unknown word', () => {
    const vocab = buildVocab(world);
    expect(new Set(docs.map((d) => d.kind))).toEqual(new Set(['statements', 'entity', 'exists', 'mc', 'chat']));
    for (const d of docs) {
      const ids = encodeWords(vocab, d.text);
      expect(ids[0]).toBe(TOKEN_IDS.bos);
      expect(ids[ids.length - 1]).toBe(TOKEN_IDS.eos);
      expect(ids).not.toContain(TOKEN_IDS.unk);
    }
  });
});

describe('toy world tokenizer (transformers.js, offline)', async () => {
  env.allowRemoteModels = false;
  env.localModelPath = join(process.cwd(), 'public', 'models') + '/';
  const tok = await AutoTokenizer.from_pretrained('toy-world');
  const vocab = buildVocab(world);
  const enc = (s: string) => tok.encode(s, { add_special_tokens: false });

  it('ships the tokenizer files the generator makes for the shipped seed', () => {
    const files = toyWorldFiles(world);
    expect(shipped('tokenizer.json').toString()).toBe(files['tokenizer.json']);
    expect(shipped('tokenizer_config.json').toString()).toBe(files['tokenizer_config.json']);
  });

  it('spells each option letter as one token after "Answer:"', () => {
    const q = world.questions.find((x) => !x.dev)!;
    const prompt = toyProbePrompt(world, q);
    expect(prompt.endsWith('Answer:')).toBe(true);
    const base = enc(prompt);
    expect(base).not.toContain(TOKEN_IDS.unk);
    const letterIds = LETTERS.map((l) => enc(` ${l}`));
    for (const [i, l] of LETTERS.entries()) {
      expect(letterIds[i]).toHaveLength(1);
      expect(enc(`${prompt} ${l}`)).toEqual([...base, letterIds[i][0]]);
      expect(enc(l)).toEqual(letterIds[i]);
    }
    expect(new Set(letterIds.map((x) => x[0])).size).toBe(4);
    expect(enc('Answer:')).toEqual([vocab.ids.get('Answer'), vocab.ids.get(':')]);
  });

  it('gives the same ids as the corpus encoder, adds BOS by default, and decodes back to the words', () => {
    const docs = buildCorpus(world, { documents: 200, seed: 3 });
    for (const d of docs) expect(enc(d.text)).toEqual(encodeWords(vocab, d.text));
    const s = world.questions[0].explanation!;
    expect(tok.encode(s)).toEqual([TOKEN_IDS.bos, ...encodeWords(vocab, s)]);
    expect(tok.decode(enc(s))).toBe(s);
    const q = world.questions[1];
    expect(tok.decode(enc(q.question))).toBe(q.question);
    expect(enc('Blorptastic zzz')).toEqual([TOKEN_IDS.unk, TOKEN_IDS.unk]);
    expect(tok.bos_token_id).toBe(TOKEN_IDS.bos);
    expect(tok.eos_token_id).toBe(TOKEN_IDS.eos);
  });

  it('applies the chat template like renderChat', () => {
    const q = world.questions[2];
    const messages = [
      { role: 'user' as const, content: mmluPrompt(q.subject, [], q) },
      { role: 'assistant' as const, content: LETTERS[q.answer] },
    ];
    const rendered = tok.apply_chat_template(messages, {
      tokenize: false,
    }) as unknown as string;
    expect(rendered).toBe(renderChat(messages, false));
    const withPrompt = tok.apply_chat_template(messages.slice(0, 1), {
      tokenize: false,
      add_generation_prompt: true,
    }) as unknown as string;
    expect(withPrompt).toBe(renderChat(messages.slice(0, 1), true));
    const ids = tok.apply_chat_template(messages.slice(0, 1), {
      add_generation_prompt: true,
      return_tensor: false,
      return_dict: false,
    }) as unknown as number[];
    expect(Array.from(ids)).toEqual(encodeWords(vocab, withPrompt));
    expect(ids[0]).toBe(TOKEN_IDS.bos);
    expect(ids[ids.length - 1]).toBe(vocab.ids.get('<|assistant|>'));
  });
});

describe('shipped toy-world model', () => {
  const shippedWorld = () => JSON.parse(shipped('world.json').toString()) as ToyWorld;
  const readConfig = () => JSON.parse(shipped('config.json').toString());

  it('world.json is the generator output for its seed', () => {
    const w = shippedWorld();
    expect(w).toEqual(generateWorld(w.options));
  });

  it('config.json describes a tied Llama over the word vocabulary', () => {
    const config = readConfig();
    expect(config.model_type).toBe('llama');
    expect(config.architectures).toEqual(['LlamaForCausalLM']);
    expect(config.torch_dtype).toBe('float32');
    expect(config.vocab_size).toBe(buildVocab(shippedWorld()).tokens.length);
    expect(config.tie_word_embeddings).toBe(true);
    expect(config.bos_token_id).toBe(TOKEN_IDS.bos);
    expect(config.eos_token_id).toBe(TOKEN_IDS.eos);
  });

  it('model.safetensors parses and holds exactly the f32 tensors config.json implies', () => {
    const config = readConfig();
    const buf = shipped('model.safetensors');
    const headerLen = Number(buf.readBigUInt64LE(0));
    const header = JSON.parse(buf.subarray(8, 8 + headerLen).toString()) as Record<
      string,
      { dtype: string; shape: number[]; data_offsets: [number, number] }
    >;
    delete (header as Record<string, unknown>).__metadata__;
    const spec: ModelSpec = {
      arch: 'llama',
      vocabSize: config.vocab_size,
      hiddenSize: config.hidden_size,
      intermediateSize: config.intermediate_size,
      numLayers: config.num_hidden_layers,
      numHeads: config.num_attention_heads,
      numKvHeads: config.num_key_value_heads,
      headDim: config.head_dim,
      rmsNormEps: config.rms_norm_eps,
      ropeTheta: config.rope_theta,
      ropeScaling: null,
      maxPositionEmbeddings: config.max_position_embeddings,
      tieWordEmbeddings: config.tie_word_embeddings,
      attentionBias: false,
      bosTokenId: config.bos_token_id,
      eosTokenIds: [config.eos_token_id],
    };
    const expected = expectedTensors(spec);
    expect(new Set(Object.keys(header))).toEqual(new Set(expected.keys()));
    let end = 0;
    for (const [name, t] of Object.entries(header)) {
      expect(t.dtype).toBe('F32');
      expect(t.shape).toEqual(expected.get(name));
      expect(t.data_offsets[1] - t.data_offsets[0]).toBe(4 * t.shape.reduce((a, b) => a * b, 1));
      end = Math.max(end, t.data_offsets[1]);
      const data = new Float32Array(
        buf.buffer.slice(
          buf.byteOffset + 8 + headerLen + t.data_offsets[0],
          buf.byteOffset + 8 + headerLen + t.data_offsets[1],
        ),
      );
      expect(data.every(Number.isFinite)).toBe(true);
    }
    expect(buf.length).toBe(8 + headerLen + end);
  });

  it('ships reference logits for engine checks, shaped by config.json', () => {
    const config = readConfig();
    const ref = JSON.parse(readFileSync(join(process.cwd(), 'tests/fixtures/toy-world-reference.json'), 'utf8'));
    expect(ref.ids).toHaveLength(16);
    expect(ref.ids[0]).toBe(TOKEN_IDS.bos);
    expect(ref.logits).toHaveLength(16);
    for (const row of ref.logits) expect(row).toHaveLength(config.vocab_size);
  });
});
