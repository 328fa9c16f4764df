import { ceilDiv, type Op, type Runtime, type Tensor } from '../../runtime';
import { prepareMatmul, type MatmulArgs } from '../matmul/matmul';
import { wgsl } from '../wgsl';
import { loraMatmulCpu } from './lora.cpu';

const loraMatmulCode = wgsl('kernels/lora/lora_matmul.wgsl');

/**
 * LoRA linear (PEFT layout), x [T, in] → y [T, out]:
 *   y = x·Wᵀ + b + s·(dropout(x)·Aᵀ)·Bᵀ,   A [r, in], B [out, r], s = alpha/r.
 * W is frozen, f32 or packed f16 (dtype 'f16'). Dropout uses a mask regenerated from a hash (see
 * dropout.wgsl), so the backward needs only u = dropout(x)·Aᵀ [T, r], which the forward saves.
 */
export interface LoraDropout {
  /** Drop probability, 0 ≤ p < 1 (PEFT's lora_dropout). */
  p: number;
  /** u32 [2] = [seed, step]; write the step each training step (rt.write), the ops read it. */
  state: Tensor;
  /** Distinct per LoRA module (e.g. layer·8 + projection), so modules draw independent masks. */
  salt: number;
}

export interface LoraDims {
  T: number;
  inDim: number;
  outDim: number;
  rank: number;
  /** alpha / r. */
  scale: number;
  /** Absent or p = 0: no dropout (evaluation, or lora_dropout = 0). */
  dropout?: LoraDropout;
}

export interface LoraForwardArgs extends LoraDims {
  /** f32 [T, in]. */
  x: Tensor;
  /** Frozen base weight [out, in], f32 or packed f16. */
  weight: Tensor;
  /** f32 [out], optional. */
  bias?: Tensor;
  /** f32 [r, in] (often a view into the flat parameter buffer). */
  loraA: Tensor;
  /** f32 [out, r]. */
  loraB: Tensor;
  /** f32 [T, r], written: dropout(x)·Aᵀ, kept for the backward. */
  u: Tensor;
  /** y = … + residual (training's o_proj / down_proj: the residual stream added in the same dispatch). */
  residual?: Tensor;
  /** f32 [T, out], written — or added to with `accumulate` (o_proj / down_proj into the residual stream). */
  y: Tensor;
  accumulate?: boolean;
}

export interface LoraBackwardArgs extends LoraDims {
  x: Tensor;
  weight: Tensor;
  loraA: Tensor;
  loraB: Tensor;
  /** The forward's u [T, r]. */
  u: Tensor;
  /** f32 [T, out]. */
  dy: Tensor;
  /** f32 [T, r] scratch: g = s·dY·B. */
  g: Tensor;
  /** f32 [T, in], optional (omit where nothing upstream needs it). */
  dx?: Tensor;
  /** dx += … (e.g. q, k and v projections summing into one input gradient). */
  accumulateDx?: boolean;
  /** f32 [r, in] and [out, r]: views into the flat gradient buffer (rt.view). */
  dA: Tensor;
  dB: Tensor;
  /** dA += …, dB += … (gradient accumulation over micro-batches). */
  accumulateGrads?: boolean;
}

type Mask = 0 | 1 | 2;

/** A product for lora_matmul: matmul's arguments without bias, batch or epilogue, plus the dropout mask. */
interface SmallMatmul extends Pick<MatmulArgs, 'a' | 'b' | 'out' | 'M' | 'N' | 'K' | 'transA' | 'transB' | 'alpha' | 'accumulate'> {
  mask: Mask;
}

function dropoutParams(d: LoraDims): { on: boolean; threshold: number; keepScale: number } {
  const p = d.dropout?.p ?? 0;
  if (!(p >= 0 && p < 1)) throw new Error(`lora: dropout p = ${p} must be in [0, 1)`);
  return { on: p > 0, threshold: Math.min(0xffffffff, Math.round(p * 2 ** 32)), keepScale: 1 / (1 - p) };
}

/** One lora_matmul dispatch (16×16 tiles; x masked where MASK says). */
function prepareLoraMatmul(rt: Runtime, d: LoraDims, m: SmallMatmul, name: string): Op {
  const { on, threshold, keepScale } = dropoutParams(d);
  const mask: Mask = on ? m.mask : 0;
  const { M, N, K, transA = false, transB = true, alpha = 1, accumulate = false } = m;
  const label = `lora_${name} ${M}x${N}x${K}`;
  // The mask hash: ~10 integer ops per masked element, counted as flops (it is ALU work).
  const masked = mask === 1 ? M * K * ceilDiv(N, 16) : mask === 2 ? K * N * ceilDiv(M, 16) : 0;
  const flops = 2 * M * N * K + 10 * masked;
  const bytes = 4 * (M * K + K * N + M * N * (accumulate ? 2 : 1));
  if (rt.kind === 'cpu') {
    const dropout = mask ? { state: d.dropout!.state, salt: d.dropout!.salt, threshold, keepScale } : undefined;
    return rt.op(label, flops, bytes, loraMatmulCpu(rt, { ...m, mask, dropout }));
  }
  const pipeline = rt.pipeline(label, loraMatmulCode, {
    TRANS_A: Number(transA),
    TRANS_B: Number(transB),
    ACCUMULATE: Number(accumulate),
    MASK: mask,
  });
  const params = rt.uniform(`${label} params`, [M, N, K, alpha, d.inDim, d.dropout?.salt ?? 0, threshold, keepScale], 'uuufuuuf');
  const state = mask ? d.dropout!.state : rt.empty;
  return {
    label,
    pipeline,
    bindGroup: rt.bindGroup(pipeline, [params, m.a, m.b, m.out, state], label),
    workgroups: [ceilDiv(N, 16), ceilDiv(M, 16), 1],
    flops,
    bytes,
  };
}

/**
 * Forward: 2 dispatches — u = dropout(x)·Aᵀ; then y = x·Wᵀ + b + s·u·Bᵀ, the LoRA term fused into the
 * base matmul's epilogue (r extra multiply-adds per output, no extra pass over y).
 */
export function prepareLoraForward(rt: Runtime, a: LoraForwardArgs): Op[] {
  const { T, inDim, outDim, rank } = a;
  return [
    prepareLoraMatmul(rt, a, { a: a.x, b: a.loraA, out: a.u, M: T, N: rank, K: inDim, mask: 1 }, 'down'),
    prepareMatmul(rt, {
      a: a.x, b: a.weight, bias: a.bias, residual: a.residual, out: a.y, M: T, N: outDim, K: inDim, accumulate: a.accumulate,
      lora: { kind: 'up', u: a.u, loraB: a.loraB, rank, scale: a.scale },
    }),
  ];
}

/**
 * Backward: g = s·dY·B; dX (+)= dY·W + m ⊙ (g·A) (the LoRA term fused into the matmul's epilogue);
 * dA (+)= gᵀ·dropout(x); dB (+)= s·dYᵀ·u. 4 dispatches with dx, 3 without.
 */
export function prepareLoraBackward(rt: Runtime, a: LoraBackwardArgs): Op[] {
  const { T, inDim, outDim, rank, scale, accumulateGrads = false } = a;
  const ops: Op[] = [prepareMatmul(rt, { a: a.dy, b: a.loraB, out: a.g, M: T, N: rank, K: outDim, transB: false, alpha: scale })];
  if (a.dx) {
    const { on, threshold, keepScale } = dropoutParams(a);
    const dropout = on ? { state: a.dropout!.state, salt: a.dropout!.salt, threshold, keepScale } : undefined;
    ops.push(
      prepareMatmul(rt, {
        a: a.dy, b: a.weight, out: a.dx, M: T, N: inDim, K: outDim, transB: false, accumulate: a.accumulateDx,
        lora: { kind: 'dx', g: a.g, loraA: a.loraA, rank, dropout },
      }),
    );
  }
  ops.push(
    prepareLoraMatmul(
      rt,
      a,
      { a: a.g, b: a.x, out: a.dA, M: rank, N: inDim, K: T, transA: true, transB: false, accumulate: accumulateGrads, mask: 2 },
      'dA',
    ),
    prepareMatmul(rt, { a: a.dy, b: a.u, out: a.dB, M: outDim, N: rank, K: T, transA: true, transB: false, alpha: scale, accumulate: accumulateGrads }),
  );
  return ops;
}
