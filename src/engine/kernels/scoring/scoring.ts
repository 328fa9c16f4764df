import type { Op, Runtime, Tensor } from '../../runtime';
import { wgsl } from '../wgsl';
import { candidateLogProbsCpu } from '../cross_entropy/cross_entropy.cpu';
import {
  crossEntropyScratch,
  DEFAULT_CHUNK,
  prepareCrossEntropy,
  prepareLmHeadLogits,
  prepareSoftmaxPass,
  type CrossEntropyScratch,
  type LmHeadWeight,
} from '../cross_entropy/cross_entropy';

const code = wgsl('kernels/scoring/candidate_logprobs.wgsl');

/** Rows to score: e.g. the hidden state (after the final norm) at the last prompt position of each item. */
export interface ScoringRows extends LmHeadWeight {
  /** f32 [R, D]. */
  hidden: Tensor;
  R: number;
  /** Vocabulary columns per chunk (default 4096; scratch [R, chunk]). */
  chunk?: number;
  scratch?: CrossEntropyScratch;
}

export interface CandidateLogProbsArgs extends ScoringRows {
  /** u32 [C]: candidate token ids (e.g. the option letters), the same for every row. */
  candidates: Tensor;
  C: number;
  /** f32 [R, C]: log softmax(h_r·Wᵀ)[cand_c] (about −3.4e38 for an id ≥ V). */
  out: Tensor;
}

/**
 * (a) Log-probabilities of C candidate tokens per row: the chunked softmax pass over V (2 dispatches per
 * chunk, never an [R, V] buffer) and one gather dispatch (grid [C, R]).
 */
export function prepareCandidateLogProbs(rt: Runtime, args: CandidateLogProbsArgs): Op[] {
  const { R, C, D } = args;
  const chunk = Math.min(args.chunk ?? DEFAULT_CHUNK, args.V);
  const scratch = args.scratch ?? crossEntropyScratch(rt, R, chunk);
  const ops = prepareSoftmaxPass(rt, args, args.hidden, undefined, scratch, R, chunk);
  const label = `candidate_logprobs R${R} C${C}`;
  const flops = 2 * R * C * D;
  const bytes = 4 * R * C * D + R * C * D * (args.packedF16 ? 2 : 4) + 4 * (C + 2 * R + R * C);
  if (rt.kind === 'cpu') {
    ops.push(rt.op(label, flops, bytes, candidateLogProbsCpu(args, args.hidden, args.candidates, scratch.stats, args.out, R, C)));
    return ops;
  }
  const pipeline = rt.pipeline('candidate_logprobs', code, {
    W_F16: Number(Boolean(args.packedF16)),
  });
  const params = rt.uniform(`candidate_logprobs R${R} C${C} params`, [R, D, C, args.V]);
  ops.push({
    label,
    pipeline,
    bindGroup: rt.bindGroup(pipeline, [params, args.hidden, args.weight, args.candidates, scratch.stats, args.out]),
    workgroups: [C, R, 1],
    flops,
    bytes,
  });
  return ops;
}

export interface TargetLogProbsArgs extends ScoringRows {
  /** u32 [R]: the token whose probability is wanted; IGNORE_INDEX rows give 0. */
  targets: Tensor;
  /** f32 [R]: −log p(target) (the cross-entropy's per-token loss; negate for log p). */
  nll: Tensor;
  /** f32 [≥1]: mean of nll over counted rows. */
  mean: Tensor;
}

/** (b) Continuation scoring: the fused cross-entropy's forward half (2·⌈V/chunk⌉ + 1 dispatches). */
export function prepareTargetLogProbs(rt: Runtime, args: TargetLogProbsArgs): Op[] {
  return prepareCrossEntropy(rt, {
    ...args,
    T: args.R,
    loss: args.nll,
    mean: args.mean,
  });
}

export interface FullLogitsArgs extends LmHeadWeight {
  hidden: Tensor;
  R: number;
  /** f32 [R, V]. */
  out: Tensor;
}

/** (c) All logits of a few rows (generation): one dispatch, grid [⌈V/64⌉, ⌈R/64⌉]. */
export function prepareFullLogits(rt: Runtime, args: FullLogitsArgs): Op {
  return prepareLmHeadLogits(rt, args, args.hidden, args.out, args.R, 0, args.V, args.V);
}
