/** CPU references for rmsnorm.wgsl / rmsnorm_backward.wgsl, in f64. */
type Num = ArrayLike<number>;

export function rmsNormRef(x: Num, w: Num, T: number, D: number, eps: number): { y: Float64Array; rstd: Float64Array } {
  const y = new Float64Array(T * D);
  const rstd = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    let s = 0;
    for (let d = 0; d < D; d++) s += x[t * D + d] ** 2;
    const r = 1 / Math.sqrt(s / D + eps);
    rstd[t] = r;
    for (let d = 0; d < D; d++) y[t * D + d] = w[d] * x[t * D + d] * r;
  }
  return { y, rstd };
}

/** dx for a frozen weight (analytic). */
export function rmsNormBackwardRef(x: Num, w: Num, dy: Num, T: number, D: number, eps: number): Float64Array {
  const { rstd } = rmsNormRef(x, w, T, D, eps);
  const dx = new Float64Array(T * D);
  for (let t = 0; t < T; t++) {
    const r = rstd[t];
    let s = 0;
    for (let d = 0; d < D; d++) s += dy[t * D + d] * w[d] * x[t * D + d];
    for (let d = 0; d < D; d++) dx[t * D + d] = r * dy[t * D + d] * w[d] - (r ** 3 * x[t * D + d] * s) / D;
  }
  return dx;
}
