import { describe, expect, it } from 'vitest';
import { benchDense } from '../../bench/kernels';
import { testRuntime } from '../helpers/gpu';

describe('benchDense', () => {
  it('times every dense kernel and reports finite rates', async () => {
    const rt = await testRuntime();
    const entries = await benchDense(rt, {});
    if (process.env.BENCH_PRINT) console.log(JSON.stringify(entries, null, 1));
    expect(entries.filter((e) => e.kernel.startsWith('matmul_')).length).toBe(8);
    for (const e of entries) {
      expect(e.ms).toBeGreaterThan(0);
      expect(Number.isFinite(e.gbps)).toBe(true);
    }
    rt.destroy();
  });
});
