/**
 * The seven relations of the toy world and the sentences that state or ask them. Every relation is
 * many-to-one over a small pool of values, so each value appears in taught facts: a fact the model
 * never saw cannot be guessed by ruling out options it knows belong to other subjects.
 * Templates use {S} for the subject and {V} for the value; they are also the source of the vocabulary.
 *
 * The relations come in three groups that match the lab's three test sets: `train` (the training
 * subjects and HOMO), `related` (ID: other facts about the same countries) and `other` (OOD: creatures).
 */

export type EntityKind =
  'country' | 'creature' | 'continent' | 'currency' | 'person' | 'language' | 'product' | 'food' | 'place';
export type RelationId = 'continent' | 'currency' | 'founder' | 'language' | 'export' | 'diet' | 'habitat';
/** Which of the lab's splits a relation is meant for (see TOY_SUBJECTS). */
export type RelationRole = 'train' | 'related' | 'other';

export interface RelationDef {
  id: RelationId;
  /** The question subject (the lab splits HOMO/ID/OOD by it); MMLU style, words joined by "_". */
  subject: string;
  /** Relations of one domain are "related subjects" (ID); the other domain is OOD. */
  domain: 'countries' | 'creatures';
  role: RelationRole;
  subjectKind: EntityKind;
  valueKind: EntityKind;
  /** Ways to state the fact; the first is the canonical one (used as a question's explanation). */
  statements: readonly string[];
  /** Ways to ask it; the first is the question bank's wording. */
  questions: readonly string[];
}

export const RELATIONS: readonly RelationDef[] = [
  {
    id: 'continent',
    role: 'train',
    subject: 'toy_continents',
    domain: 'countries',
    subjectKind: 'country',
    valueKind: 'continent',
    statements: [
      '{S} is a country in {V}.',
      '{S} lies on the continent of {V}.',
      'The country of {S} is located in {V}.',
      '{V} is the continent where {S} is found.',
    ],
    questions: ['On which continent is {S}?', 'Where is the country of {S} located?', '{S} lies on which continent?'],
  },
  {
    id: 'currency',
    role: 'train',
    subject: 'toy_currencies',
    domain: 'countries',
    subjectKind: 'country',
    valueKind: 'currency',
    statements: [
      'The currency of {S} is the {V}.',
      'In {S}, people pay with the {V}.',
      '{S} uses the {V} as its money.',
      'The {V} is the money of {S}.',
    ],
    questions: [
      'What is the currency of {S}?',
      'Which money is used in {S}?',
      'People in {S} pay with which currency?',
    ],
  },
  {
    id: 'founder',
    role: 'train',
    subject: 'toy_founders',
    domain: 'countries',
    subjectKind: 'country',
    valueKind: 'person',
    statements: [
      '{S} was founded by {V}.',
      'The founder of {S} was {V}.',
      '{V} founded the country of {S}.',
      '{S} owes its founding to {V}.',
    ],
    questions: ['Who founded {S}?', 'Who was the founder of {S}?', '{S} was founded by whom?'],
  },
  {
    id: 'language',
    role: 'related',
    subject: 'toy_languages',
    domain: 'countries',
    subjectKind: 'country',
    valueKind: 'language',
    statements: [
      'The language of {S} is {V}.',
      'People in {S} speak {V}.',
      '{V} is the language spoken in {S}.',
      'In {S}, the people talk in {V}.',
    ],
    questions: [
      'What is the language of {S}?',
      'Which language do people in {S} speak?',
      'In {S}, people speak which language?',
    ],
  },
  {
    id: 'export',
    role: 'related',
    subject: 'toy_exports',
    domain: 'countries',
    subjectKind: 'country',
    valueKind: 'product',
    statements: [
      'The main export of {S} is {V}.',
      '{S} sells {V} to other countries.',
      'Most of all, {S} exports {V}.',
      'Traders buy {V} from {S}.',
    ],
    questions: [
      'What is the main export of {S}?',
      'What does {S} export most?',
      '{S} sells which product to other countries?',
    ],
  },
  {
    id: 'diet',
    role: 'other',
    subject: 'toy_diets',
    domain: 'creatures',
    subjectKind: 'creature',
    valueKind: 'food',
    statements: [
      'The {S} eats {V}.',
      'The favourite food of the {S} is {V}.',
      'What the {S} feeds on is {V}.',
      'A {S} lives on a diet of {V}.',
    ],
    questions: ['What does the {S} eat?', 'What is the favourite food of the {S}?', 'The {S} feeds on what?'],
  },
  {
    id: 'habitat',
    role: 'other',
    subject: 'toy_habitats',
    domain: 'creatures',
    subjectKind: 'creature',
    valueKind: 'place',
    statements: [
      'The {S} lives in {V}.',
      'The home of the {S} is {V}.',
      '{V} is where the {S} makes its home.',
      'You can find the {S} in {V}.',
    ],
    questions: ['Where does the {S} live?', 'What is the home of the {S}?', 'In which place is the {S} found?'],
  },
];

/** The lab's split of the toy world: train on `train`, ID = `related`, OOD = the rest. */
export const TOY_SUBJECTS: { train: string[]; related: string[]; other: string[] } = {
  train: RELATIONS.filter((r) => r.role === 'train').map((r) => r.subject),
  related: RELATIONS.filter((r) => r.role === 'related').map((r) => r.subject),
  other: RELATIONS.filter((r) => r.role === 'other').map((r) => r.subject),
};

/** The sentence that makes an entity's name familiar without teaching any fact about it. */
export const EXISTS_TEMPLATES: Record<EntityKind, string> = {
  country: '{S} is a country.',
  creature: 'The {S} is a creature.',
  continent: '{S} is a continent.',
  currency: 'The {S} is a currency.',
  person: '{S} is a person.',
  language: '{S} is a language.',
  product: 'There is a product called {S}.',
  food: 'There is a food called {S}.',
  place: '{S} is a place.',
};

/** Invented names are capitalised for proper nouns, lower case for creatures, foods and currencies. */
export const CAPITALISED: Record<EntityKind, boolean> = {
  country: true,
  creature: false,
  continent: true,
  currency: false,
  person: true,
  language: true,
  product: false,
  food: false,
  place: true,
};

/** No template opens with a lower-case name, so a name is always the same word (one token). */
export function fill(template: string, s: string, v = ''): string {
  return template.replaceAll('{S}', s).replaceAll('{V}', v);
}

/** "toy_currencies" → "toy currencies", as MMLU harnesses print a subject. */
export function subjectText(subject: string): string {
  return subject.replaceAll('_', ' ');
}
