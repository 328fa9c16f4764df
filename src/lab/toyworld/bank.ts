import type { Question } from '../questions';
import type { ToyQuestion, ToyWorld } from './world';

/** The lab's question bank from a toy world: non-dev questions form the pool, dev ones the k-shot examples. */
export function toyWorldBank(world: ToyWorld): { pool: Question[]; fewShot: Question[] } {
  const plain = (q: ToyQuestion): Question => ({
    id: q.id,
    subject: q.subject,
    question: q.question,
    options: [...q.options] as Question['options'],
    answer: q.answer as Question['answer'],
    ...(q.explanation ? { explanation: q.explanation } : {}),
  });
  return { pool: world.questions.filter((q) => !q.dev).map(plain), fewShot: world.questions.filter((q) => q.dev).map(plain) };
}
