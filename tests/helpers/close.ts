// Comparison and data helpers shared by the GPU suite (tests/helpers/gpu.ts re-exports them) and the CPU
// backend's kernel tests in the unit suite (which must not load Dawn).

/** Deterministic pseudo-random numbers in [-scale, scale) (mulberry32; uniform, despite the name). */
export { uniformArray as randn } from '../../src/engine/random';

/** max |a - b| / (atol + rtol·|b|) ≤ 1 everywhere; returns the worst element for the message. */
export function closeTo(a: ArrayLike<number>, b: ArrayLike<number>, atol: number, rtol = 0): { ok: boolean; worst: string } {
  if (a.length !== b.length) return { ok: false, worst: `length ${a.length} vs ${b.length}` };
  let worstRatio = 0;
  let worst = '';
  for (let i = 0; i < a.length; i++) {
    const err = Math.abs(a[i] - b[i]);
    const ratio = err / (atol + rtol * Math.abs(b[i]));
    if (!(ratio <= worstRatio) ) {
      worstRatio = Number.isNaN(ratio) ? Infinity : ratio;
      worst = `[${i}] got ${a[i]} want ${b[i]} (|Δ| ${err.toExponential(2)})`;
    }
  }
  return { ok: worstRatio <= 1, worst };
}
