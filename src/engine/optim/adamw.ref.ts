import { ADAMW_DEFAULTS, type AdamWConfig } from './adamw';

/**
 * CPU reference of one optimizer step as PyTorch does it: torch.nn.utils.clip_grad_norm_(max_norm)
 * then torch.optim.AdamW.step() (decoupled decay, bias correction; f64 arithmetic). Mutates params, m, v.
 * Returns the global norm and whether it was finite (when not, nothing changes — the engine's contract).
 */
export function adamWStepRef(
  params: Float64Array,
  grads: ArrayLike<number>,
  m: Float64Array,
  v: Float64Array,
  step: number,
  lr: number,
  config: Partial<AdamWConfig> = {},
): { norm: number; finite: boolean } {
  const c = { ...ADAMW_DEFAULTS, ...config };
  let sq = 0;
  for (let i = 0; i < params.length; i++) sq += grads[i] * grads[i];
  const norm = Math.sqrt(sq);
  if (!Number.isFinite(sq)) return { norm, finite: false };
  const coef = c.maxGradNorm > 0 ? Math.min(1, c.maxGradNorm / (norm + 1e-6)) : 1;
  const bc1 = 1 - c.beta1 ** step;
  const bc2 = 1 - c.beta2 ** step;
  for (let i = 0; i < params.length; i++) {
    const g = grads[i] * coef;
    params[i] *= 1 - lr * c.weightDecay;
    m[i] = c.beta1 * m[i] + (1 - c.beta1) * g;
    v[i] = c.beta2 * v[i] + (1 - c.beta2) * g * g;
    params[i] -= (lr / bc1) * (m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + c.eps));
  }
  return { norm, finite: true };
}
