import type { Question } from '../questions';
import type { ToyQuestion, ToyWorld } from './world';

/**
 * The lab's question bank from a toy world: the non-dev questions form the pool, the dev ones the
 * k-shot examples; `drilled` holds the other facts drilled as multiple choice in pretraining, apart
 * (known ≈100 % by construction, so never in the pool or a test set). Every question carries its
 * teaching group; its id carries the world version (`toy-v3-…`).
 */
export function toyWorldBank(world: ToyWorld): { pool: Question[]; fewShot: Question[]; drilled: Question[] } {
  const plain = (q: ToyQuestion): Question => ({
    id: q.id,
    subject: q.subject,
    question: q.question,
    options: [...q.options] as Question['options'],
    answer: q.answer as Question['answer'],
    ...(q.explanation ? { explanation: q.explanation } : {}),
    group: q.group,
  });
  return {
    pool: world.questions.filter((q) => !q.dev).map(plain),
    fewShot: world.questions.filter((q) => q.dev).map(plain),
    drilled: (world.drilled ?? []).map(plain),
  };
}
