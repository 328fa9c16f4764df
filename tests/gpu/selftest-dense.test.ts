import { describe, expect, it } from 'vitest';
import { selfTestDense } from '../../src/engine/selftest/dense';
import { testRuntime } from '../helpers/gpu';

describe('selfTestDense', () => {
  it('every dense kernel agrees with its reference on this device', async () => {
    const rt = await testRuntime();
    const results = await selfTestDense(rt);
    // 17 everywhere (16 + decode's fused projections), + f16h / sgmat where the device offers them.
    expect(results.length).toBe(17 + Number(rt.engine.f16) + Number(Boolean(rt.engine.subgroupMatrix)));
    for (const r of results) expect(r.ok, `${r.name}: ${r.maxAbsError} > ${r.tolerance}`).toBe(true);
    // Its tensors are released; what stays is the ops' small uniform buffers (an Op does not own them).
    expect(rt.counters.liveBytes).toBeLessThan(4096);
    rt.destroy();
  });
});
