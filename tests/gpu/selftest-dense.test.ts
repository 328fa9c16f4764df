import { describe, expect, it } from 'vitest';
import { selfTestDense } from '../../src/engine/selftest/dense';
import { testRuntime } from '../helpers/gpu';

describe('selfTestDense', () => {
  it('every dense kernel agrees with its reference on this device', async () => {
    const rt = await testRuntime();
    const results = await selfTestDense(rt);
    expect(results.length).toBe(16);
    for (const r of results) expect(r.ok, `${r.name}: ${r.maxAbsError} > ${r.tolerance}`).toBe(true);
    // Its tensors are released; what stays is the ops' small uniform buffers (an Op does not own them).
    expect(rt.counters.liveBytes).toBeLessThan(4096);
    rt.destroy();
  });
});
