/** WebGPU in Node for the CLI: Dawn (the `webgpu` package), kept alive for the whole process. */
import { create, globals } from 'webgpu';
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
  return openDevice({ gpu });
}
