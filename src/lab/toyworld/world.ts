/**
 * The invented world (version 2): entities with made-up names, facts over seven relations, the
 * partition of facts into how the toy model is taught them, and one multiple-choice question per fact.
 * Everything follows from the seed.
 *
 * What the lab's own v1 run taught (docs/science.md): facts drilled as multiple choice in pretraining
 * are answered 100 % right by the base model and dilute every effect, so v2 keeps them out of the
 * question bank (`world.drilled`, apart from the few k-shot examples); and it adds facts taught wrongly
 * (misconceptions), where the model holds a confident wrong belief about content.
 */
import { Rng } from './rng';
import {
  CAPITALISED,
  EXISTS_TEMPLATES,
  RELATIONS,
  fill,
  type EntityKind,
  type RelationId,
  type RelationRole,
} from './relations';
import { makeNameSource } from './names';
import { fixedWords } from './vocab';

/**
 * The lab's question format (src/lab/questions is written separately; this is structurally the same,
 * so a ToyQuestion can be passed wherever a question is expected).
 */
export interface McQuestion {
  id: string;
  subject: string;
  question: string;
  options: [string, string, string, string];
  /** Index of the correct option, 0..3. */
  answer: number;
  explanation?: string;
}

/**
 * How a fact is taught in pretraining:
 * - 'mc': statements and multiple-choice examples (known ≈100 %; only the k-shot examples and
 *   `world.drilled`, never the question bank's pool);
 * - 'statement': statements only (known as far as the model carries knowledge into MC);
 * - 'none': never stated; only its entities' "exists" sentences are seen (chance);
 * - 'misconception': statements of a wrong value (`taught`), so the model believes that option.
 */
export type TeachGroup = 'mc' | 'statement' | 'none' | 'misconception';
export const TEACH_GROUPS: readonly TeachGroup[] = ['mc', 'statement', 'none', 'misconception'];

export const WORLD_VERSION = 3;

export interface ToyQuestion extends McQuestion {
  factId: string;
  group: TeachGroup;
  /** One of the few 'mc' questions per subject set aside as the k-shot examples of the probe. */
  dev: boolean;
  /** Misconceptions: the index of the option pretraining stated as the answer (≠ answer). */
  taught?: number;
}

export interface ToyEntity {
  name: string;
  kind: EntityKind;
  /** The sentence that introduces the name without stating any fact. */
  exists: string;
}

export interface ToyFact {
  id: string;
  relation: RelationId;
  /** The question subject of this relation, e.g. "toy_currencies". */
  subject: string;
  /** Name of the entity the fact is about. */
  entity: string;
  /** The true value (the question's gold answer). */
  value: string;
  /** The value pretraining states: `value`, except for misconceptions; absent for 'none'. */
  taught?: string;
  group: TeachGroup;
  dev: boolean;
}

export interface WorldOptions {
  seed: number;
  /** Subject entities (countries or creatures) per relation, by the relation's role. */
  perRelation: Record<RelationRole, number>;
  /** Size of each relation's value pool, by value kind. */
  pools: Record<'continent' | 'currency' | 'person' | 'language' | 'product' | 'food' | 'place', number>;
  /** Fractions of each relation's facts per teaching group; the rest are never taught ('none'). */
  fractions: { mc: number; statement: number; misconception: number };
  /** 'mc' facts per subject reserved as k-shot examples. */
  devPerSubject: number;
  /**
   * At most this many facts about one country (creature): a small model carries a stated fact into the MC
   * format far less often when its entity holds many (a rebuild with up to five per country: creatures with two
   * carried 72 % of their stated facts into MC, countries 38–53 %).
   */
  factsPerEntity: number;
}

export interface ToyWorld {
  format: 'ift-lab-toyworld';
  version: typeof WORLD_VERSION;
  options: WorldOptions;
  entities: ToyEntity[];
  facts: ToyFact[];
  /** The question bank: every non-'mc' fact's question, and the 'mc' k-shot examples (`dev`). */
  questions: ToyQuestion[];
  /** The other 'mc' facts' questions: drilled in pretraining, so kept out of the bank (a labelled extra). */
  drilled: ToyQuestion[];
}

export const DEFAULT_WORLD_OPTIONS: WorldOptions = {
  seed: 42,
  perRelation: { train: 150, related: 90, other: 90 },
  pools: { continent: 8, currency: 24, person: 24, language: 16, product: 20, food: 24, place: 24 },
  fractions: { mc: 0.36, statement: 0.42, misconception: 0.1 },
  devPerSubject: 5,
  factsPerEntity: 2,
};

const SUBJECT_KINDS: readonly EntityKind[] = ['country', 'creature'];

export function generateWorld(opts: Partial<WorldOptions> = {}): ToyWorld {
  const options: WorldOptions = {
    ...DEFAULT_WORLD_OPTIONS,
    ...opts,
    perRelation: { ...DEFAULT_WORLD_OPTIONS.perRelation, ...opts.perRelation },
    pools: { ...DEFAULT_WORLD_OPTIONS.pools, ...opts.pools },
    fractions: { ...DEFAULT_WORLD_OPTIONS.fractions, ...opts.fractions },
  };
  validateOptions(options);
  const root = new Rng(options.seed);
  const names = makeNameSource(root.fork('names'), new Set(fixedWords().map((w) => w.toLowerCase())));

  const entities: ToyEntity[] = [];
  const byKind = new Map<EntityKind, string[]>();
  // As many countries (creatures) as the relations about them need, at most factsPerEntity facts each.
  const need = (kind: EntityKind) => {
    const sizes = RELATIONS.filter((r) => r.subjectKind === kind).map((r) => options.perRelation[r.role]);
    return Math.max(0, ...sizes, Math.ceil(sizes.reduce((a, b) => a + b, 0) / options.factsPerEntity));
  };
  const uses = new Map<string, number>();
  const counts: [EntityKind, number][] = [
    ...SUBJECT_KINDS.map((k): [EntityKind, number] => [k, need(k)]),
    ...(Object.entries(options.pools) as [EntityKind, number][]),
  ];
  for (const [kind, n] of counts) {
    const list: string[] = [];
    for (let i = 0; i < n; i++) {
      const name = names.next(CAPITALISED[kind]);
      list.push(name);
      entities.push({ name, kind, exists: fill(EXISTS_TEMPLATES[kind], name) });
    }
    byKind.set(kind, list);
  }

  const facts: ToyFact[] = [];
  const questions: ToyQuestion[] = [];
  const drilled: ToyQuestion[] = [];
  const { mc, statement, misconception } = options.fractions;
  for (const rel of RELATIONS) {
    const rng = root.fork(`relation/${rel.id}`);
    const n = options.perRelation[rel.role];
    // The least-used entities first (random among equals), so none holds more than factsPerEntity facts.
    const subjects = rng
      .shuffle(byKind.get(rel.subjectKind)!)
      .map((e, i) => ({ e, i, u: uses.get(e) ?? 0 }))
      .sort((a, b) => a.u - b.u || a.i - b.i)
      .slice(0, n)
      .map(({ e }) => e);
    for (const e of subjects) uses.set(e, (uses.get(e) ?? 0) + 1);
    const pool = byKind.get(rel.valueKind)!;
    // Balanced assignment: every value holds for about the same number of subjects.
    const values = rng.shuffle(Array.from({ length: n }, (_, i) => pool[i % pool.length]));
    const order = rng.shuffle(subjects.map((_, i) => i));
    const cut = [mc, mc + statement, mc + statement + misconception].map((f) => Math.round(n * f));
    const groupOf = new Map<number, TeachGroup>();
    order.forEach((idx, rank) =>
      groupOf.set(idx, rank < cut[0] ? 'mc' : rank < cut[1] ? 'statement' : rank < cut[2] ? 'misconception' : 'none'),
    );
    const devSet = new Set<number>(order.slice(0, options.devPerSubject));
    subjects.forEach((entity, i) => {
      const group = groupOf.get(i)!;
      const value = values[i];
      const others = pool.filter((v) => v !== value);
      // A misconception states another value of the pool; it is always one of the question's options.
      const wrong = group === 'misconception' ? rng.pick(others) : undefined;
      const fact: ToyFact = {
        id: `${rel.id}-${String(i).padStart(3, '0')}`,
        relation: rel.id,
        subject: rel.subject,
        entity,
        value,
        ...(group === 'none' ? {} : { taught: wrong ?? value }),
        group,
        dev: devSet.has(i),
      };
      facts.push(fact);
      const distractors = wrong
        ? [
            wrong,
            ...rng.sample(
              others.filter((v) => v !== wrong),
              2,
            ),
          ]
        : rng.sample(others, 3);
      const options4 = rng.shuffle([value, ...distractors]) as [string, string, string, string];
      const q: ToyQuestion = {
        id: `toy-v${WORLD_VERSION}-${fact.id}`,
        subject: rel.subject,
        question: fill(rel.questions[0], entity),
        options: options4,
        answer: options4.indexOf(value),
        explanation: fill(rel.statements[0], entity, value),
        factId: fact.id,
        group,
        dev: fact.dev,
        ...(wrong ? { taught: options4.indexOf(wrong) } : {}),
      };
      (group === 'mc' && !fact.dev ? drilled : questions).push(q);
    });
  }
  return { format: 'ift-lab-toyworld', version: WORLD_VERSION, options, entities, facts, questions, drilled };
}

function validateOptions(o: WorldOptions): void {
  const { mc, statement, misconception } = o.fractions;
  if (!(mc >= 0 && statement >= 0 && misconception >= 0 && mc + statement + misconception <= 1))
    throw new Error('toy world: fractions must be ≥ 0 and sum to ≤ 1');
  for (const [kind, n] of Object.entries(o.pools)) {
    if (!Number.isInteger(n) || n < 4)
      throw new Error(`toy world: the ${kind} pool needs at least 4 values (got ${n})`);
  }
  for (const n of Object.values(o.perRelation)) {
    if (!Number.isInteger(n) || n < 1) throw new Error('toy world: every relation needs at least one subject entity');
    if (Math.round(n * mc) < o.devPerSubject)
      throw new Error('toy world: too few multiple-choice facts per relation for the k-shot examples');
  }
  if (!Number.isInteger(o.factsPerEntity) || o.factsPerEntity < 1)
    throw new Error(`toy world: factsPerEntity must be a whole number ≥ 1 (got ${o.factsPerEntity})`);
}

/** The k-shot examples of a subject (the 'dev' questions), in a fixed order. */
export function devQuestions(world: ToyWorld, subject: string): ToyQuestion[] {
  return world.questions.filter((q) => q.subject === subject && q.dev);
}
