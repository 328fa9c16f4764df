import { expect, it } from 'vitest';
import { benchAttention } from '../../bench/attention';
import { testRuntime } from '../helpers/gpu';

it('benchAttention (default sizes) reports finite timings for every kernel', async () => {
  const rt = await testRuntime();
  const t0 = performance.now();
  const entries = await benchAttention(rt, {});
  console.log(JSON.stringify(entries, null, 1), `total ${(performance.now() - t0).toFixed(0)} ms`);
  expect(entries.map((e) => e.kernel)).toEqual([
    'attention_forward',
    'attention_backward',
    'attention_decode',
    'cross_entropy_fused',
    'adamw_step',
  ]);
  for (const e of entries) expect(e.ms > 0 && Number.isFinite(e.gflops)).toBe(true);
}, 60_000);
