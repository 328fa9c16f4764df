// Benchmarks for the attention, fused loss and optimizer kernels: median ms per run after warm-up, timed
// with performance.now() around queue.onSubmittedWorkDone(); GFLOP/s and GB/s from the Ops' own counts.
// Default sizes finish in seconds on SwiftShader; `full` uses SmolLM2-135M-like shapes.
import { prepareAttentionBackward, prepareAttentionForward, type AttentionDims } from '../src/engine/kernels/attention/attention';
import { prepareCrossEntropy } from '../src/engine/kernels/cross_entropy/cross_entropy';
import { prepareAdamW, writeAdamWHyper } from '../src/engine/optim/adamw';
import { GpuRuntime, type Op } from '../src/engine/runtime';
import { timeOps } from './timing';
import type { BenchEntry } from './types';

function filled(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 4294967296 - 0.5) * 2 * scale;
  }
  return out;
}

const time = (rt: GpuRuntime, ops: Op[], reps: number) => timeOps(rt, ops, { samples: reps });

function entry(kernel: string, shape: string, ops: Op[], ms: number, extra?: BenchEntry['extra']): BenchEntry {
  const flops = ops.reduce((a, o) => a + o.flops, 0);
  const bytes = ops.reduce((a, o) => a + o.bytes, 0);
  return {
    kernel,
    shape,
    ms,
    gflops: flops / ms / 1e6,
    gbps: bytes / ms / 1e6,
    extra: { dispatches: ops.length, ...extra },
  };
}

function attentionTensors(rt: GpuRuntime, a: AttentionDims) {
  const qs = [a.B, a.S, a.H, a.Dh];
  const ks = [a.B, a.L, a.KVH, a.Dh];
  const kvStart = rt.upload('kvStart', new Uint32Array(a.B), [a.B]);
  return {
    q: rt.upload('q', filled(a.B * a.S * a.H * a.Dh, 1), qs),
    k: rt.upload('k', filled(a.B * a.L * a.KVH * a.Dh, 2), ks),
    v: rt.upload('v', filled(a.B * a.L * a.KVH * a.Dh, 3), ks),
    kvStart,
    out: rt.tensor('o', qs),
    lse: rt.tensor('lse', [a.B, a.H, a.S]),
  };
}

const dimsText = (a: AttentionDims) => `B=${a.B} S=${a.S} past=${a.past} H=${a.H} KVH=${a.KVH} Dh=${a.Dh}`;

export async function benchAttention(rt0: GpuRuntime, opts: { full?: boolean }): Promise<BenchEntry[]> {
  const rt = new GpuRuntime(rt0.engine);
  const full = Boolean(opts.full);
  const reps = full ? 10 : 3;
  const out: BenchEntry[] = [];
  try {
    // Training / prefill (past = 0) and one decode token against a long cache.
    const train: AttentionDims = full
      ? { B: 4, S: 256, H: 9, KVH: 3, Dh: 64, L: 256, past: 0 }
      : { B: 1, S: 64, H: 4, KVH: 2, Dh: 64, L: 64, past: 0 };
    const t = attentionTensors(rt, train);
    const fwd = [prepareAttentionForward(rt, { ...train, ...t })];
    out.push(entry('attention_forward', dimsText(train), fwd, await time(rt, fwd, reps)));
    const qs = [train.B, train.S, train.H, train.Dh];
    const ks = [train.B, train.L, train.KVH, train.Dh];
    const bwd = prepareAttentionBackward(rt, {
      ...train,
      ...t,
      dOut: rt.upload('do', filled(train.B * train.S * train.H * train.Dh, 4), qs),
      dq: rt.tensor('dq', qs),
      dk: rt.tensor('dk', ks),
      dv: rt.tensor('dv', ks),
    });
    out.push(entry('attention_backward', dimsText(train), bwd, await time(rt, bwd, reps)));

    const decode: AttentionDims = full
      ? { B: 4, S: 1, H: 9, KVH: 3, Dh: 64, L: 1024, past: 1023 }
      : { B: 1, S: 1, H: 4, KVH: 2, Dh: 64, L: 256, past: 255 };
    const dec = [
      prepareAttentionForward(rt, {
        ...decode,
        ...attentionTensors(rt, decode),
      }),
    ];
    out.push(entry('attention_decode', dimsText(decode), dec, await time(rt, dec, reps)));

    // Fused LM head + cross-entropy, forward and d_hidden.
    const [T, D, V, chunk] = full ? [256, 576, 49152, 8192] : [32, 64, 1024, 512];
    const targets = new Uint32Array(T).map((_, i) => (i * 7919) % V);
    const ce = prepareCrossEntropy(rt, {
      hidden: rt.upload('h', filled(T * D, 5), [T, D]),
      weight: rt.upload('w', filled(V * D, 6, 0.05), [V, D]),
      targets: rt.upload('y', targets, [T]),
      T,
      D,
      V,
      chunk,
      loss: rt.tensor('loss', [T]),
      mean: rt.tensor('mean', [1]),
      dHidden: rt.tensor('dh', [T, D]),
    });
    out.push(
      entry('cross_entropy_fused', `T=${T} D=${D} V=${V} chunk=${chunk}`, ce, await time(rt, ce, reps), {
        scratchMiB: (T * chunk * 4) / 2 ** 20,
      }),
    );

    // AdamW with the global-norm clip over ~1M parameters.
    const n = full ? 4 * 2 ** 20 : 2 ** 20;
    const hyper = rt.tensor('hyper', [4]);
    writeAdamWHyper(rt, hyper, 1, 1e-4);
    const adam = prepareAdamW(rt, {
      params: rt.upload('p', filled(n, 7), [n]),
      grads: rt.upload('g', filled(n, 8, 1e-3), [n]),
      m: rt.tensor('m', [n]),
      v: rt.tensor('v', [n]),
      n,
      hyper,
      status: rt.tensor('status', [4]),
    });
    out.push(entry('adamw_step', `n=${n}`, adam, await time(rt, adam, reps)));
  } finally {
    rt.destroy();
  }
  return out;
}
