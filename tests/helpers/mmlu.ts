import fs from 'node:fs';
import path from 'node:path';
import { parseMmluCsv, type Question } from '../../src/lab/questions';
import { mmluDir } from './paths';

/** Questions of some MMLU subjects from the fixture slice (tests/fixtures/mmlu). */
export function loadMmlu(subjects: readonly string[], splits: readonly ('dev' | 'val' | 'test')[]): Question[] {
  const out: Question[] = [];
  for (const subject of subjects) {
    for (const split of splits) {
      const file = path.join(mmluDir, split, `${subject}_${split}.csv`);
      const parsed = parseMmluCsv(fs.readFileSync(file, 'utf8'), { subject, split });
      if (parsed.errors.length) throw new Error(`${file}: ${JSON.stringify(parsed.errors[0])}`);
      out.push(...parsed.questions);
    }
  }
  return out;
}
