// Finite-difference gradient checks for the CPU references (f64 throughout).

/** Central differences of the scalar `f` at `x`: ∂f/∂x_i ≈ (f(x + h e_i) − f(x − h e_i)) / 2h. */
export function fdGrad(f: (x: Float64Array) => number, x: ArrayLike<number>, h = 1e-6): Float64Array {
  const p = Float64Array.from(x);
  const g = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) {
    const v = p[i];
    p[i] = v + h;
    const fp = f(p);
    p[i] = v - h;
    const fm = f(p);
    p[i] = v;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

/** Σ a ⊙ b: turns a vector output into the scalar loss L = ⟨y, dy⟩, whose gradient the backward computes. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
