/** swiglu.wgsl on the CPU: h = silu(gate) ⊙ up, and its backward, over the gate|up layout of swiglu.ts. */
import { f32v } from '../../cpu-runtime';
import type { SwigluArgs, SwigluBackwardArgs } from './swiglu.types';

const span = (T: number, F: number, rowStride: number, upOffset: number) => (T - 1) * rowStride + upOffset + F;

export function swigluCpu(a: SwigluArgs): () => void {
  const { T, F, rowStride = 2 * F, upOffset = F } = a;
  const gu = f32v(a.gu, span(T, F, rowStride, upOffset)), h = f32v(a.h, T * F);
  return () => {
    for (let t = 0; t < T; t++) {
      const g0 = t * rowStride, h0 = t * F;
      for (let j = 0; j < F; j++) {
        const g = gu[g0 + j];
        h[h0 + j] = (g / (1 + Math.exp(-g))) * gu[g0 + upOffset + j];
      }
    }
  };
}

export function swigluBackwardCpu(a: SwigluBackwardArgs): () => void {
  const { T, F, rowStride = 2 * F, upOffset = F } = a;
  const n = span(T, F, rowStride, upOffset);
  const gu = f32v(a.gu, n), dh = f32v(a.dh, T * F), dgu = f32v(a.dgu, n);
  return () => {
    for (let t = 0; t < T; t++) {
      const g0 = t * rowStride, h0 = t * F;
      for (let j = 0; j < F; j++) {
        const g = gu[g0 + j], u = gu[g0 + upOffset + j], d = dh[h0 + j];
        const sg = 1 / (1 + Math.exp(-g));
        dgu[g0 + j] = d * u * sg * (1 + g * (1 - sg));
        dgu[g0 + upOffset + j] = d * g * sg;
      }
    }
  };
}
