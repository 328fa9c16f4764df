#!/usr/bin/env node
// Runs a command with Dawn (the `webgpu` npm package) pointed at a Vulkan driver.
// On a machine with no GPU that driver is SwiftShader, which Debian's Chromium ships.
// Usage: node scripts/gpu-env.mjs <command> [args…]
import { spawnSync } from 'node:child_process';
import { gpuEnv } from './prereqs.mjs';

const [cmd, ...args] = process.argv.slice(2);
if (!cmd) {
  console.error('usage: node scripts/gpu-env.mjs <command> [args…]');
  process.exit(2);
}
const env = gpuEnv();
if (env.problem) {
  console.error(env.problem);
  process.exit(1);
}
const res = spawnSync(cmd, args, { stdio: 'inherit', env: env.env, shell: process.platform === 'win32' });
process.exit(res.status ?? 1);
