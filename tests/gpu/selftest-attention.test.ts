import { expect, it } from 'vitest';
import { selfTestAttention } from '../../src/engine/selftest/attention';
import { testRuntime } from '../helpers/gpu';

it('selfTestAttention passes on this device and leaves the caller’s runtime untouched', async () => {
  const rt = await testRuntime();
  const before = { ...rt.counters };
  const results = await selfTestAttention(rt);
  expect(results.length).toBe(10);
  for (const r of results) expect(r.ok, `${r.name}: ${r.maxAbsError} > ${r.tolerance}`).toBe(true);
  expect(rt.counters).toEqual(before);
});
