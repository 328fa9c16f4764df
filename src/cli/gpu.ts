/**
 * The CLI's engine: WebGPU in Node through Dawn (the `webgpu` package, kept alive for the whole process),
 * or the CPU backend — chosen by src/engine/backend.ts from the configuration's `device` (or --device).
 */
import { availableParallelism } from 'node:os';
import { create, globals } from 'webgpu';
import { openRuntime, type DeviceChoice, type OpenedRuntime } from '../engine/backend';
import { CpuRuntime } from '../engine/cpu-runtime';
import { openDevice, type EngineDevice } from '../engine/device';

let gpu: GPU | undefined;
let keepAlive: ReturnType<typeof setInterval> | undefined;

export async function nodeDevice(): Promise<EngineDevice> {
  Object.assign(globalThis, globals);
  gpu ??= create([]) as unknown as GPU;
  // Dawn's pending callbacks do not keep Node's event loop alive on their own.
  keepAlive ??= setInterval(() => {}, 1 << 30);
  return openDevice({ gpu });
}

/** The CPU backend with this machine's threads. */
export function nodeCpu(): CpuRuntime {
  return new CpuRuntime({ threads: 1, kernels: `f32, cache-blocked loops; ${availableParallelism()} cores here` });
}

/** The engine for `choice`: Dawn's device only when WebGPU may be used. */
export function nodeRuntime(choice: DeviceChoice): Promise<OpenedRuntime> {
  return openRuntime(choice, { open: nodeDevice, cpu: nodeCpu });
}
