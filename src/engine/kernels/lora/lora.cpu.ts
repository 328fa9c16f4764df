/**
 * lora_matmul.wgsl on the CPU: a small product with the dropout mask applied where x enters — x is A
 * (mask 1: u = dropout(x)·Aᵀ) or B (mask 2: dA = gᵀ·dropout(x)). The masked x is formed in the scratch,
 * then the product runs as any other (matmul.cpu.ts).
 */
import { f32v, u32v, type CpuRuntime } from '../../cpu-runtime';
import { product, productScratch } from '../matmul/matmul.cpu';
import { dropoutKey, dropoutKeep } from './dropout.cpu';
import type { MatmulArgs } from '../matmul/matmul.types';

export interface LoraMatmulCpuArgs extends Pick<MatmulArgs, 'a' | 'b' | 'out' | 'M' | 'N' | 'K' | 'transA' | 'transB' | 'alpha' | 'accumulate'> {
  /** 0: no mask; 1: A is x; 2: B is x. */
  mask: 0 | 1 | 2;
  dropout?: { state: import('../../tensor').Tensor; salt: number; threshold: number; keepScale: number };
}

export function loraMatmulCpu(rt: CpuRuntime, m: LoraMatmulCpuArgs): () => void {
  const { M, N, K, transA = false, transB = true, alpha = 1, accumulate = false } = m;
  const mask = m.dropout ? m.mask : 0;
  const A = f32v(m.a, M * K);
  const B = f32v(m.b, K * N);
  const C = f32v(m.out, M * N);
  const x = mask === 1 ? A : B;
  const xn = mask === 1 ? M * K : K * N;
  const prod = productScratch(M, N, K, transA, transB);
  const need = prod + (mask ? xn : 0);
  rt.scratch(need);
  const drop = m.dropout ? { state: u32v(m.dropout.state, 2), salt: m.dropout.salt, threshold: m.dropout.threshold, keep: Math.fround(m.dropout.keepScale) } : null;
  return () => {
    const S = rt.scratch(need);
    let Am = A, Bm = B, aOff = 0, bOff = 0;
    if (mask && drop) {
      // x [T, in] is row-major in either role: its element e = t·in + k is what the hash is keyed on.
      const key = dropoutKey(drop.state[0], drop.state[1], drop.salt);
      for (let e = 0; e < xn; e++) S[prod + e] = x[e] * dropoutKeep(key, e, drop.threshold, drop.keep);
      if (mask === 1) {
        Am = S;
        aOff = prod;
      } else {
        Bm = S;
        bOff = prod;
      }
    }
    product(rt, M, N, K, transA, transB, alpha, Am, aOff, Bm, bOff, C, 0, accumulate ? 1 : 0, S, 0);
  };
}
