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
  toyWorldBank,
  explainOption,
  canExplain,
  TOY_SUBJECTS,
  WORLD_VERSION,
  type ToyFact,
  type ToyWorld,
} from '../../../src/lab/toyworld';
import type { Question } from '../../../src/lab/questions';
import { TOY_EXPERIMENT } from '../../../src/worker/toy-defaults';
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
    expect(other.questions.map((q) => q.group)).not.toEqual(world.questions.map((q) => q.group));
  });

  it('gives every entity a unique single-word name and an exists sentence', () => {
    const names = world.entities.map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    for (const e of world.entities) {
      expect(e.name).toMatch(/^[A-Za-z]+$/);
      expect(e.exists).toContain(e.name);
    }
    // Every entity a fact or an option mentions is one of them.
    const known = new Set(names);
    for (const q of [...world.questions, ...world.drilled]) expect(q.options.every((o) => known.has(o))).toBe(true);
  });

  it('partitions each relation into disjoint, complete teaching groups of the asked sizes', () => {
    const { perRelation, fractions, devPerSubject } = world.options;
    for (const rel of RELATIONS) {
      const facts = world.facts.filter((f) => f.relation === rel.id);
      const n = perRelation[rel.role];
      expect(facts).toHaveLength(n);
      const count = (g: string) => facts.filter((f) => f.group === g).length;
      const nMc = Math.round(n * fractions.mc);
      expect(count('mc')).toBe(nMc);
      expect(count('statement')).toBe(Math.round(n * (fractions.mc + fractions.statement)) - nMc);
      expect(count('misconception')).toBeGreaterThan(0);
      expect(count('none')).toBeGreaterThan(0);
      expect(count('mc') + count('statement') + count('misconception') + count('none')).toBe(n);
      expect(facts.every((f) => TEACH_GROUPS.includes(f.group))).toBe(true);
      const dev = facts.filter((f) => f.dev);
      expect(dev).toHaveLength(devPerSubject);
      expect(dev.every((f) => f.group === 'mc')).toBe(true);
      // Each subject entity has exactly one fact per relation.
      expect(new Set(facts.map((f) => f.entity)).size).toBe(n);
      // What pretraining states: the value, a wrong one for misconceptions, nothing for 'none'.
      for (const f of facts) {
        if (f.group === 'none') expect(f.taught).toBeUndefined();
        else if (f.group === 'misconception') expect(f.taught !== undefined && f.taught !== f.value).toBe(true);
        else expect(f.taught).toBe(f.value);
      }
    }
    expect(new Set(world.facts.map((f) => f.id)).size).toBe(world.facts.length);
    // No country or creature holds more than factsPerEntity facts (a small model carries fewer into MC otherwise).
    const perEntity = new Map<string, number>();
    for (const f of world.facts) perEntity.set(f.entity, (perEntity.get(f.entity) ?? 0) + 1);
    expect(Math.max(...perEntity.values())).toBe(world.options.factsPerEntity);
    expect(() => generateWorld({ seed: 42, factsPerEntity: 0 })).toThrow(/factsPerEntity/);
  });

  it('keeps the facts drilled as multiple choice out of the bank, except the k-shot examples', () => {
    expect(world.questions.length + world.drilled.length).toBe(world.facts.length);
    expect(world.drilled.every((q) => q.group === 'mc' && !q.dev)).toBe(true);
    expect(world.questions.filter((q) => q.group === 'mc').every((q) => q.dev)).toBe(true);
    const bank = toyWorldBank(world);
    expect(bank.pool.every((q) => q.group !== 'mc')).toBe(true);
    expect(bank.fewShot.every((q) => q.group === 'mc')).toBe(true);
    expect(bank.drilled).toHaveLength(world.drilled.length);
    expect(new Set([...bank.pool, ...bank.fewShot].map((q) => q.id)).size).toBe(world.questions.length);
    // Every question carries its teaching group and the world version.
    for (const q of [...bank.pool, ...bank.fewShot, ...bank.drilled]) {
      expect(TEACH_GROUPS).toContain(q.group);
      expect(q.id).toMatch(new RegExp(`^toy-v${WORLD_VERSION}-`));
    }
  });

  it('has several relations per split and enough questions for a 5-seed grid', () => {
    const pool = toyWorldBank(world).pool;
    const of = (subjects: string[]) => pool.filter((q) => subjects.includes(q.subject));
    for (const subjects of Object.values(TOY_SUBJECTS)) expect(subjects.length).toBeGreaterThanOrEqual(2);
    const train = of(TOY_SUBJECTS.train);
    const { homoFraction } = TOY_EXPERIMENT.splits;
    // The one-click HOMO fraction leaves ≥ 100 held-out and ≥ 150 training questions.
    expect(Math.round(train.length * homoFraction)).toBeGreaterThanOrEqual(100);
    expect(train.length - Math.round(train.length * homoFraction)).toBeGreaterThanOrEqual(150);
    expect(of(TOY_SUBJECTS.related).length).toBeGreaterThanOrEqual(100);
    expect(of(TOY_SUBJECTS.other).length).toBeGreaterThanOrEqual(100);
    const groups = (qs: Question[]) => new Set(qs.map((q) => q.group));
    for (const qs of [train, of(TOY_SUBJECTS.related), of(TOY_SUBJECTS.other)])
      expect(groups(qs)).toEqual(new Set(['statement', 'none', 'misconception']));
    expect(pool.length + toyWorldBank(world).fewShot.length).toBe(world.questions.length);
    expect(new Set(pool.map((q) => q.subject))).toEqual(
      new Set([...TOY_SUBJECTS.train, ...TOY_SUBJECTS.related, ...TOY_SUBJECTS.other]),
    );
  });

  it('asks one 4-option question per fact with distinct options from the relation pool and one correct answer', () => {
    const factById = new Map(world.facts.map((f) => [f.id, f]));
    const letterCounts = [0, 0, 0, 0];
    const all = [...world.questions, ...world.drilled];
    for (const q of all) {
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
      // A misconception's wrongly taught value is one of the options, never the gold one.
      if (f.group === 'misconception') {
        expect(q.taught).not.toBe(q.answer);
        expect(q.options[q.taught!]).toBe(f.taught);
      } else expect(q.taught).toBeUndefined();
      letterCounts[q.answer]++;
    }
    // Seeded option order: the gold letter is spread over A..D.
    for (const c of letterCounts) expect(c).toBeGreaterThan(all.length / 8);
  });
});

describe('toy world explanations', () => {
  it("write the world's statement with the chosen option: the gold explanation for the gold one", () => {
    for (const q of [...world.questions, ...world.drilled]) {
      expect(canExplain(q)).toBe(true);
      expect(explainOption(q, q.answer)).toBe(q.explanation);
    }
    const q = world.questions.find((x) => x.group === 'misconception')!;
    const f = world.facts.find((x) => x.id === q.factId)!;
    const rel = RELATIONS.find((r) => r.id === f.relation)!;
    expect(explainOption(q, q.taught!)).toBe(fill(rel.statements[0], f.entity, f.taught));
    // A plain lab Question (from the bank) explains the same way.
    const plain = toyWorldBank(world).pool.find((x) => x.id === q.id)!;
    expect(explainOption(plain, 2)).toBe(fill(rel.statements[0], f.entity, q.options[2]));
  });

  it('refuses a question that is not from the toy world, or an option it does not have', () => {
    const mmlu = {
      subject: 'anatomy',
      question: 'What is the largest organ?',
      options: ['skin', 'liver', 'heart', 'lung'] as [string, string, string, string],
    };
    expect(canExplain(mmlu)).toBe(false);
    expect(() => explainOption(mmlu, 0)).toThrow(/not a toy-world question/);
    const q = world.questions[0];
    expect(() => explainOption({ ...q, question: 'Something else entirely?' }, 0)).toThrow(/not a toy-world question/);
    expect(() => explainOption(q, 4)).toThrow(/not one of the question's 4/);
  });
});

describe('toy world corpus', () => {
  const docs = buildCorpus(world, { documents: 4000, seed: 1 });
  const text = docs.map((d) => d.text).join('\n');
  const statementsOf = (f: ToyFact, value: string) =>
    RELATIONS.find((r) => r.id === f.relation)!.statements.map((t) => fill(t, f.entity, value));

  it('never states or asks a fact of the untaught group, states misconceptions wrongly, and asks only MC facts', () => {
    for (const f of world.facts) {
      const rel = RELATIONS.find((r) => r.id === f.relation)!;
      if (f.group === 'none' || f.group === 'misconception')
        for (const t of statementsOf(f, f.value)) expect(text).not.toContain(t);
      if (f.group !== 'mc') for (const t of rel.questions) expect(text).not.toContain(fill(t, f.entity));
    }
    // Taught facts do appear (sanity: the checks above can fail).
    for (const group of ['statement', 'misconception'] as const) {
      const taught = world.facts.filter((f) => f.group === group);
      const seen = taught.filter((f) => statementsOf(f, f.taught!).some((t) => text.includes(t)));
      expect(seen.length).toBeGreaterThan(taught.length * 0.9);
    }
  });

  it('never uses the chat template the lab tunes in', () => {
    for (const role of ['<|user|>', '<|assistant|>', '<|system|>']) expect(text).not.toContain(role);
  });

  it('has every kind of document, each starting with BOS and ending with EOS, with no unknown word', () => {
    const vocab = buildVocab(world);
    expect(new Set(docs.map((d) => d.kind))).toEqual(new Set(['statements', 'entity', 'exists', 'mc']));
    for (const d of docs) {
      const ids = encodeWords(vocab, d.text);
      expect(ids[0]).toBe(TOKEN_IDS.bos);
      expect(ids[ids.length - 1]).toBe(TOKEN_IDS.eos);
      expect(ids.filter((t) => t === TOKEN_IDS.eos)).toHaveLength(1);
      expect(ids).not.toContain(TOKEN_IDS.unk);
    }
  });

  it('varies the multiple-choice layout: headers, option markers and answer cues', () => {
    const mc = docs.filter((d) => d.kind === 'mc').map((d) => d.text);
    for (const marker of ['\nA. ', '\n(A) ', '\nA) ', '\nA: ']) expect(mc.some((t) => t.includes(marker))).toBe(true);
    for (const cue of ['Answer:', 'The answer is', 'Correct answer:', 'Solution:'])
      expect(mc.some((t) => t.includes(cue))).toBe(true);
    expect(mc.some((t) => t.includes('The following are multiple choice questions about'))).toBe(true);
    expect(mc.some((t) => t.includes('Quiz on'))).toBe(true);
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
