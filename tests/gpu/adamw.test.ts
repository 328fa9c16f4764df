import { describe, it } from 'vitest';
import { testRuntime } from '../helpers/gpu';
import { expectAdamWClipsAsRef, expectAdamWSkipsNonFinite, expectAdamWUnclippedAsRef, expectTrainStatusReports } from '../helpers/adamw-cases';

describe('AdamW on the GPU against the torch-equivalent reference', () => {
  for (const [name, check] of [
    ['five steps over 70 001 parameters (more than one grid stride), clipping on the odd steps', expectAdamWClipsAsRef],
    ['no clipping and no decay when disabled (coefficient 1 whatever the norm)', expectAdamWUnclippedAsRef],
    ['a non-finite gradient (Infinity, NaN) sets the flag and skips the update; a finite one afterwards updates', expectAdamWSkipsNonFinite],
    ['train status: loss and norm in one read-back; NonFiniteError when the update was skipped', expectTrainStatusReports],
  ] as const)
    it(name, async () => {
      const rt = await testRuntime();
      await check(rt);
      rt.destroy();
    });
});
