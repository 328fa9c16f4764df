import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** MMLU's CSV release, shared between worktrees; read in place, never copied into the project. */
export const mmluDir = path.resolve(repoRoot, '../shared/data/mmlu');
export const fixturesDir = path.join(repoRoot, 'tests/fixtures');
