/**
 * `npm run bench [-- --json] [-- --full]`: the benchmark suite in Node through Dawn. Speed claims live here,
 * never in tests. On the software adapter the figures say little; run it on a real GPU (or the bench page).
 */
import { create, globals } from 'webgpu';
import { openDevice } from '../src/engine/device';
import { Runtime } from '../src/engine/runtime';
import { formatTable, runBench } from './suite';

const args = new Set(process.argv.slice(2));
Object.assign(globalThis, globals);
// Dawn's pending GPU callbacks do not keep Node's event loop alive on their own.
const keepAlive = setInterval(() => {}, 1000);
const gpu = create([]) as unknown as GPU;
const engine = await openDevice({ gpu });
const rt = new Runtime(engine);
const report = await runBench(rt, { full: args.has('--full'), runtime: `node ${process.version} (Dawn)`, log: (s) => process.stderr.write(`${s}\n`) });
if (args.has('--json')) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
else process.stdout.write(`${formatTable(report)}\n`);
rt.destroy();
clearInterval(keepAlive);
void gpu;
process.exit(0);
