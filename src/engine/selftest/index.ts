import type { Runtime } from '../runtime';
import { selfTestMatmul } from './matmul';
import type { SelfTestResult } from './types';

/** Every kernel family's self-test, run in order on `rt`'s device. */
export async function selfTestAll(rt: Runtime): Promise<SelfTestResult[]> {
  return [...(await selfTestMatmul(rt))];
}
