/**
 * The CLI's engine: WebGPU in Node through Dawn (the `webgpu` package, kept alive for the whole process),
 * or the CPU backend — chosen by src/engine/backend.ts from the configuration's `device` (or --device).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { create, globals } from 'webgpu';
import { openRuntime, type DeviceChoice, type OpenedRuntime } from '../engine/backend';
import { CpuRuntime } from '../engine/cpu-runtime';
import type { SpawnThread } from '../engine/cpu-threads';
import { openDevice, type EngineDevice } from '../engine/device';
import { LabError } from '../lab/errors';

let gpu: GPU | undefined;
let keepAlive: ReturnType<typeof setInterval> | undefined;

export async function nodeDevice(): Promise<EngineDevice> {
  // bin/ift-lab.mjs found no Vulkan driver for Dawn: say so, with the install line, at the first use of the GPU.
  const problem = process.env.IFT_LAB_GPU_PROBLEM;
  if (problem) throw new LabError('no-gpu-driver', problem.split('\n')[0], problem.split('\n').slice(1).join(' '));
  Object.assign(globalThis, globals);
  gpu ??= create([]) as unknown as GPU;
  // Dawn's pending callbacks do not keep Node's event loop alive on their own.
  keepAlive ??= setInterval(() => {}, 1 << 30);
  try {
    return await openDevice({ gpu });
  } catch (e) {
    throw cliGpuError(e);
  }
}

/**
 * The engine's "no GPU adapter" speaks of a browser (chrome://settings, chrome://gpu): in the CLI it is Dawn
 * that found no adapter, and the way on is a Vulkan driver or the CPU backend.
 */
export function cliGpuError(e: unknown): unknown {
  if ((e as { code?: string } | null)?.code !== 'no-adapter') return e;
  return new LabError(
    'no-adapter',
    'Dawn (WebGPU in Node) found no GPU adapter on this machine.',
    'Run on the CPU instead: add --device cpu (or "device": "cpu" in the configuration). For the GPU, install a Vulkan driver ' +
      '(on Debian or Ubuntu: apt-get install mesa-vulkan-drivers, which includes the lavapipe software adapter) and check that ' +
      '`vulkaninfo --summary` lists a device.',
  );
}

/** A CPU-backend thread in Node: a worker_threads Worker running the kernels' source, not keeping the process alive. */
export const nodeThread: SpawnThread = (source) => {
  const w = new Worker(source, { eval: true });
  w.unref();
  return w;
};

/**
 * The CPU backend's thread count: IFT_LAB_CPU_THREADS when set (1 turns threads off), else every core the
 * process may use.
 */
export function cpuThreads(env: NodeJS.ProcessEnv = process.env): number {
  const asked = env.IFT_LAB_CPU_THREADS;
  if (asked === undefined || asked.trim() === '') return availableParallelism();
  const n = Number(asked);
  if (!Number.isInteger(n) || n < 1) throw new LabError('bad-threads', `IFT_LAB_CPU_THREADS is ${JSON.stringify(asked)}; it must be a whole number ≥ 1.`, 'Unset it to use every core, or set 1 for one thread.');
  return n;
}

/** The CPU backend with this machine's threads. */
export function nodeCpu(threads = cpuThreads(), opts: { minParallelWork?: number } = {}): CpuRuntime {
  return new CpuRuntime({ threads, kernels: `f32; ${availableParallelism()} cores here` }, nodeThread, opts);
}

/** The engine for `choice`: Dawn's device only when WebGPU may be used. */
export function nodeRuntime(choice: DeviceChoice): Promise<OpenedRuntime> {
  return openRuntime(choice, { open: nodeDevice, cpu: nodeCpu });
}
