/** rmsnorm.wgsl and rmsnorm_backward.wgsl on the CPU, row by row. */
import { f32v } from '../../cpu-runtime';
import type { RmsNormArgs, RmsNormBackwardArgs } from './rmsnorm.types';

export function rmsNormCpu(a: RmsNormArgs): () => void {
  const { T, D, eps } = a;
  const x = f32v(a.x, T * D), w = f32v(a.weight, D), y = f32v(a.y, T * D), rstd = f32v(a.rstd, T);
  return () => {
    for (let t = 0; t < T; t++) {
      const o = t * D;
      let s = 0;
      for (let d = 0; d < D; d++) s += x[o + d] * x[o + d];
      const r = Math.fround(1 / Math.sqrt(s / D + eps));
      for (let d = 0; d < D; d++) y[o + d] = w[d] * (x[o + d] * r);
      rstd[t] = r;
    }
  };
}

/** dx (+)= rstd·(dy⊙w) − rstd³·x·Σ(dy⊙w⊙x)/D. */
export function rmsNormBackwardCpu(a: RmsNormBackwardArgs): () => void {
  const { T, D, accumulate = false } = a;
  const x = f32v(a.x, T * D), w = f32v(a.weight, D), rstd = f32v(a.rstd, T), dy = f32v(a.dy, T * D), dx = f32v(a.dx, T * D);
  return () => {
    for (let t = 0; t < T; t++) {
      const o = t * D;
      let s = 0;
      for (let d = 0; d < D; d++) s += dy[o + d] * w[d] * x[o + d];
      const r = rstd[t];
      const c = (r * r * r * s) / D;
      if (accumulate) for (let d = 0; d < D; d++) dx[o + d] += r * dy[o + d] * w[d] - c * x[o + d];
      else for (let d = 0; d < D; d++) dx[o + d] = r * dy[o + d] * w[d] - c * x[o + d];
    }
  };
}
