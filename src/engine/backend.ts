/**
 * The one place the engine's backend is chosen. `webgpu` opens the GPU (typed errors when it cannot);
 * `cpu` runs on the CPU backend; `auto` takes a hardware GPU when there is one, and the CPU when WebGPU is
 * missing, grants no adapter, or offers only a software (fallback) adapter that a short timed product shows
 * to be slower than the CPU. Everything above the engine gets a `Runtime` and the reason, nothing more.
 */
import { CpuRuntime } from './cpu-runtime';
import { openDevice, type EngineDevice, type OpenOptions } from './device';
import { prepareMatmul } from './kernels/matmul/matmul';
import { GpuRuntime, type Runtime } from './runtime';
import { uniformArray } from './random';

export type DeviceChoice = 'auto' | 'webgpu' | 'cpu';
export const DEVICE_CHOICES: readonly DeviceChoice[] = ['auto', 'webgpu', 'cpu'];

export interface OpenedRuntime {
  rt: Runtime;
  /** One sentence: why this backend (the manifest and the UI show it). */
  reason: string;
  /** The product timed on both backends when `auto` had only a software adapter (GFLOP/s). */
  measured?: { webgpu: number; cpu: number };
}

export interface OpenRuntimeOptions extends OpenOptions {
  /** Opens the GPU device (default `openDevice(opts)`); the Worker passes its cached one. */
  open?: () => Promise<EngineDevice>;
  /** Makes the CPU backend (threads are the caller's to give). */
  cpu?: () => CpuRuntime;
}

/** The product `auto` times on both backends: the toy model's projection shape, small enough to take ~0.1 s. */
const PROBE = { M: 384, N: 192, K: 64 } as const;

/** GFLOP/s of PROBE on a runtime (after one warm-up run: pipelines compile, JIT warms up). */
export async function probeSpeed(rt: Runtime, reps = 3): Promise<number> {
  const { M, N, K } = PROBE;
  const a = rt.upload('speed a', uniformArray(M * K, 1, 1), [M, K]);
  const b = rt.upload('speed b', uniformArray(N * K, 1, 2), [N, K]);
  const out = rt.tensor('speed out', [M, N]);
  const op = prepareMatmul(rt, { a, b, out, M, N, K });
  rt.run([op]);
  await rt.readF32(out);
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) rt.run([op]);
  await rt.readF32(out);
  const s = (performance.now() - t0) / 1000;
  for (const t of [a, b, out]) rt.release(t);
  return (reps * 2 * M * N * K) / Math.max(s, 1e-9) / 1e9;
}

export async function openRuntime(choice: DeviceChoice, opts: OpenRuntimeOptions = {}): Promise<OpenedRuntime> {
  const make = opts.cpu ?? (() => new CpuRuntime());
  // The CPU backend with its threads running, so that what the manifest says ran is what runs.
  const cpu = async () => {
    const c = make();
    await c.ready();
    return c;
  };
  const open = opts.open ?? (() => openDevice(opts));
  if (choice === 'cpu') return { rt: await cpu(), reason: 'The CPU backend, as asked.' };
  if (choice === 'webgpu') return { rt: new GpuRuntime(await open()), reason: 'WebGPU, as asked.' };
  let engine: EngineDevice;
  try {
    engine = await open();
  } catch (e) {
    return { rt: await cpu(), reason: `The CPU backend: WebGPU is not available here (${(e as Error).message})` };
  }
  const gpu = new GpuRuntime(engine);
  const name = gpu.summary().description;
  if (!engine.report.isFallbackAdapter) return { rt: gpu, reason: `WebGPU on ${name} (a hardware adapter).` };
  const c = await cpu();
  const measured = { webgpu: await probeSpeed(gpu), cpu: await probeSpeed(c) };
  const f = (x: number) => `${x.toFixed(2)} GFLOP/s`;
  if (measured.cpu >= measured.webgpu) {
    gpu.destroy();
    return { rt: c, reason: `The CPU backend: the only WebGPU adapter is a software one (${name}), and a timed product ran at ${f(measured.webgpu)} there against ${f(measured.cpu)} on the CPU.`, measured };
  }
  c.destroy();
  return { rt: gpu, reason: `WebGPU on the software adapter ${name}: a timed product ran at ${f(measured.webgpu)} there against ${f(measured.cpu)} on the CPU.`, measured };
}
