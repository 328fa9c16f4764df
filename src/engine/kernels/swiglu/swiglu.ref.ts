/** CPU references for swiglu.wgsl (fused [T, 2F] gate|up layout), in f64. */
type Num = ArrayLike<number>;

const sigmoid = (g: number) => 1 / (1 + Math.exp(-g));

export function swigluRef(gu: Num, T: number, F: number): Float64Array {
  const h = new Float64Array(T * F);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < F; j++) {
      const g = gu[t * 2 * F + j];
      h[t * F + j] = g * sigmoid(g) * gu[t * 2 * F + F + j];
    }
  }
  return h;
}

/** dgu [T, 2F] = [dgate | dup]. */
export function swigluBackwardRef(gu: Num, dh: Num, T: number, F: number): Float64Array {
  const dgu = new Float64Array(T * 2 * F);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < F; j++) {
      const g = gu[t * 2 * F + j];
      const u = gu[t * 2 * F + F + j];
      const s = sigmoid(g);
      const d = dh[t * F + j];
      dgu[t * 2 * F + j] = d * u * s * (1 + g * (1 - s));
      dgu[t * 2 * F + F + j] = d * g * s;
    }
  }
  return dgu;
}
