/**
 * AdamW with global-norm clipping on the CPU, in the WGSL's three steps (norm partials, final norm and
 * clip coefficient, update), reading and writing the same status and hyper tensors.
 */
import { f32v } from '../cpu-runtime';
import type { AdamWArgs, AdamWConfig } from './adamw.types';
import type { Tensor } from '../tensor';

export function adamWCpu(a: AdamWArgs, c: AdamWConfig, partials: Tensor): [() => void, () => void, () => void] {
  const { n } = a;
  const g = f32v(a.grads, n), P = f32v(partials), st = f32v(a.status, 4), hy = f32v(a.hyper, 4);
  const th = f32v(a.params, n), m = f32v(a.m, n), v = f32v(a.v, n);
  const norm1 = () => {
    let s = 0;
    for (let i = 0; i < n; i++) s += g[i] * g[i];
    P.fill(0);
    P[0] = s;
  };
  const norm2 = () => {
    let sq = 0;
    for (let i = 0; i < P.length; i++) sq += P[i];
    sq = Math.fround(sq);
    const norm = Math.sqrt(sq);
    const bad = !Number.isFinite(sq);
    st[0] = sq;
    st[1] = norm;
    st[2] = bad ? 1 : 0;
    st[3] = c.maxGradNorm > 0 && !bad ? Math.min(1, c.maxGradNorm / (norm + 1e-6)) : 1;
  };
  const b1 = Math.fround(c.beta1), b2 = Math.fround(c.beta2), eps = Math.fround(c.eps), wd = Math.fround(c.weightDecay);
  const update = () => {
    if (st[2] !== 0) return;
    const lr = hy[0], bc1 = hy[2], bc2 = Math.sqrt(hy[3]), clip = st[3];
    for (let i = 0; i < n; i++) {
      const gi = g[i] * clip;
      const mi = b1 * m[i] + (1 - b1) * gi;
      const vi = b2 * v[i] + (1 - b2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      const theta = th[i] * (1 - lr * wd);
      th[i] = theta - (lr / bc1) * mi / (Math.sqrt(vi) / bc2 + eps);
    }
  };
  return [norm1, norm2, update];
}
