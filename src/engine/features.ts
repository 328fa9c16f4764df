/**
 * Which optional GPU paths this adapter can take, decided from plain data (features, adapter info, limits) so
 * that the choice is unit-tested with made-up adapters: SwiftShader, where the tests run, offers none of them.
 */

/** Dawn's tensor-core extension (Vulkan VK_KHR_cooperative_matrix, Metal Apple7+ simdgroup matrices). */
export const SUBGROUP_MATRIX_FEATURE = 'chromium-experimental-subgroup-matrix';

/** One entry of `adapter.info.subgroupMatrixConfigs` (Dawn): left M×K times right K×N into M×N. */
export interface SubgroupMatrixConfigInfo {
  componentType: string;
  resultComponentType: string;
  M: number;
  N: number;
  K: number;
}

/** The subgroup-matrix shape the matmul's `sgmat` version is compiled for, and its workgroup (one subgroup). */
export interface SubgroupMatrixChoice {
  M: number;
  N: number;
  K: number;
  /** Invocations per workgroup: the adapter's one subgroup size. */
  lanes: number;
  /**
   * How the shader spells the memory layout of subgroupMatrixLoad/Store: 'bool' (Dawn's documented
   * `(ptr, offset, col_major, stride)`, the default) or 'template' (`<T, row_major>(ptr, offset, stride)`,
   * the spelling of later drafts); openDevice's probe settles it on the device.
   */
  syntax?: 'bool' | 'template';
}

export interface AdapterCaps {
  features: { has(name: string): boolean };
  subgroupMatrixConfigs?: readonly SubgroupMatrixConfigInfo[];
  subgroupMinSize?: number;
  subgroupMaxSize?: number;
  /** Defaults to WebGPU's 16 KiB. */
  maxComputeWorkgroupStorageSize?: number;
  /** Defaults to WebGPU's 256. */
  maxComputeInvocationsPerWorkgroup?: number;
}

/** Workgroup memory of the sgmat version for a configuration: f16 A and B tiles of 2 × 2 matrices, one f32 result. */
export const sgmatWorkgroupBytes = (c: Pick<SubgroupMatrixConfigInfo, 'M' | 'N' | 'K'>): number => 2 * (2 * c.M * 2 * c.K) + 2 * (2 * c.K * 2 * c.N) + 4 * c.M * c.N;

/**
 * The f16 × f16 → f32 subgroup-matrix configuration the sgmat matmul uses, or null (then the f32 ladder runs).
 * Needs the extension, shader-f16 (f16 operands) and subgroups; a single subgroup size (min = max), since the
 * kernel is one subgroup per workgroup and a device that may pick a smaller size would split it; dimensions
 * 8…32; its tiles within the workgroup-memory limit. Among those, the most work per multiply
 * (M·N·K), the adapter's order breaking ties (it lists its preferred ones first).
 */
export function pickSubgroupMatrix(caps: AdapterCaps): SubgroupMatrixChoice | null {
  const f = caps.features;
  if (!f.has(SUBGROUP_MATRIX_FEATURE) || !f.has('shader-f16') || !f.has('subgroups')) return null;
  const lanes = caps.subgroupMaxSize ?? 0;
  if (!lanes || caps.subgroupMinSize !== lanes || lanes > (caps.maxComputeInvocationsPerWorkgroup ?? 256)) return null;
  const wgBytes = caps.maxComputeWorkgroupStorageSize ?? 16384;
  let best: SubgroupMatrixConfigInfo | null = null;
  for (const c of caps.subgroupMatrixConfigs ?? []) {
    if (c.componentType !== 'f16' || c.resultComponentType !== 'f32') continue;
    if (![c.M, c.N, c.K].every((d) => Number.isInteger(d) && d >= 8 && d <= 32)) continue;
    if (sgmatWorkgroupBytes(c) > wgBytes) continue;
    if (!best || c.M * c.N * c.K > best.M * best.N * best.K) best = c;
  }
  return best ? { M: best.M, N: best.N, K: best.K, lanes } : null;
}

/** Adapter capabilities from a WebGPU adapter (Dawn's info fields read defensively: older builds lack them). */
export function adapterCaps(adapter: GPUAdapter): AdapterCaps {
  const info = (adapter.info ?? {}) as GPUAdapterInfo & { subgroupMatrixConfigs?: readonly SubgroupMatrixConfigInfo[]; subgroupMinSize?: number; subgroupMaxSize?: number };
  const limits = adapter.limits as unknown as Record<string, number>;
  return {
    features: adapter.features,
    subgroupMatrixConfigs: info.subgroupMatrixConfigs ? [...info.subgroupMatrixConfigs].map((c) => ({ componentType: c.componentType, resultComponentType: c.resultComponentType, M: c.M, N: c.N, K: c.K })) : [],
    subgroupMinSize: info.subgroupMinSize,
    subgroupMaxSize: info.subgroupMaxSize,
    maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
  };
}
