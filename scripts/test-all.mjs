#!/usr/bin/env node
// `npm test`: the unit, GPU and browser suites, in that order. A suite that is missing what it needs
// fails with instructions (never a silent skip), and a suite that ran zero tests fails too.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromiumProblem, gpuEnv } from './prereqs.mjs';

const out = join('tests', '.artifacts');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const suites = [
  { name: 'unit', env: () => ({ env: process.env }) },
  { name: 'gpu', env: gpuEnv },
  { name: 'e2e', env: () => (chromiumProblem() ? { problem: chromiumProblem() } : gpuEnv()), build: true },
];

let passed = 0;
let failed = 0;
let skipped = 0;
for (const suite of suites) {
  const { env, problem } = suite.env();
  if (problem) {
    console.error(`\n✗ ${suite.name}: cannot run.\n${problem}`);
    process.exit(1);
  }
  if (suite.build) {
    console.log('\n▶ building the app for the browser suite');
    const b = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { stdio: 'inherit', env });
    if (b.status !== 0) process.exit(b.status ?? 1);
  }
  console.log(`\n▶ ${suite.name} suite`);
  const report = join(out, `${suite.name}.json`);
  const r = spawnSync(
    'npx',
    ['vitest', 'run', '--project', suite.name, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`],
    { stdio: 'inherit', env },
  );
  let counts;
  try {
    counts = JSON.parse(readFileSync(report, 'utf8'));
  } catch {
    console.error(`✗ ${suite.name}: the test runner wrote no report (exit ${r.status}).`);
    process.exit(r.status || 1);
  }
  passed += counts.numPassedTests;
  failed += counts.numFailedTests;
  skipped += counts.numPendingTests + counts.numTodoTests;
  if (r.status !== 0 || counts.numFailedTests > 0) {
    console.error(`✗ ${suite.name}: ${counts.numFailedTests} failed.`);
    console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
    process.exit(r.status || 1);
  }
  if (counts.numPassedTests === 0) {
    console.error(`✗ ${suite.name}: ran zero tests.`);
    process.exit(1);
  }
  if (process.env.CI && counts.numPendingTests > 0) {
    console.error(`✗ ${suite.name}: ${counts.numPendingTests} tests skipped; in CI a skipped test is a failure.`);
    process.exit(1);
  }
}
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
