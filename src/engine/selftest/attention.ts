// Runs this engine's attention, loss, scoring and optimizer kernels once on small awkward shapes against
// their CPU references on the current device (the app and the browser e2e suite call it). A private
// Runtime on the same device keeps the caller's counters and buffers untouched; everything is freed after.
import { prepareAttentionBackward, prepareAttentionForward, type AttentionDims } from '../kernels/attention/attention';
import { attentionBackwardRef, attentionForwardRef } from '../kernels/attention/attention.ref';
import { IGNORE_INDEX, prepareCrossEntropy } from '../kernels/cross_entropy/cross_entropy';
import { crossEntropyRef } from '../kernels/cross_entropy/cross_entropy.ref';
import { prepareCandidateLogProbs } from '../kernels/scoring/scoring';
import { candidateLogProbsRef } from '../kernels/scoring/scoring.ref';
import { prepareAdamW, writeAdamWHyper } from '../optim/adamw';
import { adamWStepRef } from '../optim/adamw.ref';
import { GpuRuntime } from '../runtime';
import { uniformArray as uniformRandom } from '../random';
import type { SelfTestResult } from './types';

function result(name: string, got: ArrayLike<number>, want: ArrayLike<number>, tolerance: number): SelfTestResult {
  let maxAbsError = got.length === want.length ? 0 : Infinity;
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i] - want[i]);
    maxAbsError = Number.isNaN(e) ? Infinity : Math.max(maxAbsError, e);
  }
  return { name, maxAbsError, tolerance, ok: maxAbsError <= tolerance };
}

export async function selfTestAttention(rt: GpuRuntime): Promise<SelfTestResult[]> {
  const t = new GpuRuntime(rt.engine);
  try {
    return [...(await attention(t)), ...(await loss(t)), ...(await adamw(t))];
  } finally {
    t.destroy();
  }
}

async function attention(rt: GpuRuntime): Promise<SelfTestResult[]> {
  // GQA ratio 3, S = 67 crosses the 64-key tile, left padding in the second sequence.
  const a: AttentionDims & { kvStart: number[] } = {
    B: 2,
    S: 67,
    H: 3,
    KVH: 1,
    Dh: 24,
    L: 67,
    past: 0,
    kvStart: [0, 5],
  };
  const qs = [a.B, a.S, a.H, a.Dh];
  const ks = [a.B, a.L, a.KVH, a.Dh];
  const q = uniformRandom(a.B * a.S * a.H * a.Dh, 1);
  const k = uniformRandom(a.B * a.L * a.KVH * a.Dh, 2);
  const v = uniformRandom(k.length, 3);
  const dO = uniformRandom(q.length, 4);
  const T = {
    q: rt.upload('q', q, qs),
    k: rt.upload('k', k, ks),
    v: rt.upload('v', v, ks),
    kvStart: rt.upload('kvStart', new Uint32Array(a.kvStart), [a.B]),
    out: rt.tensor('o', qs),
    lse: rt.tensor('lse', [a.B, a.H, a.S]),
  };
  const dq = rt.tensor('dq', qs);
  const dk = rt.tensor('dk', ks);
  const dv = rt.tensor('dv', ks);
  rt.run([
    prepareAttentionForward(rt, { ...a, ...T }),
    ...prepareAttentionBackward(rt, {
      ...a,
      ...T,
      dOut: rt.upload('do', dO, qs),
      dq,
      dk,
      dv,
    }),
  ]);
  const fwd = attentionForwardRef(q, k, v, a);
  const bwd = attentionBackwardRef(q, k, v, dO, a);
  // Decode: one token against a cache with past = 70.
  const d: AttentionDims & { kvStart: number[] } = {
    B: 1,
    S: 1,
    H: 7,
    KVH: 1,
    Dh: 64,
    L: 80,
    past: 70,
    kvStart: [2],
  };
  const dq1 = uniformRandom(d.H * d.Dh, 5);
  const dk1 = uniformRandom(d.L * d.Dh, 6);
  const dv1 = uniformRandom(d.L * d.Dh, 7);
  const dOut = rt.tensor('decode o', [1, 1, d.H, d.Dh]);
  rt.run([
    prepareAttentionForward(rt, {
      ...d,
      q: rt.upload('dq', dq1, [1, 1, d.H, d.Dh]),
      k: rt.upload('dk', dk1, [1, d.L, 1, d.Dh]),
      v: rt.upload('dv', dv1, [1, d.L, 1, d.Dh]),
      kvStart: rt.upload('dks', new Uint32Array(d.kvStart), [1]),
      out: dOut,
      lse: rt.tensor('decode lse', [1, d.H, 1]),
    }),
  ]);
  // f32 sums over ≤ 67 keys (× 3 heads for dK/dV) of O(1) terms.
  return [
    result('attention forward (GQA 3, S=67, left padding)', await rt.readF32(T.out), fwd.out, 1e-4),
    result('attention LSE', await rt.readF32(T.lse), fwd.lse, 1e-4),
    result('attention backward dQ', await rt.readF32(dq), bwd.dq, 5e-4),
    result('attention backward dK', await rt.readF32(dk), bwd.dk, 5e-4),
    result('attention backward dV', await rt.readF32(dv), bwd.dv, 5e-4),
    result('attention decode (S=1, past=70, GQA 7)', await rt.readF32(dOut), attentionForwardRef(dq1, dk1, dv1, d).out, 1e-4),
  ];
}

async function loss(rt: GpuRuntime): Promise<SelfTestResult[]> {
  const [T, D, V, chunk] = [5, 20, 600, 256];
  const hidden = uniformRandom(T * D, 11);
  const w = uniformRandom(V * D, 12, 0.5);
  const targets = new Uint32Array([3, IGNORE_INDEX, 599, 256, 255]);
  const H = rt.upload('h', hidden, [T, D]);
  const W = rt.upload('w', w, [V, D]);
  const lossT = rt.tensor('loss', [T]);
  const dH = rt.tensor('dh', [T, D]);
  rt.run(
    prepareCrossEntropy(rt, {
      hidden: H,
      weight: W,
      targets: rt.upload('y', targets, [T]),
      T,
      D,
      V,
      chunk,
      loss: lossT,
      mean: rt.tensor('mean', [1]),
      dHidden: dH,
    }),
  );
  const want = crossEntropyRef(hidden, w, targets, T, D, V);
  const cands = new Uint32Array([10, 11, 12, 13]);
  const out = rt.tensor('cand', [T, 4]);
  rt.run(
    prepareCandidateLogProbs(rt, {
      hidden: H,
      weight: W,
      V,
      D,
      R: T,
      chunk,
      candidates: rt.upload('c', cands, [4]),
      C: 4,
      out,
    }),
  );
  // Logits of 20 f32 terms, log Σ exp over 600 terms.
  return [
    result('cross-entropy loss (V=600, chunk 256, ignored token)', await rt.readF32(lossT), want.loss, 1e-4),
    result('cross-entropy d_hidden', await rt.readF32(dH), want.dHidden, 1e-5),
    result('candidate log-probs', await rt.readF32(out), candidateLogProbsRef(hidden, w, cands, T, D, V), 1e-4),
  ];
}

async function adamw(rt: GpuRuntime): Promise<SelfTestResult[]> {
  const n = 1000;
  const p0 = uniformRandom(n, 21);
  const params = rt.upload('params', p0, [n]);
  const grads = rt.tensor('grads', [n]);
  const hyper = rt.tensor('hyper', [4]);
  const ops = prepareAdamW(rt, {
    params,
    grads,
    m: rt.tensor('m', [n]),
    v: rt.tensor('v', [n]),
    n,
    hyper,
    status: rt.tensor('status', [4]),
    config: { weightDecay: 0.1, maxGradNorm: 1 },
  });
  const ref = {
    p: Float64Array.from(p0),
    m: new Float64Array(n),
    v: new Float64Array(n),
  };
  for (let step = 1; step <= 3; step++) {
    const g = uniformRandom(n, 30 + step, step === 2 ? 1 : 0.01);
    rt.write(grads, g);
    writeAdamWHyper(rt, hyper, step, 0.01);
    rt.run(ops);
    adamWStepRef(ref.p, g, ref.m, ref.v, step, 0.01, {
      weightDecay: 0.1,
      maxGradNorm: 1,
    });
  }
  // Three f32 updates of size ≤ lr on O(1) parameters.
  return [result('AdamW (3 steps, one clipped)', await rt.readF32(params), ref.p, 1e-5)];
}
