/**
 * The built-in toy world: invented facts, the questions about them, the pretraining corpus and the
 * word-level tokenizer of the tiny model trained on it (tools/toyworld, shipped in public/models/toy-world).
 */
import { devQuestions, type ToyQuestion, type ToyWorld } from './world';
import { mmluPrompt } from './formats';
import { buildVocab, tokenizerConfigJson, tokenizerJson } from './vocab';

export * from './world';
export * from './formats';
export * from './corpus';
export {
  RELATIONS,
  TOY_SUBJECTS,
  fill,
  subjectText,
  type RelationDef,
  type RelationId,
  type RelationRole,
  type EntityKind,
} from './relations';
export { explainOption, canExplain } from './explain';
export { toyGeneralSet } from './general';
export {
  buildVocab,
  encodeWords,
  splitWords,
  fixedWords,
  tokenizerJson,
  tokenizerConfigJson,
  TOKEN_IDS,
  type Vocab,
} from './vocab';
export { Rng } from './rng';

/** Where the app finds the shipped model (same layout as a Hub repository). */
export const TOY_MODEL_PATH = 'models/toy-world';

/** The probe's k-shot prompt for `q`: the subject's dev questions as examples (default 5), ending in "Answer:". */
export function toyProbePrompt(world: ToyWorld, q: ToyQuestion, k = 5): string {
  const shots = devQuestions(world, q.subject)
    .filter((d) => d.id !== q.id)
    .slice(0, k);
  return mmluPrompt(q.subject, shots, q);
}

/** The text files of the shipped model that come from the world (the weights come from tools/toyworld/pretrain.py). */
export function toyWorldFiles(
  world: ToyWorld,
): Record<'tokenizer.json' | 'tokenizer_config.json' | 'world.json', string> {
  const vocab = buildVocab(world);
  return {
    'tokenizer.json': JSON.stringify(tokenizerJson(vocab)),
    'tokenizer_config.json': JSON.stringify(tokenizerConfigJson(), null, 2) + '\n',
    'world.json': JSON.stringify(world) + '\n',
  };
}
export { toyWorldBank } from './bank';
