/** WebGPU in Node for the CLI: Dawn (the `webgpu` package), kept alive for the whole process. */
import { create, globals } from 'webgpu';
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
