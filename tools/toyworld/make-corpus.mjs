#!/usr/bin/env node
// Writes the toy world's tokenizer files and world.json into public/models/toy-world/, and the
// tokenised pretraining corpus + probe prompts as JSON for tools/toyworld/pretrain.py.
// The generator is TypeScript; Vite's module runner (already a dependency) runs it, so no extra tool is needed.
//   node tools/toyworld/make-corpus.mjs [--seed 42] [--tokens 4000000] [--out /tmp/ift-lab-toyworld/corpus.json]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { runnerImport } from 'vite';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const seed = Number(args.seed ?? 42);
const targetTokens = Number(args.tokens ?? 4_000_000);
// Corpus draws are seeded apart from the world, so a second corpus of the same world can be made.
const corpusSeed = Number(args['corpus-seed'] ?? seed * 1000);

const out = resolve(args.out ?? join(tmpdir(), 'ift-lab-toyworld', 'corpus.json'));

const { module: tw } = await runnerImport(join(root, 'src/lab/toyworld/index.ts'), {
  configFile: false,
  logLevel: 'error',
});

// --mix statements=20,mc=60 overrides parts of the document mix (relative numbers of documents).
const mix = { ...tw.DEFAULT_DOC_MIX };
for (const kv of (args.mix ?? '').split(',').filter(Boolean)) mix[kv.split('=')[0]] = Number(kv.split('=')[1]);
const world = tw.generateWorld({ seed });
const vocab = tw.buildVocab(world);
const modelDir = join(root, 'public', tw.TOY_MODEL_PATH);
mkdirSync(modelDir, { recursive: true });
for (const [name, text] of Object.entries(tw.toyWorldFiles(world))) writeFileSync(join(modelDir, name), text);

// Documents until the token budget is met (about 70 tokens each).
const docs = [];
const kinds = {};
let tokens = 0;
let batch = 0;
while (tokens < targetTokens) {
  for (const d of tw.buildCorpus(world, {
    mix,
    seed: corpusSeed + batch++,
    documents: 10_000,
  })) {
    const ids = tw.encodeWords(vocab, d.text);
    if (ids.includes(tw.TOKEN_IDS.unk)) throw new Error(`unknown word in corpus document: ${d.text}`);
    docs.push(ids);
    tokens += ids.length;
    kinds[d.kind] = (kinds[d.kind] ?? 0) + ids.length;
  }
}

const letterIds = tw.LETTERS.map((l) => vocab.ids.get(l));
// The probe's 5-shot prompts under all four cyclic shifts of the options (shift 0 is the question as
// asked): the letter probe reads shift 0, the debiased belief averages the four by content.
const probePrompt = (q) => [tw.TOKEN_IDS.bos, ...tw.encodeWords(vocab, tw.toyProbePrompt(world, q, 5))];
const shifted = (q, k) => ({ ...q, options: q.options.map((_, i) => q.options[(i + k) % 4]) });
const probe = [...world.questions.filter((q) => !q.dev), ...world.drilled].map((q) => ({
  id: q.id,
  group: q.group,
  subject: q.subject,
  answer: q.answer,
  ...(q.taught !== undefined ? { taught: q.taught } : {}),
  // shifts[k] shows option (i + k) % 4 at letter i.
  shifts: [0, 1, 2, 3].map((k) => probePrompt(shifted(q, k))),
}));

// Cloze check of memorisation: the canonical statement up to the value, scored over the relation's pool
// against the value pretraining taught (a misconception's wrong one).
const cloze = world.facts
  .filter((f) => !f.dev)
  .map((f) => {
    const rel = tw.RELATIONS.find((r) => r.id === f.relation);
    const pool = world.entities.filter((e) => e.kind === rel.valueKind).map((e) => e.name);
    const prefix = tw.fill(rel.statements[0].split('{V}')[0], f.entity);
    return {
      id: f.id,
      group: f.group,
      prompt: [tw.TOKEN_IDS.bos, ...tw.encodeWords(vocab, prefix)],
      candidates: pool.map((v) => vocab.ids.get(v)),
      answer: pool.indexOf(f.taught ?? f.value),
    };
  });

mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  JSON.stringify({
    seed,
    vocabSize: vocab.tokens.length,
    bos: tw.TOKEN_IDS.bos,
    eos: tw.TOKEN_IDS.eos,
    pad: tw.TOKEN_IDS.pad,
    letterIds,
    // Token pairs that end an answer cue ("Answer :", "answer is", …): the next token is an answer letter.
    answerCues: [
      ['Answer', ':'],
      ['answer', ':'],
      ['Solution', ':'],
      ['answer', 'is'],
    ].map((pair) => pair.map((w) => vocab.ids.get(w))),
    docs,
    probe,
    cloze,
  }),
);
const maxPrompt = Math.max(...probe.map((p) => Math.max(...p.shifts.map((x) => x.length))));
console.log(
  `toy world seed ${seed}: ${world.entities.length} entities, ${world.facts.length} facts, vocabulary ${vocab.tokens.length}; ` +
    `corpus ${docs.length} documents, ${tokens} tokens (${Object.entries(kinds)
      .map(([k, n]) => `${k} ${((n / tokens) * 100).toFixed(0)}%`)
      .join(', ')}); ` +
    `probe ${probe.length} questions (${Object.entries(
      probe.reduce((a, p) => ({ ...a, [p.group]: (a[p.group] ?? 0) + 1 }), {}),
    )
      .map(([g, n]) => `${g} ${n}`)
      .join(', ')}); longest 5-shot probe prompt ${maxPrompt} tokens → ${out}`,
);
