/** CPU references for elementwise.wgsl, in f64. */
type Num = ArrayLike<number>;

export function addRef(x: Num, y: Num, alpha = 1, beta = 1): Float64Array {
  return Float64Array.from(y, (v, i) => beta * v + alpha * x[i]);
}

export function scaleRef(x: Num, alpha: number): Float64Array {
  return Float64Array.from(x, (v) => alpha * v);
}
