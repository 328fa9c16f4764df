// Version 2 (prelude: matmul_common.wgsl, matmul_tile16.wgsl): 16×16 output tile per workgroup; A and B are
// staged through workgroup memory in 16-wide K slices (tile16), so each global element is read once per tile
// instead of once per output. Any shape (bounds checked), any transposition.

@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;

// a0, b0: the batch slice's offsets.
fn loadA(a0: u32, m: u32, k: u32) -> f32 {
  if (m >= p.M || k >= p.K) { return 0.0; }
  if (TRANS_A) { return A[a0 + k * p.M + m]; }
  return A[a0 + m * p.K + k];
}

fn loadB(b0: u32, k: u32, n: u32) -> f32 {
  if (n >= p.N || k >= p.K) { return 0.0; }
  if (TRANS_B) { return B[b0 + n * p.K + k]; }
  return B[b0 + k * p.N + n];
}

fn tile(wg: vec3<u32>, l: vec3<u32>) -> f32 {
  return tile16(wg, l, wg.z * p.strideA, wg.z * p.strideB);
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
  let acc = tile(wg, l);
  let row = wg.y * T + l.y;
  let col = wg.x * T + l.x;
  if (row >= p.M || col >= p.N) { return; }
  store(wg.z, row, col, acc * p.alpha);
}

@compute @workgroup_size(16, 16, 1)
fn main_lora(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
  let acc = tile(wg, l);
  let row = wg.y * T + l.y;
  let col = wg.x * T + l.x;
  if (row >= p.M || col >= p.N) { return; }
  store(wg.z, row, col, acc * p.alpha + loraTerm(row, col));
}

@compute @workgroup_size(16, 16, 1)
fn main_lora_dx(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
  let acc = tile(wg, l);
  let row = wg.y * T + l.y;
  let col = wg.x * T + l.x;
  if (row >= p.M || col >= p.N) { return; }
  store(wg.z, row, col, acc * p.alpha + loraDxTerm(row, col));
}
