#!/usr/bin/env node
// The `ift-lab` command: runs the Node build of src/cli/ift-lab.ts (npm run build:node).
import { existsSync } from 'node:fs';

const entry = new URL('../dist-node/ift-lab.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('ift-lab is not built yet: run `npm run build:node` in the project folder first.');
  process.exit(2);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
