// Opens the engine on Dawn (the `webgpu` npm package) for the GPU suite. `npm run test:gpu` points Dawn
// at SwiftShader through scripts/gpu-env.mjs, so this runs on machines with no GPU.
import { create, globals } from 'webgpu';
import { openDevice, type EngineDevice } from '../../src/engine/device';
import { GpuRuntime } from '../../src/engine/runtime';

let shared: Promise<EngineDevice> | undefined;

let instance: GPU | undefined;

/** Dawn's GPU object. Kept alive for the whole process: if it is garbage-collected, Dawn aborts. */
export function nodeGPU(): GPU {
  Object.assign(globalThis, globals);
  // IFT_DAWN_TOGGLES (comma-separated Dawn toggles, e.g. allow_unsafe_apis): on a GPU where Dawn lists the
  // subgroup-matrix feature only behind a toggle, so that the sgmat tests run there. Unset: Dawn's defaults.
  const toggles = process.env.IFT_DAWN_TOGGLES;
  instance ??= create(toggles ? [`enable-dawn-features=${toggles}`] : []) as unknown as GPU;
  return instance;
}

/** One device per test file (Dawn instances are expensive); each call gets a fresh GpuRuntime on it. */
export async function testRuntime(): Promise<GpuRuntime> {
  shared ??= openDevice({ gpu: nodeGPU() });
  return new GpuRuntime(await shared);
}

// Shared with the CPU backend's unit tests (tests/helpers/close.ts), which must not load Dawn.
export { closeTo, randn } from './close';
