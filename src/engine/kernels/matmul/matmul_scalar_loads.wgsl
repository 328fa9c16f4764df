// The bounds-checked scalar loads of the versions that stage A and B element by element (matmul_tiled.wgsl,
// matmul_f16w.wgsl): op(A)[m, k] and op(B)[k, n] of the batch starting at a0 / b0, 0 outside the matrix.
// A is f32; B's element e is the version's own bElement(e) (an f32, or one half of a packed u32).
fn loadA(a0: u32, m: u32, k: u32) -> f32 {
  if (m >= p.M || k >= p.K) { return 0.0; }
  if (TRANS_A) { return A[a0 + k * p.M + m]; }
  return A[a0 + m * p.K + k];
}

fn loadB(b0: u32, k: u32, n: u32) -> f32 {
  if (n >= p.N || k >= p.K) { return 0.0; }
  if (TRANS_B) { return bElement(b0 + n * p.K + k); }
  return bElement(b0 + k * p.N + n);
}
