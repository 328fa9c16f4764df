/**
 * rope.wgsl on the CPU (HF rotate_half): each token's cos and sin are formed once (θ in f32, as HF and the
 * kernel form it) and applied to all its heads. `rotate` writes token (b, s) to row past + s of an
 * [B, L, H, Dh] output, in place when the output is the input (L = S, past = 0).
 */
import { f32v, u32v } from '../../cpu-runtime';
import type { Tensor } from '../../tensor';

export interface RopeCpuDims {
  B: number; S: number; H: number; Dh: number; L: number;
  /** Read at run time: decode moves it between runs. */
  past: { value: number };
  sign: 1 | -1;
}

/** A rotation of x [B, S, H, Dh] into out [B, L, H, Dh] (the same tensor for in place). */
export function ropeCpu(x: Tensor, out: Tensor, positions: Tensor, invFreq: Tensor, d: RopeCpuDims): () => void {
  const { B, S, H, Dh, L, sign } = d;
  const half = Dh / 2;
  const X = f32v(x, B * S * H * Dh), O = x === out ? X : f32v(out, B * L * H * Dh);
  const pos = u32v(positions, B * S), inv = f32v(invFreq, half);
  const cos = new Float64Array(half), sin = new Float64Array(half);
  return () => {
    const past = d.past.value;
    for (let b = 0; b < B; b++)
      for (let s = 0; s < S; s++) {
        const t = b * S + s;
        for (let j = 0; j < half; j++) {
          const theta = Math.fround(pos[t] * inv[j]);
          cos[j] = Math.cos(theta);
          sin[j] = sign * Math.sin(theta);
        }
        for (let h = 0; h < H; h++) {
          const src = (t * H + h) * Dh;
          const dst = ((b * L + past + s) * H + h) * Dh;
          for (let j = 0; j < half; j++) {
            const x1 = X[src + j], x2 = X[src + j + half];
            O[dst + j] = x1 * cos[j] - x2 * sin[j];
            O[dst + j + half] = x2 * cos[j] + x1 * sin[j];
          }
        }
      }
  };
}

/** Values [B, S, KVH, Dh] copied into the value cache [B, L, KVH, Dh] at rows past + s. */
export function appendRowsCpu(v: Tensor, cache: Tensor, B: number, S: number, row: number, L: number, past: { value: number }): () => void {
  const V = f32v(v, B * S * row), C = f32v(cache, B * L * row);
  return () => {
    for (let b = 0; b < B; b++) C.set(V.subarray(b * S * row, (b + 1) * S * row), (b * L + past.value) * row);
  };
}
