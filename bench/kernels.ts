// Dense-kernel benchmarks: the matmul ladder side by side on the same shapes (plus the packed-f16
// weight variant), then RMSNorm, RoPE and SwiGLU. Median ms per run after warm-up, timed with
// performance.now() around queue.onSubmittedWorkDone(); each sample submits `inner` back-to-back runs so
// that submit latency does not swamp short kernels on real GPUs. Defaults finish in ~20 s on SwiftShader;
// `full` uses model-sized shapes for real GPUs.
import type { Op, GpuRuntime, Tensor } from '../src/engine/runtime';
import { timeOps } from './timing';
import type { BenchEntry } from './types';
import { f32ToF16Array } from '../src/engine/convert';
import { prepareMatmul, type MatmulVersion } from '../src/engine/kernels/matmul/matmul';
import { prepareRmsNorm, prepareRmsNormBackward } from '../src/engine/kernels/rmsnorm/rmsnorm';
import { prepareRope, ropeInvFreq } from '../src/engine/kernels/rope/rope';
import { prepareSwiglu, prepareSwigluBackward } from '../src/engine/kernels/swiglu/swiglu';
import { prepareLoraBackward, prepareLoraForward } from '../src/engine/kernels/lora/lora';

function fill(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

const time = (rt: GpuRuntime, ops: Op[], samples: number, inner: number) => timeOps(rt, ops, { samples, inner });

function entry(kernel: string, shape: string, ops: Op[], ms: number, extra?: BenchEntry['extra']): BenchEntry {
  const flops = ops.reduce((a, o) => a + o.flops, 0);
  const bytes = ops.reduce((a, o) => a + o.bytes, 0);
  return { kernel, shape, ms, gflops: flops / ms / 1e6, gbps: bytes / ms / 1e6, extra: { dispatches: ops.length, ...extra } };
}

export async function benchDense(rt: GpuRuntime, opts: { full?: boolean }): Promise<BenchEntry[]> {
  const full = Boolean(opts.full);
  const samples = full ? 10 : 3;
  const inner = full ? 10 : 1;
  const out: BenchEntry[] = [];
  const made: Tensor[] = [];
  const t = (name: string, shape: number[]) => {
    const x = rt.tensor(name, shape);
    made.push(x);
    return x;
  };
  const up = (name: string, data: Float32Array | Uint16Array | Uint32Array, shape: number[]) => {
    const x = rt.upload(name, data, shape);
    made.push(x);
    return x;
  };

  try {
    // Matmul ladder: activations [M, K] times an HF weight [N, K] (transB), as every projection runs.
    const shapes = full
      ? [
          [256, 576, 576],
          [512, 512, 512],
          [512, 1536, 576], // SmolLM2-135M gate/up at T = 512
          [1024, 2048, 2048],
        ]
      : [
          [32, 576, 576],
          [128, 256, 256],
        ];
    for (const [M, N, K] of shapes) {
      const a = up('a', fill(M * K, 1), [M, K]);
      const w = fill(N * K, 2);
      const b32 = up('b', w, [N, K]);
      const b16 = up('b16', f32ToF16Array(w), [N, K]);
      const c = t('c', [M, N]);
      // f16h (shader-f16) and sgmat (tensor cores) only where the device offers them.
      const versions: MatmulVersion[] = ['naive', 'tiled', 'vec4', 'f16w', ...(rt.engine.f16 ? (['f16h'] as const) : []), ...(rt.engine.subgroupMatrix ? (['sgmat'] as const) : [])];
      for (const v of versions) {
        const op = prepareMatmul(rt, { a, b: v === 'f16w' || v === 'f16h' || v === 'sgmat' ? b16 : b32, out: c, M, N, K }, v);
        out.push(entry(`matmul_${v}`, `M=${M} N=${N} K=${K}`, [op], await time(rt, [op], samples, inner)));
      }
    }

    // Decode-sized products (a few rows of A) against a packed-f16 weight: the 64×64-tile version beside
    // gemv, in GB/s of weight read (decode is bound by reading the weights).
    const skinny = full
      ? [
          [1, 1536, 576], // SmolLM2-135M gate/up, one token
          [1, 576, 1536], // down
          [4, 4864, 896], // Qwen2.5-0.5B gate/up, four sequences
        ]
      : [[1, 256, 128]];
    for (const [M, N, K] of skinny) {
      const a = up('a', fill(M * K, 4), [M, K]);
      const b16 = up('b16', f32ToF16Array(fill(N * K, 5)), [N, K]);
      const c = t('c', [M, N]);
      for (const v of ['f16w', 'gemv'] as const) {
        const op = prepareMatmul(rt, { a, b: b16, out: c, M, N, K }, v);
        out.push(entry(`matmul_${v}`, `M=${M} N=${N} K=${K} f16 W`, [op], await time(rt, [op], samples, inner)));
      }
    }

    // Row and elementwise kernels at a SmolLM2-135M layer's sizes (D 576, 9 heads of 64, F 1536).
    const T = full ? 2048 : 128;
    const [D, H, Dh, F] = [576, 9, 64, 1536];
    const x = up('x', fill(T * D, 3), [T, D]);
    const w = up('w', fill(D, 4), [D]);
    const y = t('y', [T, D]);
    const rstd = t('rstd', [T]);
    const dx = t('dx', [T, D]);
    const fwd = prepareRmsNorm(rt, { x, weight: w, y, rstd, T, D, eps: 1e-5 });
    out.push(entry('rmsnorm_forward', `T=${T} D=${D}`, [fwd], await time(rt, [fwd], samples, inner)));
    const bwd = prepareRmsNormBackward(rt, { x, weight: w, rstd, dy: y, dx, T, D });
    out.push(entry('rmsnorm_backward', `T=${T} D=${D}`, [bwd], await time(rt, [bwd], samples, inner)));

    const q = up('q', fill(T * H * Dh, 5), [T, H, Dh]);
    const qr = t('qr', [T, H, Dh]);
    const pos = up('pos', Uint32Array.from({ length: T }, (_, i) => i), [T]);
    const inv = up('inv', ropeInvFreq({ headDim: Dh, ropeTheta: 100000, ropeScaling: null }), [Dh / 2]);
    const rope = prepareRope(rt, { x: q, out: qr, positions: pos, invFreq: inv, B: 1, S: T, H, Dh });
    out.push(entry('rope_forward', `T=${T} H=${H} Dh=${Dh}`, [rope], await time(rt, [rope], samples, inner)));

    const gu = up('gu', fill(T * 2 * F, 6), [T, 2 * F]);
    const h = t('h', [T, F]);
    const dgu = t('dgu', [T, 2 * F]);
    const sw = prepareSwiglu(rt, { gu, h, T, F });
    out.push(entry('swiglu_forward', `T=${T} F=${F}`, [sw], await time(rt, [sw], samples, inner)));
    const swb = prepareSwigluBackward(rt, { gu, dh: h, dgu, T, F });
    out.push(entry('swiglu_backward', `T=${T} F=${F}`, [swb], await time(rt, [swb], samples, inner)));

    // One LoRA'd projection (q_proj-like, r = 8, dropout on, f16 base weight): forward and backward.
    {
      const r = 8;
      const T = full ? 2048 : 32;
      const W = up('W16', f32ToF16Array(fill(D * D, 7)), [D, D]);
      const A = up('A', fill(r * D, 8), [r, D]);
      const B = up('B', fill(D * r, 9), [D, r]);
      const state = up('state', Uint32Array.from([1, 1]), [2]);
      const dims = { T, inDim: D, outDim: D, rank: r, scale: 2, dropout: { p: 0.05, state, salt: 0 } };
      const u = t('u', [T, r]);
      const xs = rt.view(x, 0, [T, D]);
      const ys = rt.view(y, 0, [T, D]);
      const dxs = rt.view(dx, 0, [T, D]);
      const lf = prepareLoraForward(rt, { ...dims, x: xs, weight: W, loraA: A, loraB: B, u, y: ys });
      out.push(entry('lora_forward', `T=${T} in=out=${D} r=${r} f16 W`, lf, await time(rt, lf, samples, inner)));
      const lb = prepareLoraBackward(rt, { ...dims, x: xs, weight: W, loraA: A, loraB: B, u, dy: ys, g: t('g', [T, r]), dx: dxs, dA: t('dA', [r, D]), dB: t('dB', [D, r]) });
      out.push(entry('lora_backward', `T=${T} in=out=${D} r=${r} f16 W`, lb, await time(rt, lb, samples, inner)));
    }
  } finally {
    for (const m of made) rt.release(m);
  }
  return out;
}
