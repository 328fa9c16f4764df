#!/usr/bin/env node
// The `ift-lab` command: runs the Node build of src/cli/ift-lab.ts (npm run build:node) through Dawn.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gpuEnv } from '../scripts/prereqs.mjs';
import { exitWithParent } from './parent-watch.mjs';

const entry = new URL('../dist-node/ift-lab.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('ift-lab is not built yet: run `npm run build:node` in the project folder first.');
  process.exit(2);
}

// Dawn finds its Vulkan driver through variables read when the process starts: set them, then re-run.
// Without a driver the command still runs here: everything before the GPU (config, questions, model
// files) is checked, and the first use of the GPU stops with the install line (IFT_LAB_GPU_PROBLEM).
const needsGpu = !['validate', 'help', '--help', '-h', undefined].includes(process.argv[2]);
if (needsGpu && !process.env.IFT_LAB_GPU_ENV) {
  const { env, problem } = gpuEnv();
  if (problem) {
    process.env.IFT_LAB_GPU_PROBLEM = problem;
  } else {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...env, IFT_LAB_GPU_ENV: '1', IFT_LAB_PARENT_PID: String(process.pid) },
    });
    // Signals to this process go to the child too (Ctrl-C reaches both from a terminal; kill -TERM does not).
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
    child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + 15 : 1)));
    await new Promise(() => {});
  }
}

if (process.env.IFT_LAB_PARENT_PID) exitWithParent(Number(process.env.IFT_LAB_PARENT_PID));
const { main } = await import(entry.href);
const code = await main(process.argv.slice(2));
// The Dawn device keeps the event loop alive: leave explicitly once the command is done.
process.exit(code);
