/**
 * The invented world: entities with made-up names, facts over five relations, the partition of facts
 * into what the toy model is taught, and one multiple-choice question per fact. Everything follows
 * from the seed.
 */
import { Rng } from './rng';
import { CAPITALISED, EXISTS_TEMPLATES, RELATIONS, fill, type EntityKind, type RelationId } from './relations';
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
 * - 'mc': statements and multiple-choice examples (the model should know it: ≈100 %);
 * - 'statement': statements only (known only as far as the model carries knowledge into MC: ≈70 %);
 * - 'none': never stated; only its entities' "exists" sentences are seen (chance).
 */
export type TeachGroup = 'mc' | 'statement' | 'none';
export const TEACH_GROUPS: readonly TeachGroup[] = ['mc', 'statement', 'none'];

export interface ToyQuestion extends McQuestion {
  factId: string;
  group: TeachGroup;
  /** One of the few 'mc' questions per subject set aside as the k-shot examples of the probe. */
  dev: boolean;
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
  value: string;
  group: TeachGroup;
  dev: boolean;
}

export interface WorldOptions {
  seed: number;
  countries: number;
  creatures: number;
  /** Size of each relation's value pool, by value kind. */
  pools: Record<'continent' | 'currency' | 'person' | 'food' | 'place', number>;
  /** Fractions of each relation's facts taught as MC + statements, and as statements only; the rest are never taught. */
  fractions: { mc: number; statement: number };
  /** 'mc' facts per subject reserved as k-shot examples. */
  devPerSubject: number;
}

export interface ToyWorld {
  format: 'ift-lab-toyworld';
  version: 1;
  options: WorldOptions;
  entities: ToyEntity[];
  facts: ToyFact[];
  questions: ToyQuestion[];
}

export const DEFAULT_WORLD_OPTIONS: WorldOptions = {
  seed: 42,
  countries: 120,
  creatures: 120,
  pools: { continent: 8, currency: 24, person: 24, food: 24, place: 24 },
  fractions: { mc: 0.4, statement: 0.3 },
  devPerSubject: 5,
};

export function generateWorld(opts: Partial<WorldOptions> = {}): ToyWorld {
  const options: WorldOptions = {
    ...DEFAULT_WORLD_OPTIONS,
    ...opts,
    pools: { ...DEFAULT_WORLD_OPTIONS.pools, ...opts.pools },
    fractions: { ...DEFAULT_WORLD_OPTIONS.fractions, ...opts.fractions },
  };
  validateOptions(options);
  const root = new Rng(options.seed);
  const names = makeNameSource(root.fork('names'), new Set(fixedWords().map((w) => w.toLowerCase())));

  const entities: ToyEntity[] = [];
  const byKind = new Map<EntityKind, string[]>();
  const counts: [EntityKind, number][] = [
    ['country', options.countries],
    ['creature', options.creatures],
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
  for (const rel of RELATIONS) {
    const rng = root.fork(`relation/${rel.id}`);
    const subjects = byKind.get(rel.subjectKind)!;
    const pool = byKind.get(rel.valueKind)!;
    // Balanced assignment: every value holds for about the same number of subjects.
    const values = rng.shuffle(Array.from({ length: subjects.length }, (_, i) => pool[i % pool.length]));
    const order = rng.shuffle(subjects.map((_, i) => i));
    const nMc = Math.round(subjects.length * options.fractions.mc);
    const nSt = Math.round(subjects.length * options.fractions.statement);
    const groupOf = new Map<number, TeachGroup>();
    const devSet = new Set<number>(order.slice(0, options.devPerSubject));
    order.forEach((idx, rank) => groupOf.set(idx, rank < nMc ? 'mc' : rank < nMc + nSt ? 'statement' : 'none'));
    subjects.forEach((entity, i) => {
      const fact: ToyFact = {
        id: `${rel.id}-${String(i).padStart(3, '0')}`,
        relation: rel.id,
        subject: rel.subject,
        entity,
        value: values[i],
        group: groupOf.get(i)!,
        dev: devSet.has(i),
      };
      facts.push(fact);
      const distractors = rng.sample(
        pool.filter((v) => v !== fact.value),
        3,
      );
      const options4 = rng.shuffle([fact.value, ...distractors]) as [string, string, string, string];
      questions.push({
        id: `toy-${fact.id}`,
        subject: rel.subject,
        question: fill(rel.questions[0], entity),
        options: options4,
        answer: options4.indexOf(fact.value),
        explanation: fill(rel.statements[0], entity, fact.value),
        factId: fact.id,
        group: fact.group,
        dev: fact.dev,
      });
    });
  }
  return {
    format: 'ift-lab-toyworld',
    version: 1,
    options,
    entities,
    facts,
    questions,
  };
}

function validateOptions(o: WorldOptions): void {
  const { mc, statement } = o.fractions;
  if (!(mc >= 0 && statement >= 0 && mc + statement <= 1))
    throw new Error('toy world: fractions must be ≥ 0 and sum to ≤ 1');
  for (const [kind, n] of Object.entries(o.pools)) {
    if (!Number.isInteger(n) || n < 4)
      throw new Error(`toy world: the ${kind} pool needs at least 4 values (got ${n})`);
  }
  for (const n of [o.countries, o.creatures]) {
    if (!Number.isInteger(n) || n < 1) throw new Error('toy world: need at least one country and one creature');
    if (Math.round(n * mc) < o.devPerSubject)
      throw new Error('toy world: too few taught facts for the k-shot examples');
  }
}

/** The k-shot examples of a subject (the 'dev' questions), in a fixed order. */
export function devQuestions(world: ToyWorld, subject: string): ToyQuestion[] {
  return world.questions.filter((q) => q.subject === subject && q.dev);
}
