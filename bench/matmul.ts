import { MATMUL_VERSIONS, prepareMatmul, type MatmulVersion } from '../src/engine/kernels/matmul/matmul';
import type { Runtime } from '../src/engine/runtime';
import { timeOps } from './timing';
import type { BenchEntry } from './types';

/** The matmul ladder side by side on the same shapes (transformer-like: tokens × out × in, weights [out,in]). */
export async function benchMatmul(rt: Runtime, opts: { full?: boolean } = {}): Promise<BenchEntry[]> {
  const shapes = opts.full
    ? [
        [256, 576, 576],
        [256, 1536, 576],
        [1024, 1024, 1024],
        [2048, 2048, 2048],
      ]
    : [
        [64, 96, 96],
        [128, 128, 128],
      ];
  const out: BenchEntry[] = [];
  for (const [M, N, K] of shapes) {
    const a = rt.tensor('bench a', [M, K]);
    const b = rt.tensor('bench b', [N, K]);
    const c = rt.tensor('bench c', [M, N]);
    for (const version of Object.keys(MATMUL_VERSIONS) as MatmulVersion[]) {
      const op = prepareMatmul(rt, { a, b, out: c, M, N, K }, version);
      const ms = await timeOps(rt, [op], { iterations: opts.full ? 20 : 3 });
      out.push({ kernel: `matmul_${version}`, shape: `M=${M} N=${N} K=${K}`, ms, gflops: (2 * M * N * K) / ms / 1e6 });
    }
    rt.release(a);
    rt.release(b);
    rt.release(c);
  }
  return out;
}
