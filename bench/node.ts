/**
 * `npm run bench [-- --json] [-- --full] [-- --only NAME]`: the benchmark suite in Node through Dawn. Speed
 * claims live here, never in tests. On the software adapter the figures say little; run it on a real GPU (or
 * the bench page). `--only reference` runs just the engine-vs-transformers.js comparison (see SUITES for the
 * names). With `--json`, stdout carries only the JSON report; progress goes to stderr.
 */
import { create, globals } from 'webgpu';
import { openDevice } from '../src/engine/device';
import { GpuRuntime } from '../src/engine/runtime';
import { availableParallelism } from 'node:os';
import { nodeCpu } from '../src/cli/gpu';
import { findSuite, formatTable, runBench, SUITES } from './suite';

const argv = process.argv.slice(2);
const args = new Set(argv);
/** `--only NAME` or `--only=NAME`. */
const onlyAt = argv.findIndex((a) => a === '--only' || a.startsWith('--only='));
const only = onlyAt < 0 ? undefined : argv[onlyAt].includes('=') ? argv[onlyAt].slice('--only='.length) : argv[onlyAt + 1];
if (onlyAt >= 0 && (!only || !findSuite(only))) {
  process.stderr.write(`--only: one of ${SUITES.map((s) => `${s.id} ("${s.title}")`).join(', ')}\n`);
  process.exit(2);
}
// Libraries that print progress with console.log (stdout) would corrupt --json: send it to stderr.
console.log = (...a: unknown[]) => console.error(...a);
Object.assign(globalThis, globals);
// Dawn's pending GPU callbacks do not keep Node's event loop alive on their own.
const keepAlive = setInterval(() => {}, 1000);
// IFT_DAWN_TOGGLES=allow_unsafe_apis (comma-separated Dawn toggles): where Dawn lists experimental features
// such as chromium-experimental-subgroup-matrix (tensor cores) only behind a toggle.
const toggles = process.env.IFT_DAWN_TOGGLES;
const gpu = create(toggles ? [`enable-dawn-features=${toggles}`] : []) as unknown as GPU;
const engine = await openDevice({ gpu });
const rt = new GpuRuntime(engine);
const report = await runBench(rt, {
  full: args.has('--full'),
  only,
  runtime: `node ${process.version} (Dawn)`,
  log: (s) => process.stderr.write(`${s}\n`),
  threadedCpu: () => nodeCpu(availableParallelism()),
});
if (args.has('--json')) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
else process.stdout.write(`${formatTable(report)}\n`);
rt.destroy();
clearInterval(keepAlive);
void gpu;
process.exit(0);
