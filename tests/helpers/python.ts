// Running the recipe's Python (tests/unit/lab/recipe*.test.ts): python3 from the repository root, or a
// clear error naming what is missing (scripts/prereqs.mjs).
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { pythonProblem } from '../../scripts/prereqs.mjs';
import { repoRoot } from './paths';

export function python(args: string[]) {
  const problem = pythonProblem();
  if (problem) throw new Error(problem);
  // Byte-code goes to a temporary folder, not beside the sources.
  return spawnSync('python3', args, {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, PYTHONPYCACHEPREFIX: path.join(os.tmpdir(), 'ift-lab-pycache') },
  });
}
