/**
 * The fused LM head and cross-entropy on the CPU, op for op as cross_entropy.ts prepares them on WebGPU:
 * a logits chunk Z [T, ldz] = X·W[v0 … v0+C)ᵀ, its fold into each row's (max, Σexp, z_target), the
 * finalize (per-token loss, mean, 1/count), and for the gradient the chunk turned into (softmax − onehot)/count
 * and multiplied back into dX. `stats` is [T, 4] = (m, l, z_target, 0), then (count, 1/count).
 */
import { f32v, u32v, type CpuRuntime } from '../../cpu-runtime';
import type { Tensor } from '../../tensor';
import { transpose } from '../matmul/gemm.cpu';
import type { LmHeadWeight } from './cross_entropy.types';

function weightView(w: LmHeadWeight): Float32Array {
  if (w.packedF16 || w.weight.dtype !== 'f32') throw new Error(`lm head (CPU): ${w.weight.label} is packed f16; the CPU backend keeps f32 weights`);
  return f32v(w.weight, w.V * w.D);
}

export function lmHeadLogitsCpu(rt: CpuRuntime, w: LmHeadWeight, x: Tensor, z: Tensor, T: number, v0: number, C: number, ldz: number): () => void {
  const W = weightView(w), X = f32v(x, T * w.D), Z = f32v(z, (T - 1) * ldz + C);
  return () => rt.gemm(T, C, w.D, 1, X, 0, w.D, W, v0 * w.D, w.D, Z, 0, ldz, 0);
}

export function softmaxStatsCpu(z: Tensor, targets: Tensor | undefined, stats: Tensor, T: number, v0: number, C: number, ldz: number): () => void {
  const Z = f32v(z, (T - 1) * ldz + C), st = f32v(stats, 4 * T), y = targets ? u32v(targets, T) : null;
  return () => {
    for (let t = 0; t < T; t++) {
      const row = t * ldz;
      let mc = -3.0e38;
      for (let c = 0; c < C; c++) if (Z[row + c] > mc) mc = Z[row + c];
      let lc = 0;
      for (let c = 0; c < C; c++) lc += Math.exp(Z[row + c] - mc);
      if (v0 === 0) {
        st[4 * t] = mc;
        st[4 * t + 1] = lc;
        st[4 * t + 2] = 0;
      } else {
        const m = st[4 * t], mn = Math.max(m, mc);
        st[4 * t] = mn;
        st[4 * t + 1] = st[4 * t + 1] * Math.exp(m - mn) + lc * Math.exp(mc - mn);
      }
      if (y && y[t] >= v0 && y[t] < v0 + C) st[4 * t + 2] = Z[row + y[t] - v0];
    }
  };
}

export function ceFinalizeCpu(targets: Tensor, stats: Tensor, loss: Tensor, mean: Tensor, T: number, V: number): () => void {
  const y = u32v(targets, T), st = f32v(stats, 4 * T + 2), L = f32v(loss, T), mn = f32v(mean, 1);
  return () => {
    let s = 0, n = 0;
    for (let t = 0; t < T; t++) {
      let l = 0;
      if (y[t] < V) {
        l = st[4 * t] + Math.log(st[4 * t + 1]) - st[4 * t + 2];
        s += l;
        n++;
      }
      L[t] = l;
    }
    mn[0] = n > 0 ? s / n : 0;
    st[4 * T] = n;
    st[4 * T + 1] = n > 0 ? 1 / n : 0;
  };
}

/** Z ← (softmax − onehot)/count in place, 0 for ignored rows. */
export function ceGradCpu(z: Tensor, targets: Tensor, stats: Tensor, T: number, v0: number, C: number, ldz: number, V: number): () => void {
  const Z = f32v(z, (T - 1) * ldz + C), y = u32v(targets, T), st = f32v(stats, 4 * T + 2);
  return () => {
    const inv = st[4 * T + 1];
    for (let t = 0; t < T; t++) {
      const row = t * ldz;
      if (y[t] >= V) {
        Z.fill(0, row, row + C);
        continue;
      }
      const logZ = st[4 * t] + Math.log(st[4 * t + 1]);
      for (let c = 0; c < C; c++) Z[row + c] = (Math.exp(Z[row + c] - logZ) - (v0 + c === y[t] ? 1 : 0)) * inv;
    }
  };
}

/** dX (+)= G[:, 0 … C) · W[v0 … v0+C): the chunk of W transposed to [D, C] in the scratch, then A·Bᵀ. */
export function lmHeadGradCpu(rt: CpuRuntime, w: LmHeadWeight, g: Tensor, dx: Tensor, T: number, v0: number, C: number, ldz: number, accumulate: boolean): () => void {
  const W = weightView(w), G = f32v(g, (T - 1) * ldz + C), dX = f32v(dx, T * w.D);
  rt.scratch(C * w.D);
  return () => {
    const S = rt.scratch(C * w.D);
    transpose(W, v0 * w.D, C, w.D, S, 0);
    rt.gemm(T, w.D, C, 1, G, 0, ldz, S, 0, C, dX, 0, w.D, accumulate ? 1 : 0);
  };
}

/** out[r, c] = h_r · W[cand_c] − logsumexp_r (−3.4e38 for an id ≥ V). */
export function candidateLogProbsCpu(w: LmHeadWeight, hidden: Tensor, candidates: Tensor, stats: Tensor, out: Tensor, R: number, C: number): () => void {
  const W = weightView(w), X = f32v(hidden, R * w.D), cand = u32v(candidates, C), st = f32v(stats, 4 * R), O = f32v(out, R * C);
  const D = w.D;
  return () => {
    for (let r = 0; r < R; r++) {
      const lse = st[4 * r] + Math.log(st[4 * r + 1]);
      for (let c = 0; c < C; c++) {
        if (cand[c] >= w.V) {
          O[r * C + c] = -3.4e38;
          continue;
        }
        const wb = cand[c] * D;
        let acc = 0;
        for (let d = 0; d < D; d++) acc += X[r * D + d] * W[wb + d];
        O[r * C + c] = acc - lse;
      }
    }
  };
}
