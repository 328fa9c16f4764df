import { ceilDiv, type Op, type Runtime, type Tensor } from '../runtime';
import { wgsl } from '../kernels/wgsl';
import { adamWCpu } from './adamw.cpu';
import type { AdamWConfig, AdamWArgs } from './adamw.types';

export type { AdamWConfig, AdamWArgs } from './adamw.types';

export const ADAMW_DEFAULTS: AdamWConfig = {
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0.01,
  maxGradNorm: 1,
};

/** Words of the per-step `hyper` buffer: [lr, step, 1−β₁^step, 1−β₂^step] (step is 1-based, as torch's). */
export const ADAMW_HYPER_WORDS = 4;
/** Words of the status buffer: [‖g‖², ‖g‖, nonFinite (0 | 1), clip coefficient]. */
export const ADAMW_STATUS_WORDS = 4;
/** Workgroups of the first norm stage (fixed so that the reduction order, hence the result, is fixed). */
export const NORM_GROUPS = 256;

export function adamWHyperWords(step: number, lr: number, config: Partial<AdamWConfig> = {}): Float32Array {
  const c = { ...ADAMW_DEFAULTS, ...config };
  return new Float32Array([lr, step, 1 - c.beta1 ** step, 1 - c.beta2 ** step]);
}

/** Set the learning rate and the (1-based) step for the next update: one 16-byte writeBuffer, no allocation. */
export function writeAdamWHyper(rt: Runtime, hyper: Tensor, step: number, lr: number, config: Partial<AdamWConfig> = {}): void {
  if (step < 1) throw new Error(`AdamW steps count from 1 (got ${step})`);
  rt.write(hyper, adamWHyperWords(step, lr, config));
}

/**
 * Prepare one optimizer step: global gradient norm (two-stage reduction), then AdamW with the clip
 * coefficient and the non-finite check taken from that GPU value (no read-back). Three dispatches.
 * After running, status holds [‖g‖², ‖g‖, flag, coef]: a set flag means nothing was updated — the caller
 * reads it with the loss and throws NonFiniteError.
 */
export function prepareAdamW(rt: Runtime, args: AdamWArgs): Op[] {
  const { n } = args;
  const c = { ...ADAMW_DEFAULTS, ...args.config };
  for (const t of [args.params, args.grads, args.m, args.v]) {
    if (t.shape.reduce((a, b) => a * b, 1) < n) throw new Error(`AdamW: ${t.label} holds fewer than ${n} elements`);
  }
  const partials = args.partials ?? rt.tensor('adamw norm partials', [NORM_GROUPS]);
  if (rt.kind === 'cpu') {
    const [norm1, norm2, update] = adamWCpu(args, c, partials);
    return [
      rt.op(`adamw_norm_partial n${n}`, 2 * n, 4 * (n + NORM_GROUPS), norm1),
      rt.op('adamw_norm_final', NORM_GROUPS + 8, 4 * (NORM_GROUPS + ADAMW_STATUS_WORDS), norm2),
      rt.op(`adamw_update n${n}`, 16 * n, 4 * 7 * n, update),
    ];
  }

  const p1 = rt.pipeline('adamw_norm_partial', wgsl('optim/adamw_norm_partial.wgsl'));
  const norm1: Op = {
    label: `adamw_norm_partial n${n}`,
    pipeline: p1,
    bindGroup: rt.bindGroup(p1, [rt.uniform('adamw norm params', [n, 0, 0, 0]), args.grads, partials]),
    workgroups: [NORM_GROUPS, 1, 1],
    flops: 2 * n,
    bytes: 4 * (n + NORM_GROUPS),
  };
  const p2 = rt.pipeline('adamw_norm_final', wgsl('optim/adamw_norm_final.wgsl'));
  const norm2: Op = {
    label: 'adamw_norm_final',
    pipeline: p2,
    bindGroup: rt.bindGroup(p2, [rt.uniform('adamw final params', [NORM_GROUPS, c.maxGradNorm, 0, 0], 'uf'), partials, args.status]),
    workgroups: [1, 1, 1],
    flops: NORM_GROUPS + 8,
    bytes: 4 * (NORM_GROUPS + ADAMW_STATUS_WORDS),
  };
  const p3 = rt.pipeline('adamw_update', wgsl('optim/adamw_update.wgsl'));
  const groups = ceilDiv(n, 256);
  const update: Op = {
    label: `adamw_update n${n}`,
    pipeline: p3,
    bindGroup: rt.bindGroup(p3, [
      rt.uniform('adamw update params', [n, c.beta1, c.beta2, c.eps, c.weightDecay, 0, 0, 0], 'uffff'),
      args.hyper,
      args.status,
      args.params,
      args.grads,
      args.m,
      args.v,
    ]),
    workgroups: [Math.min(groups, 65535), ceilDiv(groups, 65535), 1],
    flops: 16 * n,
    // Reads θ, g, m, v and writes θ, m, v.
    bytes: 4 * 7 * n,
  };
  return [norm1, norm2, update];
}
