/**
 * The KV cache: per layer, keys and values [B, L, KVH, Dh] (docs/design.md), L the capacity. New rows are
 * written at `past + s` by RoPE (keys) or by RoPE with zero frequencies (values: a rotation by 0 is the
 * identity, so the same strided "append to the cache" dispatch serves both). Decode moves `past` each
 * token by rewriting one uniform word, so the prepared ops are reused.
 */
import { copyOp, type CopyOp, type Op, type Runtime, type Tensor } from '../engine/runtime';
import { bindAt, cpuPastSetter, grid1d, pastSetter } from '../engine/kernels/grid';
import { ropeCpu } from '../engine/kernels/rope/rope.cpu';
import ropeCode from '../engine/kernels/rope/rope.wgsl?raw';

export class KVCache {
  readonly k: Tensor[] = [];
  readonly v: Tensor[] = [];
  constructor(
    rt: Runtime,
    readonly layers: number,
    readonly B: number,
    readonly L: number,
    readonly KVH: number,
    readonly Dh: number,
  ) {
    for (let l = 0; l < layers; l++) {
      this.k.push(rt.tensor(`kv.k.${l}`, [B, L, KVH, Dh]));
      this.v.push(rt.tensor(`kv.v.${l}`, [B, L, KVH, Dh]));
    }
  }

  /** Bytes of one cache row (one token of one sequence, one layer, keys or values). */
  get rowBytes(): number {
    return this.KVH * this.Dh * 4;
  }

  /**
   * Copies of rows [0, rows) of sequence `srcB` of `src` into every sequence of this cache (the shared
   * k-shot prefix: computed once, copied into each batch row), to run before the plan that reads them.
   */
  copyPrefixFrom(src: KVCache, rows: number, srcB = 0): CopyOp[] {
    if (src.KVH !== this.KVH || src.Dh !== this.Dh || src.layers !== this.layers) throw new Error('kv cache: shapes differ');
    if (rows > this.L || rows > src.L) throw new Error(`kv cache: ${rows} prefix rows exceed the capacity`);
    const size = rows * this.rowBytes;
    const ops: CopyOp[] = [];
    if (size === 0) return ops;
    const srcOff = srcB * src.L * src.rowBytes;
    for (let l = 0; l < this.layers; l++)
      for (let b = 0; b < this.B; b++) {
        const dst = b * this.L * this.rowBytes;
        ops.push(copyOp(src.k[l], srcOff, this.k[l], dst, size, 'prefix k'), copyOp(src.v[l], srcOff, this.v[l], dst, size, 'prefix v'));
      }
    return ops;
  }
}

/** An op whose `past` word can be rewritten between submits. */
export type PastOp = Op & { setPast(past: number): void };

/**
 * RoPE from x [B, S, H, Dh] into out [B, L, H, Dh] at rows past + s, with `past` settable (the engine's
 * prepareRope bakes it in; decode needs it to move). Same shader, same bindings as prepareRope.
 */
export function prepareRopeAppend(
  rt: Runtime,
  a: { x: Tensor; out: Tensor; positions: Tensor; invFreq: Tensor; B: number; S: number; H: number; Dh: number; L: number; past: number },
): PastOp {
  const { B, S, H, Dh, L, past } = a;
  if (past + S > L) throw new Error(`rope append: rows past + S = ${past + S} exceed L = ${L}`);
  const label = `rope_append ${B}x${S}x${H}x${Dh} L${L}`;
  const n = B * S * H * Dh;
  const flops = (n / 2) * 9;
  const bytes = 4 * (2 * n + B * S + Dh / 2);
  if (rt.kind === 'cpu') {
    const at = { value: past };
    return { ...rt.op(label, flops, bytes, ropeCpu(a.x, a.out, a.positions, a.invFreq, { B, S, H, Dh, L, past: at, sign: 1 })), setPast: cpuPastSetter(at, S, L, 'rope append') };
  }
  const pipeline = rt.pipeline(label, ropeCode, { SIGN: 1 }, 'main');
  const params = rt.uniform(`${label} params`, [B, S, H, Dh, L, past, 0, 0]);
  return {
    label,
    pipeline,
    bindGroup: bindAt(rt, pipeline, [[0, params], [1, a.positions], [2, a.invFreq], [3, a.x], [4, a.out]], label),
    workgroups: grid1d(n / 2, 64),
    flops,
    bytes,
    setPast: pastSetter(rt, params, 5, S, L, 'rope append'),
  };
}
