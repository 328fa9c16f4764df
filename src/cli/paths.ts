import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository (or installed package) root, from src/cli/ (tests) or dist-node/ (the built CLI). */
export function packageRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.basename(here) === 'dist-node' ? path.dirname(here) : path.resolve(here, '..', '..');
}
