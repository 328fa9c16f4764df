// Which optional GPU path the engine takes, decided from adapter data: tested with made-up adapters, since
// the software GPU the GPU suite runs on offers no tensor cores and no shader-f16.
import { describe, expect, it } from 'vitest';
import { pickSubgroupMatrix, sgmatWorkgroupBytes, SUBGROUP_MATRIX_FEATURE, type AdapterCaps } from '../../src/engine/features';
import { bestMatmulVersion, sgmatShader, type MatmulArgs } from '../../src/engine/kernels/matmul/matmul';
import type { Tensor } from '../../src/engine/runtime';

const f16f32 = (M: number, N: number, K: number) => ({ componentType: 'f16', resultComponentType: 'f32', M, N, K });
const nvidia: AdapterCaps = {
  features: new Set([SUBGROUP_MATRIX_FEATURE, 'shader-f16', 'subgroups']),
  // f16 → f16 first: not what the kernel takes (it accumulates in f32).
  subgroupMatrixConfigs: [{ componentType: 'f16', resultComponentType: 'f16', M: 16, N: 16, K: 16 }, f16f32(16, 8, 16), f16f32(16, 16, 16), { componentType: 'u8', resultComponentType: 'u32', M: 16, N: 16, K: 32 }],
  subgroupMinSize: 32,
  subgroupMaxSize: 32,
  maxComputeWorkgroupStorageSize: 49152,
};
const apple: AdapterCaps = { ...nvidia, subgroupMatrixConfigs: [{ componentType: 'f32', resultComponentType: 'f32', M: 8, N: 8, K: 8 }, f16f32(8, 8, 8)] };

describe('pickSubgroupMatrix', () => {
  it('takes the largest f16 × f16 → f32 shape and the one subgroup size', () => {
    expect(pickSubgroupMatrix(nvidia)).toEqual({ M: 16, N: 16, K: 16, lanes: 32 });
    expect(pickSubgroupMatrix(apple)).toEqual({ M: 8, N: 8, K: 8, lanes: 32 });
  });

  it('none without the extension, shader-f16 or subgroups (SwiftShader: none of them)', () => {
    for (const drop of [SUBGROUP_MATRIX_FEATURE, 'shader-f16', 'subgroups']) {
      const features = new Set([...(nvidia.features as Set<string>)].filter((f) => f !== drop));
      expect(pickSubgroupMatrix({ ...nvidia, features })).toBeNull();
    }
    expect(pickSubgroupMatrix({ features: new Set(['subgroups', 'timestamp-query']), subgroupMinSize: 4, subgroupMaxSize: 64 })).toBeNull();
  });

  it('none where the subgroup size may vary, is unknown, or no f32-result shape fits', () => {
    expect(pickSubgroupMatrix({ ...nvidia, subgroupMinSize: 16, subgroupMaxSize: 64 })).toBeNull();
    expect(pickSubgroupMatrix({ ...nvidia, subgroupMinSize: undefined, subgroupMaxSize: undefined })).toBeNull();
    expect(pickSubgroupMatrix({ ...nvidia, subgroupMatrixConfigs: [{ componentType: 'f16', resultComponentType: 'f16', M: 16, N: 16, K: 16 }] })).toBeNull();
    expect(pickSubgroupMatrix({ ...nvidia, subgroupMatrixConfigs: [] })).toBeNull();
    // 32 × 32 × 32 needs 20 KiB of tiles: over WebGPU's default 16 KiB.
    expect(sgmatWorkgroupBytes({ M: 32, N: 32, K: 32 })).toBe(20480);
    expect(pickSubgroupMatrix({ ...nvidia, maxComputeWorkgroupStorageSize: undefined, subgroupMatrixConfigs: [f16f32(32, 32, 32)] })).toBeNull();
  });
});

describe('bestMatmulVersion with and without tensor cores', () => {
  const t = (dtype: Tensor['dtype']) => ({ buffer: {} as GPUBuffer, shape: [1], dtype, label: 't', bytes: 4 }) as Tensor;
  const mk = (M: number, N: number, K: number, b: Tensor['dtype'] = 'f16'): MatmulArgs => ({ a: t('f32'), b: t(b), out: t('f32'), M, N, K });
  const sg = pickSubgroupMatrix(nvidia)!;
  it('sgmat for packed-f16 weights on enough rows; gemv for decode; f32 operands keep the f32 ladder', () => {
    const caps = { subgroupMatrix: sg, f16: true };
    expect(bestMatmulVersion(mk(2048, 1536, 576), caps)).toBe('sgmat');
    expect(bestMatmulVersion(mk(2048, 1536, 576), {})).toBe('f16w');
    expect(bestMatmulVersion(mk(1, 1536, 576), caps)).toBe('gemv');
    expect(bestMatmulVersion(mk(2048, 8, 576), caps)).toBe('f16h'); // narrower than one 2 × 2 block of matrices
    expect(bestMatmulVersion(mk(2048, 1536, 576, 'f32'), caps)).toBe('vec4');
    expect(bestMatmulVersion({ ...mk(2048, 1536, 576), lora: { kind: 'up', u: t('f32'), loraB: t('f32'), rank: 8, scale: 2 } }, caps)).toBe('f16h');
  });

  it('shader-f16 without tensor cores: f16h for forward products; the backward dX = dY·W keeps f32 operands', () => {
    expect(bestMatmulVersion(mk(2048, 1536, 576), { f16: true })).toBe('f16h');
    expect(bestMatmulVersion({ ...mk(2048, 576, 1536), transB: false }, { f16: true, subgroupMatrix: sg })).toBe('f16w');
    expect(bestMatmulVersion({ ...mk(2048, 576, 1536), lora: { kind: 'dx', g: t('f32'), loraA: t('f32'), rank: 8 } }, { f16: true })).toBe('f16w');
    expect(bestMatmulVersion(mk(2048, 1536, 576), { f16: false, subgroupMatrix: null })).toBe('f16w');
  });

  it('the sgmat shader is written for the chosen shape, its directives first', () => {
    const code = sgmatShader(sg);
    expect(code.startsWith('enable f16;')).toBe(true);
    expect(code).toContain('const SM = 16u;');
    expect(code).toContain('const LANES = 32u;');
    expect(code).toContain('subgroup_matrix_left<f16, SK, SM>');
    expect(code).not.toMatch(/SG_(M|N|K|LANES)\b/);
    expect(code).toContain('subgroupMatrixLoad<subgroup_matrix_left<f16, SK, SM>>(&As, kk, false, KT)');
  });

  it('the later drafts\' spelling of load and store (the layout a template argument) when the probe asks for it', () => {
    const code = sgmatShader({ ...sg, syntax: 'template' });
    expect(code).toContain('subgroupMatrixLoad<subgroup_matrix_left<f16, SK, SM>, row_major>(&As, SM * KT + kk, KT)');
    expect(code).toContain('subgroupMatrixLoad<subgroup_matrix_right<f16, SN, SK>, row_major>(&Bs, kk * TN + SN, TN)');
    expect(code).toContain('subgroupMatrixStore<row_major>(&Cs, 0u, c11, SN)');
    expect(code.match(/subgroupMatrix(Load|Store)/g)?.length).toBe(code.match(/row_major>/g)?.length);
    expect(code).not.toMatch(/, (false|true), /);
  });
});
