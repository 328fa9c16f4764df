/**
 * The pretraining corpus, as the pilot found works: statements of the taught facts (misconceptions
 * with their wrong value), multiple-choice examples of the 'mc' facts in many layouts (headers, option
 * markers, answer cues and answer forms; fresh distractors and option order every time), and the
 * "exists" sentence of every entity. 'none' facts never appear, nor does the chat template (the lab
 * tunes in it: it must be new to the model). Each document is one string from BOS to EOS.
 */
import { Rng } from './rng';
import { RELATIONS, fill, subjectText, type RelationDef, type RelationId } from './relations';
import { ANSWER_CUES, ANSWER_FORMS, BOS, EOS, ITEM_TRAILERS, LETTERS, MC_HEADERS, OPTION_INTROS, OPTION_MARKERS, QUESTION_PREFIXES } from './formats';
import type { ToyFact, ToyWorld } from './world';

export type DocKind = 'statements' | 'entity' | 'exists' | 'mc';

/** Relative numbers of documents of each kind. */
export const DEFAULT_DOC_MIX: Record<DocKind, number> = {
  statements: 36,
  entity: 12,
  exists: 4,
  mc: 48,
};

export interface CorpusOptions {
  seed: number;
  documents: number;
  mix: Record<DocKind, number>;
}

export interface CorpusDoc {
  kind: DocKind;
  text: string;
}

const relById = new Map<RelationId, RelationDef>(RELATIONS.map((r) => [r.id, r]));

export function buildCorpus(world: ToyWorld, opts: Partial<CorpusOptions> = {}): CorpusDoc[] {
  const o: CorpusOptions = {
    seed: world.options.seed,
    documents: 20_000,
    mix: DEFAULT_DOC_MIX,
    ...opts,
  };
  const rng = new Rng(o.seed).fork('corpus');
  const gen = new CorpusGenerator(world, rng);
  const kinds = Object.entries(o.mix) as [DocKind, number][];
  const docs: CorpusDoc[] = [];
  for (let i = 0; i < o.documents; i++) {
    const kind = rng.weighted(kinds);
    docs.push({ kind, text: `${BOS} ${gen.doc(kind)} ${EOS}` });
  }
  return docs;
}

class CorpusGenerator {
  private readonly taught: ToyFact[];
  private readonly mcFacts: ToyFact[];
  private readonly mcBySubject = new Map<string, ToyFact[]>();
  private readonly mcByDomain = new Map<string, ToyFact[]>();
  private readonly taughtByEntity = new Map<string, ToyFact[]>();
  private readonly pools = new Map<RelationId, string[]>();
  private readonly taughtEntities: [string, ToyFact[]][];
  private readonly existsOf = new Map<string, string>();

  constructor(
    private readonly world: ToyWorld,
    private readonly rng: Rng,
  ) {
    this.taught = world.facts.filter((f) => f.taught !== undefined);
    this.mcFacts = world.facts.filter((f) => f.group === 'mc');
    for (const f of this.mcFacts) {
      push(this.mcBySubject, f.subject, f);
      push(this.mcByDomain, relById.get(f.relation)!.domain, f);
    }
    for (const f of this.taught) push(this.taughtByEntity, f.entity, f);
    this.taughtEntities = [...this.taughtByEntity.entries()];
    for (const e of world.entities) this.existsOf.set(e.name, e.exists);
    for (const rel of RELATIONS) {
      this.pools.set(
        rel.id,
        world.entities.filter((e) => e.kind === rel.valueKind).map((e) => e.name),
      );
    }
  }

  doc(kind: DocKind): string {
    switch (kind) {
      case 'statements':
        return this.statementsDoc();
      case 'entity':
        return this.entityDoc();
      case 'exists':
        return this.existsDoc();
      case 'mc':
        return this.mcDoc();
    }
  }

  /** A statement of what pretraining teaches: the taught value (wrong for a misconception). */
  private statement(f: ToyFact): string {
    return fill(this.rng.pick(relById.get(f.relation)!.statements), f.entity, f.taught!);
  }

  /** A run of statements of random taught facts. */
  private statementsDoc(): string {
    const n = 3 + this.rng.int(8);
    return Array.from({ length: n }, () => this.statement(this.rng.pick(this.taught))).join(' ');
  }

  /** One entity: its exists sentence, then what is taught about it. */
  private entityDoc(): string {
    const [entity, facts] = this.rng.pick(this.taughtEntities);
    return [this.existsOf.get(entity)!, ...this.rng.shuffle(facts).map((f) => this.statement(f))].join(' ');
  }

  private existsDoc(): string {
    const n = 5 + this.rng.int(12);
    return Array.from({ length: n }, () => this.rng.pick(this.world.entities).exists).join(' ');
  }

  /** Fresh distractors and option order: the answer is in the fact, not in a memorised layout. */
  private mcItem(f: ToyFact, questionIndex?: number) {
    const rel = relById.get(f.relation)!;
    const pool = this.pools.get(f.relation)!;
    const options = this.rng.shuffle([
      f.value,
      ...this.rng.sample(
        pool.filter((v) => v !== f.value),
        3,
      ),
    ]);
    const template = questionIndex === undefined ? this.rng.pick(rel.questions) : rel.questions[questionIndex];
    return {
      question: fill(template, f.entity),
      options,
      answer: options.indexOf(f.value),
    };
  }

  private optionsText(options: readonly string[], marker: string): string {
    return options.map((opt, i) => `${marker.replace('L', LETTERS[i])} ${opt}`).join('\n');
  }

  /** k solved examples of one subject (sometimes of one domain) under a varied header and layout. */
  private mcDoc(): string {
    const r = this.rng;
    const sameSubject = r.next() < 0.8;
    const first = r.pick(this.mcFacts);
    const rel = relById.get(first.relation)!;
    const pool = sameSubject ? this.mcBySubject.get(first.subject)! : this.mcByDomain.get(rel.domain)!;
    const header = r
      .weighted(MC_HEADERS)
      .replace('{SUBJ}', sameSubject ? subjectText(first.subject) : rel.domain)
      .replace('{DOMAIN}', rel.domain);
    const prefix = r.weighted(QUESTION_PREFIXES);
    const intro = r.weighted(OPTION_INTROS);
    const marker = r.weighted(OPTION_MARKERS);
    const trailer = r.weighted(ITEM_TRAILERS);
    const cue = r.weighted(ANSWER_CUES);
    const form = r.weighted(ANSWER_FORMS);
    const canonical = r.next() < 0.5; // half the documents ask in the question bank's own wording
    const n = 1 + r.int(6);
    const items = [first, ...Array.from({ length: n - 1 }, () => r.pick(pool))].map((f) => {
      const it = this.mcItem(f, canonical ? 0 : undefined);
      const answer = form
        .replace('{L}', LETTERS[it.answer])
        .replace('{O}', it.options[it.answer])
        .replace('{E}', this.statement(f));
      return [
        prefix ? `${prefix} ${it.question}` : it.question,
        intro,
        this.optionsText(it.options, marker),
        trailer,
        `${cue} ${answer}${cue === 'The answer is' && form === '{L}' ? '.' : ''}`,
      ]
        .filter(Boolean)
        .join('\n');
    });
    return [header, ...items].filter(Boolean).join('\n\n');
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}
