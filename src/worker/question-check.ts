/** A user's question file checked by the lab's own reader (src/lab/questions), as the probe will read it. */
import { parseQuestionFile } from '../lab/questions';
import type { QuestionCheck } from './protocol';

/** Row errors are listed (at most `maxErrors`); a file that cannot be read at all is `fatal`. */
export async function checkQuestionFile(filename: string, text: string, maxErrors = 500): Promise<QuestionCheck> {
  try {
    const parsed = await parseQuestionFile(filename, text);
    return {
      valid: parsed.questions.length,
      subjects: [...new Set(parsed.questions.map((q) => q.subject))].sort(),
      errors: parsed.errors.slice(0, maxErrors).map((e) => ({ line: e.line, field: e.field, reason: e.reason })),
      warnings: parsed.warnings ?? [],
      fatal: null,
    };
  } catch (e) {
    const err = e as { message?: string; advice?: string };
    return { valid: 0, subjects: [], errors: [], warnings: [], fatal: [err.message ?? String(e), err.advice].filter(Boolean).join(' ') };
  }
}
