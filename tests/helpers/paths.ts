import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const fixturesDir = path.join(repoRoot, 'tests/fixtures');
/** A slice of MMLU's CSV release (five subjects, MIT licence): what the tests read, so a plain clone passes. */
export const mmluDir = path.join(fixturesDir, 'mmlu');
/**
 * The whole release, only when IFT_LAB_MMLU_DIR names it (CI sets it when a full copy is at hand);
 * checks over every subject run only then, and are skipped with that reason otherwise.
 */
export const fullMmluDir: string | undefined = process.env.IFT_LAB_MMLU_DIR ? path.resolve(process.env.IFT_LAB_MMLU_DIR) : undefined;
