import { describe, it } from 'vitest';
import { testRuntime } from '../helpers/gpu';
import { ELEMENTWISE_SIZES, expectElementwiseAsRef } from '../helpers/elementwise-cases';

describe('elementwise', () => {
  for (const n of ELEMENTWISE_SIZES)
    it(`add, copy and scale on n=${n}`, async () => {
      const rt = await testRuntime();
      await expectElementwiseAsRef(rt, n, [rt.tensor('x', [n]), rt.tensor('y', [n]), rt.tensor('z', [n])]);
      rt.destroy();
    });
});
