import { adapterCaps, pickSubgroupMatrix, SUBGROUP_MATRIX_FEATURE } from './features';
import { probeSubgroupMatrix } from './kernels/matmul/sgmat-probe';
import { GpuRuntime } from './runtime';
import { DeviceLostError, LimitTooLowError, NoAdapterError, WebGPUUnavailableError } from './errors';
import type { AdapterReport, EngineDevice } from './device.types';

export type { AdapterReport, EngineDevice } from './device.types';

/** The limits the engine asks for: as much as offered of what matters for large models, else defaults. */
const REQUESTED_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
] as const;

/** The limits the adapter report records: those asked for, and a few more worth knowing about the device. */
const REPORTED_LIMITS = [
  ...REQUESTED_LIMITS,
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxUniformBufferBindingSize',
  'minStorageBufferOffsetAlignment',
] as const;

export function reportAdapter(adapter: GPUAdapter): AdapterReport {
  const info = adapter.info ?? ({} as GPUAdapterInfo);
  const limits: Record<string, number> = {};
  for (const k of REPORTED_LIMITS) limits[k] = Number((adapter.limits as unknown as Record<string, number>)[k]);
  const caps = adapterCaps(adapter);
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    isFallbackAdapter: Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter),
    features: {
      shaderF16: adapter.features.has('shader-f16'),
      subgroups: adapter.features.has('subgroups'),
      timestampQuery: adapter.features.has('timestamp-query'),
      subgroupMatrix: adapter.features.has(SUBGROUP_MATRIX_FEATURE),
    },
    subgroupMatrixConfigs: caps.subgroupMatrixConfigs ? [...caps.subgroupMatrixConfigs] : [],
    subgroupMatrix: pickSubgroupMatrix(caps),
    ...(caps.subgroupMinSize && caps.subgroupMaxSize ? { subgroupSizes: [caps.subgroupMinSize, caps.subgroupMaxSize] as [number, number] } : {}),
    limits,
  };
}

export interface OpenOptions {
  /** The GPU object: navigator.gpu in a browser or Worker, `create([])` from the `webgpu` package in Node. */
  gpu?: GPU;
  powerPreference?: GPUPowerPreference;
  /** Ask for shader-f16 when offered (default true). */
  f16?: boolean;
  /** Minimum limits this work needs; a typed error names the first one the adapter cannot meet. */
  require?: Partial<Record<(typeof REQUESTED_LIMITS)[number], number>>;
}

export async function openDevice(opts: OpenOptions = {}): Promise<EngineDevice> {
  const gpu = opts.gpu ?? (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) throw new WebGPUUnavailableError();
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) throw new NoAdapterError();
  const report = reportAdapter(adapter);
  const requiredLimits: Record<string, number> = {};
  for (const k of REQUESTED_LIMITS) {
    const offered = Number((adapter.limits as unknown as Record<string, number>)[k]);
    const need = opts.require?.[k];
    if (need !== undefined && offered < need) throw new LimitTooLowError(k, need, offered);
    requiredLimits[k] = offered;
  }
  const features: GPUFeatureName[] = [];
  const f16 = (opts.f16 ?? true) && adapter.features.has('shader-f16');
  if (f16) features.push('shader-f16');
  const subgroups = adapter.features.has('subgroups');
  if (subgroups) features.push('subgroups' as GPUFeatureName);
  // Tensor cores: asked for only where the sgmat matmul can use them (f16 operands need shader-f16).
  const subgroupMatrix = f16 && subgroups ? report.subgroupMatrix : null;
  if (subgroupMatrix) features.push(SUBGROUP_MATRIX_FEATURE as GPUFeatureName);
  const device = await adapter.requestDevice({ requiredFeatures: features, requiredLimits });
  const lost = device.lost.then((info) => new DeviceLostError(info.reason, info.message));
  const engine: EngineDevice = { device, adapter, gpu, report, f16, subgroups, subgroupMatrix, lost };
  if (subgroupMatrix) {
    // Checked once against the CPU reference before any kernel relies on it (an experimental extension).
    const problem = await probeSubgroupMatrix(new GpuRuntime(engine));
    if (problem) {
      engine.subgroupMatrix = null;
      report.subgroupMatrixProblem = problem;
    }
    report.subgroupMatrix = engine.subgroupMatrix; // with the load/store spelling the probe settled
  }
  return engine;
}
