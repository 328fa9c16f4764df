#!/usr/bin/env node
// `npm test`: the unit, GPU and browser suites, in that order. A suite that is missing what it needs
// fails with instructions (never a silent skip), and a suite that ran zero tests fails too.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromiumProblem, gpuEnv, pythonProblem } from './prereqs.mjs';

const out = join('tests', '.artifacts');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const suites = [
  { name: 'unit', env: () => (pythonProblem() ? { problem: pythonProblem() } : { env: process.env }) },
  { name: 'gpu', env: gpuEnv },
  { name: 'e2e', env: () => (chromiumProblem() ? { problem: chromiumProblem() } : gpuEnv()), build: true },
];

function runSuite(name, env, files) {
  const report = join(out, `${name}${files.length ? '-rerun' : ''}.json`);
  const r = spawnSync(
    'npx',
    ['vitest', 'run', '--project', name, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...files],
    { stdio: 'inherit', env },
  );
  try {
    return { status: r.status, counts: JSON.parse(readFileSync(report, 'utf8')) };
  } catch {
    console.error(`✗ ${name}: the test runner wrote no report (exit ${r.status}).`);
    process.exit(r.status || 1);
  }
}

const failedFiles = (counts) => counts.testResults.filter((f) => f.status !== 'passed').map((f) => f.name);
const crashedFiles = (counts) =>
  counts.testResults
    .filter((f) => f.status !== 'passed' && /Worker exited unexpectedly|terminate called|futex facility/.test(f.message ?? ''))
    .map((f) => f.name);

// Every suite's prerequisites are checked before the first runs: a machine without Chromium stops here with
// the one install line, not after the unit suite.
for (const suite of suites) {
  const { problem } = suite.env();
  if (problem) {
    console.error(`\n✗ ${suite.name}: cannot run.\n${problem}`);
    process.exit(1);
  }
}

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
  let { status, counts } = runSuite(suite.name, env, []);
  // SwiftShader (the software GPU) has, rarely and only under heavy load, aborted its own process. A test
  // file whose worker process died — and only such a file — is run once more, and the rerun is reported.
  const crashed = suite.name === 'gpu' ? crashedFiles(counts) : [];
  if (status !== 0 && crashed.length > 0 && crashed.length === failedFiles(counts).length) {
    console.error(`\n! ${crashed.length} GPU test file(s) lost their worker process (a driver abort); running them once more:\n  ${crashed.join('\n  ')}`);
    const again = runSuite(suite.name, env, crashed);
    // Passes of the files that did not crash, plus everything of the rerun.
    const passedIn = (f) => f.assertionResults.filter((a) => a.status === 'passed').length;
    const kept = counts.testResults.filter((f) => !crashed.includes(f.name)).reduce((n, f) => n + passedIn(f), 0);
    status = again.status;
    counts = { ...again.counts, numPassedTests: kept + again.counts.numPassedTests };
  }
  const r = { status };
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
