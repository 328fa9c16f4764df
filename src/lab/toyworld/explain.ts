/**
 * Explanations for the toy world. The toy model cannot write one (asked to, it emits option lists), so
 * an explanation is the relation's canonical statement with the chosen option as the value: the gold
 * explanation for the gold option (what `explanation` holds), a self-aligning one for the believed option.
 */
import { RELATIONS, fill, type RelationDef } from './relations';
import type { McQuestion } from './world';

const bySubject = new Map<string, RelationDef>(RELATIONS.map((r) => [r.subject, r]));

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The entity a toy question asks about, read back from the question bank's wording. */
function entityOf(rel: RelationDef, question: string): string | null {
  const [before, after] = rel.questions[0].split('{S}').map(escapeRe);
  const m = new RegExp(`^${before}(\\S+)${after}$`).exec(question);
  return m ? m[1] : null;
}

/** Whether `q` is a toy-world question that explainOption can explain. */
export function canExplain(q: Pick<McQuestion, 'subject' | 'question'>): boolean {
  const rel = bySubject.get(q.subject);
  return !!rel && entityOf(rel, q.question) !== null;
}

/**
 * "{entity} … {option}." in the world's own statement template, for option `optionIndex` of `q`
 * (e.g. the model's believed option for a self-aligning response). Throws on a question that is not
 * from the toy world.
 */
export function explainOption(q: Pick<McQuestion, 'subject' | 'question' | 'options'>, optionIndex: number): string {
  const rel = bySubject.get(q.subject);
  const entity = rel ? entityOf(rel, q.question) : null;
  if (!rel || entity === null)
    throw new Error(`explainOption: "${q.question}" (${q.subject}) is not a toy-world question`);
  if (!(Number.isInteger(optionIndex) && optionIndex >= 0 && optionIndex < q.options.length))
    throw new Error(`explainOption: option ${optionIndex} is not one of the question's ${q.options.length}`);
  return fill(rel.statements[0], entity, q.options[optionIndex]);
}
