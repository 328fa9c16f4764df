/**
 * Scoring on a plan: the hidden state of chosen rows (gathered with the embedding kernel, the residual
 * stream as its table) → final norm → candidate log-probs or full logits; or the whole batch → final
 * norm → per-token log-probs of given targets (continuations). Heads are prepared once per plan and
 * cached on it, so a steady-state scoring batch only writes ids, encodes and reads one small result.
 */
import { IGNORE_INDEX } from '../engine/kernels/cross_entropy/cross_entropy';
import { prepareEmbedding } from '../engine/kernels/embedding/embedding';
import { prepareRmsNorm } from '../engine/kernels/rmsnorm/rmsnorm';
import { prepareCandidateLogProbs, prepareFullLogits, prepareTargetLogProbs } from '../engine/kernels/scoring/scoring';
import type { Op, Tensor } from '../engine/runtime';
import type { GpuWeights, Plan } from './transformer';

/** The head cached on `plan` under `key`, prepared by `make` the first time it is asked for. */
function cachedHead<H>(plan: Plan, key: string, make: () => H): H {
  let h = plan.heads.get(key) as H | undefined;
  if (!h) plan.heads.set(key, (h = make()));
  return h;
}

export interface RowsHead {
  /** u32 [R]: token index b·S + s of each row. */
  rows: Tensor;
  /** f32 [R, D]: final-normed hidden states of the rows. */
  normed: Tensor;
  ops: Op[];
}

function rowsHead(plan: Plan, w: GpuWeights, R: number): RowsHead {
  return cachedHead(plan, `rows${R}`, () => {
    const rt = plan.rt;
    const D = w.spec.hiddenSize;
    const rows = rt.tensor('score rows', [R], 'u32');
    const gathered = rt.tensor('score hidden', [R, D]);
    const normed = rt.tensor('score normed', [R, D]);
    const rstd = rt.tensor('score rstd', [R]);
    const ops = [
      prepareEmbedding(rt, { ids: rows, table: plan.hidden, out: gathered, T: R, D, V: plan.T }),
      prepareRmsNorm(rt, { x: gathered, weight: w.finalNorm, y: normed, rstd, T: R, D, eps: w.spec.rmsNormEps }),
    ];
    return { rows, normed, ops };
  });
}

export interface CandidateHead {
  rows: Tensor;
  candidates: Tensor;
  /** f32 [R, C]. */
  out: Tensor;
  ops: Op[];
}

/** Log-probs of C candidate ids at R chosen rows (one read-back of R·C floats). */
export function candidateHead(plan: Plan, w: GpuWeights, R: number, C: number): CandidateHead {
  return cachedHead(plan, `cand${R}x${C}`, () => {
    const rt = plan.rt;
    const rh = rowsHead(plan, w, R);
    const candidates = rt.tensor('candidates', [C], 'u32');
    const out = rt.tensor('candidate logprobs', [R, C]);
    const ops = [
      ...rh.ops,
      ...prepareCandidateLogProbs(rt, { ...w.lmHead, hidden: rh.normed, R, candidates, C, out, scratch: plan.ceScratch(R) }),
    ];
    return { rows: rh.rows, candidates, out, ops };
  });
}

export interface LogitsHead {
  rows: Tensor;
  /** f32 [R, V]. */
  out: Tensor;
  ops: Op[];
}

/** All logits of R chosen rows (generation, verification). */
export function logitsHead(plan: Plan, w: GpuWeights, R: number): LogitsHead {
  return cachedHead(plan, `logits${R}`, () => {
    const rt = plan.rt;
    const rh = rowsHead(plan, w, R);
    const out = rt.tensor('logits', [R, w.spec.vocabSize]);
    return { rows: rh.rows, out, ops: [...rh.ops, prepareFullLogits(rt, { ...w.lmHead, hidden: rh.normed, R, out })] };
  });
}

export interface TargetHead {
  /** u32 [T]: target of each token, IGNORE_INDEX where not scored. */
  targets: Tensor;
  /** f32 [T]: −log p(target). */
  nll: Tensor;
  ops: Op[];
}

/** −log p(target) of every token of the batch (continuation scoring). */
export function targetHead(plan: Plan, w: GpuWeights): TargetHead {
  return cachedHead(plan, 'targets', () => {
    const rt = plan.rt;
    const { T } = plan;
    const D = w.spec.hiddenSize;
    const normed = rt.tensor('final normed', [T, D]);
    const rstd = rt.tensor('final rstd', [T]);
    const targets = rt.tensor('targets', [T], 'u32');
    const nll = rt.tensor('nll', [T]);
    const mean = rt.tensor('nll mean', [1]);
    const ops = [
      prepareRmsNorm(rt, { x: plan.hidden, weight: w.finalNorm, y: normed, rstd, T, D, eps: w.spec.rmsNormEps }),
      ...prepareTargetLogProbs(rt, { ...w.lmHead, hidden: normed, R: T, targets, nll, mean, scratch: plan.ceScratch(T) }),
    ];
    return { targets, nll, ops };
  });
}

/** Token ids, positions and (optionally) targets of a right-padded batch, as the plan's uploads want them. */
export function packBatch(
  seqs: readonly (readonly number[])[],
  B: number,
  S: number,
  past: number,
): { ids: Uint32Array; positions: Uint32Array } {
  const ids = new Uint32Array(B * S);
  const positions = new Uint32Array(B * S);
  for (let b = 0; b < B; b++) {
    const s = seqs[b] ?? [];
    if (s.length > S) throw new Error(`batch: a sequence of ${s.length} tokens exceeds ${S}`);
    for (let i = 0; i < S; i++) {
      ids[b * S + i] = i < s.length ? s[i] : 0;
      positions[b * S + i] = past + i;
    }
  }
  return { ids, positions };
}

export { IGNORE_INDEX };
export const roundUp = (n: number, m: number): number => Math.max(m, Math.ceil(n / m) * m);
