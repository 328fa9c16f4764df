import type { Op, Runtime, Tensor } from '../../runtime';
import type { RopeSpec } from '../../rope-spec';
import { bindAt, cpuPastSetter, grid1d, pastSetter } from '../grid';
import code from './rope.wgsl?raw';
import { appendRowsCpu, ropeCpu } from './rope.cpu';
import type { RopeArgs } from './rope.types';

export type { RopeArgs } from './rope.types';

export function prepareRope(rt: Runtime, args: RopeArgs): Op {
  const { B, S, H, Dh, L = S, past = 0, backward = false } = args;
  if (Dh % 2 !== 0) throw new Error(`rope: head dim ${Dh} must be even`);
  const inPlace = !args.x;
  if (inPlace && (L !== S || past !== 0)) throw new Error('rope: in-place rotation writes where it reads (L = S, past = 0)');
  if (past + S > L) throw new Error(`rope: rows past + S = ${past + S} exceed the output's L = ${L}`);
  const label = `rope${backward ? '_backward' : ''}${inPlace ? '_inplace' : ''} ${B}x${S}x${H}x${Dh}`;
  const n = B * S * H * Dh;
  // per pair: θ (1), Cody–Waite reduction (~6), the two polynomials (~14), the rotation (6).
  const flops = (n / 2) * 27;
  const bytes = 4 * (2 * n + B * S + Dh / 2);
  if (rt.kind === 'cpu') {
    return rt.op(label, flops, bytes, ropeCpu(args.x ?? args.out, args.out, args.positions, args.invFreq, { B, S, H, Dh, L, past: { value: past }, sign: backward ? -1 : 1 }));
  }
  const pipeline = rt.pipeline(label, code, { SIGN: backward ? -1 : 1 }, inPlace ? 'main_inplace' : 'main');
  const params = rt.uniform(`${label} params`, [B, S, H, Dh, L, past, 0, 0]);
  // In place, the tensor is the shader's `qio` (binding 5), which main_qk rotates in place too.
  const resources: [number, GPUBuffer | Tensor][] = [[0, params], [1, args.positions], [2, args.invFreq], [inPlace ? 5 : 4, args.out]];
  if (args.x) resources.push([3, args.x]);
  return {
    label,
    pipeline,
    bindGroup: bindAt(rt, pipeline, resources, label),
    workgroups: grid1d(n / 2, 64),
    flops,
    bytes,
  };
}

/** An op whose `past` (the cache row of the first new token) can be rewritten between submits. */
export type RopeCacheOp = Op & { setPast(past: number): void };

/**
 * A layer's new tokens in one dispatch: rotate `q` [B, S, H, Dh] in place, rope the new keys `k`
 * [B, S, KVH, Dh] into `kCache` [B, L, KVH, Dh] at rows past + s, and, when given, copy the new values `v`
 * into `vCache` the same way. `setPast` moves the rows for decode without re-preparing.
 */
export function prepareRopeQkv(
  rt: Runtime,
  a: {
    q: Tensor; k: Tensor; kCache: Tensor; v?: Tensor; vCache?: Tensor; positions: Tensor; invFreq: Tensor;
    B: number; S: number; H: number; KVH: number; Dh: number; L: number; past: number;
  },
): RopeCacheOp {
  const { B, S, H, KVH, Dh, L, past } = a;
  if (Dh % 2 !== 0) throw new Error(`rope: head dim ${Dh} must be even`);
  if (past + S > L) throw new Error(`rope: rows past + S = ${past + S} exceed the cache's L = ${L}`);
  if (Boolean(a.v) !== Boolean(a.vCache)) throw new Error('rope: new values and the value cache go together');
  const withV = Boolean(a.v);
  const label = `rope_${withV ? 'qkv' : 'qk'} ${B}x${S}x${H}/${KVH}x${Dh} L${L}`;
  const nq = B * S * H * Dh;
  const nk = B * S * KVH * Dh;
  const flops = ((nq + nk) / 2) * 27;
  const bytes = 4 * (2 * (nq + nk * (withV ? 2 : 1)) + B * S + Dh / 2);
  if (rt.kind === 'cpu') {
    const at = { value: past };
    const parts = [
      ropeCpu(a.q, a.q, a.positions, a.invFreq, { B, S, H, Dh, L: S, past: { value: 0 }, sign: 1 }),
      ropeCpu(a.k, a.kCache, a.positions, a.invFreq, { B, S, H: KVH, Dh, L, past: at, sign: 1 }),
      ...(a.v && a.vCache ? [appendRowsCpu(a.v, a.vCache, B, S, KVH * Dh, L, at)] : []),
    ];
    return { ...rt.op(label, flops, bytes, () => { for (const f of parts) f(); }), setPast: cpuPastSetter(at, S, L, 'rope') };
  }
  const pipeline = rt.pipeline(label, code, { SIGN: 1 }, withV ? 'main_qkv' : 'main_qk');
  const params = rt.uniform(`${label} params`, [B, S, H, Dh, L, past, KVH, 0]);
  const resources: [number, GPUBuffer | Tensor][] = [[0, params], [1, a.positions], [2, a.invFreq], [3, a.k], [4, a.kCache], [5, a.q]];
  if (a.v && a.vCache) resources.push([6, a.v], [7, a.vCache]);
  return {
    label,
    pipeline,
    bindGroup: bindAt(rt, pipeline, resources, label),
    workgroups: grid1d((nq + nk * (withV ? 2 : 1)) / 2, 64),
    flops,
    bytes,
    setPast: pastSetter(rt, params, 5, S, L, 'rope'),
  };
}

/**
 * RoPE inverse frequencies exactly as Hugging Face computes them, in f32:
 * default `1 / base^(arange(0, dim, 2) / dim)`, and for `ropeScaling` (Llama-3.x "llama3")
 * `_compute_llama3_parameters`: long wavelengths divided by `factor`, short ones kept, the band between
 * `low_freq_factor` and `high_freq_factor` smoothly interpolated.
 */
export function ropeInvFreq(spec: RopeSpec): Float32Array {
  const f = Math.fround;
  const dim = spec.headDim;
  const inv = new Float32Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) {
    const e = f(f(2 * i) / dim);
    inv[i] = f(1 / f(Math.pow(spec.ropeTheta, e)));
  }
  const sc = spec.ropeScaling;
  if (!sc) return inv;
  const lowWavelen = sc.originalMaxPositionEmbeddings / sc.lowFreqFactor;
  const highWavelen = sc.originalMaxPositionEmbeddings / sc.highFreqFactor;
  const out = new Float32Array(inv.length);
  for (let i = 0; i < inv.length; i++) {
    const wavelen = f((2 * Math.PI) / inv[i]);
    let v = wavelen > lowWavelen ? f(inv[i] / sc.factor) : inv[i];
    const medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
    if (medium) {
      const smooth = f(f(f(sc.originalMaxPositionEmbeddings / wavelen) - sc.lowFreqFactor) / (sc.highFreqFactor - sc.lowFreqFactor));
      v = f(f(f(f(1 - smooth) * v) / sc.factor) + f(smooth * v));
    }
    out[i] = v;
  }
  return out;
}
