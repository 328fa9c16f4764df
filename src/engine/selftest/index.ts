import type { GpuRuntime } from '../runtime';
import { selfTestAttention } from './attention';
import { selfTestDense } from './dense';
import type { SelfTestResult } from './types';

/** Every kernel family's self-test, run in order on `rt`'s device. */
export async function selfTestAll(rt: GpuRuntime): Promise<SelfTestResult[]> {
  return [...(await selfTestDense(rt)), ...(await selfTestAttention(rt))];
}
