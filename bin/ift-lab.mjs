#!/usr/bin/env node
// The `ift-lab` command: runs the Node build of src/cli/ift-lab.ts (npm run build:node) through Dawn.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cliGpuEnv, cliGpuProblem } from '../scripts/prereqs.mjs';
import { exitWithParent } from './parent-watch.mjs';

const entry = new URL('../dist-node/ift-lab.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('ift-lab is not built yet: run `npm run build:node` in the project folder first.');
  process.exit(2);
}

// Dawn finds its Vulkan driver through variables read when the process starts: set them, then re-run. With
// no driver at all the command still runs here: `auto` takes the CPU backend (and says so); `--device webgpu`
// stops at the first use of the GPU with the install line (IFT_LAB_GPU_PROBLEM).
const argv = process.argv.slice(2);
const cpuOnly = argv.some((a, i) => a === '--device=cpu' || (a === '--device' && argv[i + 1] === 'cpu'));
const needsGpu = !cpuOnly && !['validate', 'help', '--help', '-h', 'import-results', 'export-adapter', undefined].includes(argv[0]);
if (needsGpu && !process.env.IFT_LAB_GPU_ENV) {
  const { env, driver } = cliGpuEnv();
  if (!driver) {
    process.env.IFT_LAB_GPU_PROBLEM = cliGpuProblem();
  } else {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...argv], {
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
