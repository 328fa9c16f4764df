/** elementwise.wgsl on the CPU: add (y = beta·y + alpha·x), copy and scale over n f32 elements. */
import { f32v } from '../../cpu-runtime';
import type { Tensor } from '../../tensor';

export function addCpu(a: { x: Tensor; y: Tensor; n: number; alpha?: number; beta?: number }): () => void {
  const { n, alpha = 1, beta = 1 } = a;
  const x = f32v(a.x, n), y = f32v(a.y, n);
  return () => {
    for (let i = 0; i < n; i++) y[i] = y[i] * beta + alpha * x[i];
  };
}

export function copyCpu(a: { src: Tensor; dst: Tensor; n: number }): () => void {
  const src = f32v(a.src, a.n), dst = f32v(a.dst, a.n);
  return () => dst.set(src);
}

export function scaleCpu(a: { x: Tensor; n: number; alpha: number }): () => void {
  const x = f32v(a.x, a.n);
  return () => {
    for (let i = 0; i < a.n; i++) x[i] *= a.alpha;
  };
}
