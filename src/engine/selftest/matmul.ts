import { prepareMatmul } from '../kernels/matmul/matmul';
import { matmulRef } from '../kernels/matmul/matmul.ref';
import type { Runtime } from '../runtime';
import type { SelfTestResult } from './types';

/** Seeded values in [-1, 1) (an LCG is plenty for a self-test). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** The matmul kernel against its CPU reference on awkward shapes, on whatever device `rt` runs. */
export async function selfTestMatmul(rt: Runtime): Promise<SelfTestResult[]> {
  const out: SelfTestResult[] = [];
  for (const [M, N, K] of [
    [1, 37, 64],
    [33, 65, 17],
    [70, 96, 130],
  ]) {
    const a = values(M * K, M);
    const b = values(N * K, N);
    const C = rt.tensor('selftest c', [M, N]);
    rt.run([prepareMatmul(rt, { a: rt.upload('selftest a', a, [M, K]), b: rt.upload('selftest b', b, [N, K]), out: C, M, N, K })]);
    const got = await rt.readF32(C);
    const want = matmulRef(a, b, { M, N, K });
    let err = 0;
    for (let i = 0; i < got.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
    const tolerance = 1e-5 * Math.sqrt(K) + 1e-6;
    out.push({ name: `matmul ${M}x${N}x${K}`, maxAbsError: err, tolerance, ok: err <= tolerance });
  }
  return out;
}
