/** CPU reference for rope.wgsl (HF rotate_half), f64 except θ, which is formed in f32 as HF (and the kernel) do. */
import type { RopeArgs } from './rope.types';

type Num = ArrayLike<number>;

/** The kernel's dimensions (rope.types.ts), with the output's prior contents as plain numbers. */
export interface RopeRefArgs extends Pick<RopeArgs, 'B' | 'S' | 'H' | 'Dh' | 'L' | 'past' | 'backward'> {
  /** Values already in the output (rows not written are kept), default zeros. */
  into?: Num;
}

export function ropeRef(x: Num, positions: Num, invFreq: Num, a: RopeRefArgs): Float64Array {
  const { B, S, H, Dh, L = S, past = 0, backward = false } = a;
  const half = Dh / 2;
  const out = new Float64Array(B * L * H * Dh);
  if (a.into) out.set(Array.from(a.into));
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < S; s++) {
      const t = b * S + s;
      for (let h = 0; h < H; h++) {
        const src = (t * H + h) * Dh;
        const dst = ((b * L + past + s) * H + h) * Dh;
        for (let j = 0; j < half; j++) {
          const theta = Math.fround(positions[t] * invFreq[j]);
          const c = Math.cos(theta);
          const sn = (backward ? -1 : 1) * Math.sin(theta);
          const x1 = x[src + j];
          const x2 = x[src + j + half];
          out[dst + j] = x1 * c - x2 * sn;
          out[dst + j + half] = x2 * c + x1 * sn;
        }
      }
    }
  }
  return out;
}
