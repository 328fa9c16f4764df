/**
 * A handful of invented facts as 4-option questions, and a bag-of-words model pretrained on some of them:
 * what it was shown it knows, the rest it does not — a controlled known/unknown split for the unit suite.
 */
import type { Question } from '../../src/lab/questions/types';
import { fewShotPrefix, formatExample, chatUserText } from '../../src/lab/prompts';
import { rng, shuffled } from '../../src/lab/random';
import { BowModel, WordTokenizer, bowTrainConfig } from './bow-model';

const SYL = ['zor', 'bli', 'kat', 'mun', 'vex', 'dra', 'pol', 'qui', 'sen', 'tor', 'lum', 'gar', 'fen', 'rho', 'yak', 'wim'];
const RELATIONS: Record<string, { subject: string; ask: (e: string) => string; values: string[] }> = {
  capital: { subject: 'toy_geography', ask: (e) => `What is the capital of ${e}?`, values: ['Ostra', 'Velm', 'Karoo', 'Pintar', 'Dusk', 'Morrow', 'Ebb', 'Quill'] },
  colour: { subject: 'toy_geography', ask: (e) => `Which colour is the flag of ${e}?`, values: ['red', 'green', 'blue', 'amber', 'violet', 'white', 'black', 'teal'] },
  animal: { subject: 'toy_biology', ask: (e) => `Which animal lives in ${e}?`, values: ['otter', 'lynx', 'heron', 'gecko', 'bison', 'moth', 'crab', 'wren'] },
  food: { subject: 'toy_culture', ask: (e) => `What do people in ${e} eat?`, values: ['rice', 'figs', 'kelp', 'plums', 'oats', 'beans', 'dates', 'corn'] },
};

export function entityName(r: () => number): string {
  const n = 2 + Math.floor(r() * 2);
  const s = Array.from({ length: n }, () => SYL[Math.floor(r() * SYL.length)]).join('');
  return s[0].toUpperCase() + s.slice(1);
}

/** `perRelation` questions for each relation, plus 5 dev examples per subject (with explanations). */
export function tinyWorld(seed = 1, perRelation = 30): { questions: Question[]; dev: Question[] } {
  const r = rng(seed);
  const names = new Set<string>();
  const out: Question[] = [];
  for (const [rel, spec] of Object.entries(RELATIONS)) {
    for (let i = 0; i < perRelation + 3; i++) {
      let e = entityName(r);
      while (names.has(e)) e = entityName(r);
      names.add(e);
      const vals = shuffled(spec.values, r).slice(0, 4) as Question['options'];
      const answer = Math.floor(r() * 4) as Question['answer'];
      out.push({
        id: `${rel}/${i}`,
        subject: spec.subject,
        question: spec.ask(e),
        options: vals,
        answer,
        explanation: `${e} is known for ${vals[answer]}.`,
      });
    }
  }
  const dev: Question[] = [];
  const questions: Question[] = [];
  for (const q of out) {
    const n = Number(q.id.split('/')[1]);
    if (n >= perRelation) dev.push({ ...q, id: `dev/${q.id}` });
    else questions.push(q);
  }
  return { questions, dev };
}

/**
 * The start of an experiment configuration on the tiny world (seed 5) and the bag-of-words model
 * pretrainedModel makes: subjects, split and probe. A test adds its name, conditions, seeds and training.
 */
export const TINY_EXPERIMENT = {
  model: { id: 'test:bow-tiny' },
  questions: { kind: 'toyworld', seed: 5 },
  subjects: { train: ['toy_geography'], related: ['toy_biology'] },
  splits: { homoFraction: 0.25 },
  probe: { shots: 2, threshold: 0.4, minPerCondition: 5 },
};

/**
 * A bag-of-words model pretrained on the solved k-shot and chat forms of `taught` (so it knows them) and on
 * the dev examples; it has never seen the answers of the other questions.
 */
export async function pretrainedModel(all: readonly Question[], dev: readonly Question[], taught: readonly Question[], opts: { epochs?: number } = {}): Promise<BowModel> {
  const tok = new WordTokenizer([...all, ...dev].flatMap((q) => [fewShotPrefix(q.subject, [q]), q.explanation ?? '', chatUserText(q)]).concat(['Explanation:', '<|user|>\n<|assistant|>\n']));
  const model = new BowModel(tok, { id: 'test:bow-tiny', buckets: 512, window: 32 });
  const texts = taught.flatMap((q) => {
    const shots = dev.filter((d) => d.subject === q.subject).slice(0, 2);
    return [fewShotPrefix(q.subject, shots) + formatExample(q), tok.applyChatTemplate([{ role: 'user', content: chatUserText(q) }, { role: 'assistant', content: 'ABCD'[q.answer] }])];
  });
  // Supervise the answer letters only (after "Answer:" and after the assistant's turn opens): cheap, and
  // exactly the knowledge the probe asks about.
  const letters = new Set([...' A B C D'.split(/(?= )/), 'A', 'B', 'C', 'D'].map((l) => tok.encode(l)[0]));
  const colon = tok.encode(':')[0];
  const nl = tok.encode('\n')[0];
  const examples = texts.map((t) => {
    const ids = tok.encode(t);
    const lossMask = ids.map((id, i) => (letters.has(id) && (ids[i - 1] === colon || (ids[i - 1] === nl && ids[i - 2] === 4)) ? 1 : 0));
    return { ids, lossMask };
  });
  model.absorb(await model.train(examples, bowTrainConfig({ epochs: opts.epochs ?? 10, learningRate: 0.1, batchSize: 8 })));
  return model;
}
