/** What an opened WebGPU device is, as types: device.ts opens one, runtime.ts runs on it (neither needs the other's code for them). */
import type { SubgroupMatrixChoice, SubgroupMatrixConfigInfo } from './features';
import type { DeviceLostError } from './errors';

/** What the adapter is and offers, as plain data (it crosses the Worker boundary and goes into manifests). */
export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  features: { shaderF16: boolean; subgroups: boolean; timestampQuery: boolean; subgroupMatrix: boolean };
  /** The adapter's subgroup-matrix shapes (Dawn), and the one the tensor-core matmul uses (null: none). */
  subgroupMatrixConfigs: SubgroupMatrixConfigInfo[];
  subgroupMatrix: SubgroupMatrixChoice | null;
  /** Why the tensor-core path was turned off after its probe on this device (absent: it passed or never ran). */
  subgroupMatrixProblem?: string;
  subgroupSizes?: [number, number];
  limits: Record<string, number>;
}

export interface EngineDevice {
  device: GPUDevice;
  /** Kept referenced: Dawn-in-Node aborts if the adapter is garbage-collected while its device lives. */
  adapter: GPUAdapter;
  /** The GPU (instance) it came from, kept referenced for the same reason: Dawn-in-Node frees the instance
   * when its JS object is collected and the next event poll crashes; a bundler may drop a caller's own reference. */
  gpu: GPU;
  report: AdapterReport;
  /** f16 storage and arithmetic available (shader-f16 granted). */
  f16: boolean;
  subgroups: boolean;
  /** The tensor-core matmul's shape where `chromium-experimental-subgroup-matrix` was granted, else null. */
  subgroupMatrix: SubgroupMatrixChoice | null;
  /** Resolves when the device is lost, with a typed error. */
  lost: Promise<DeviceLostError>;
}
