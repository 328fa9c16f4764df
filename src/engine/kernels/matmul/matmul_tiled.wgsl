// #include "matmul_common.wgsl"

// Version 2 (prelude: matmul_common.wgsl): 16×16 output tile per workgroup; A and B are staged through
// workgroup memory in 16-wide K slices, so each global element is read once per tile instead of once per
// output. Any shape (bounds checked), any transposition.

@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;

const T = 16u;
var<workgroup> As: array<f32, 256>; // [m][k]
var<workgroup> Bs: array<f32, 256>; // [k][n]

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
  let row = wg.y * T + l.y;
  let col = wg.x * T + l.x;
  let b = wg.z;
  let a0 = b * p.strideA;
  let b0 = b * p.strideB;
  var acc = 0.0;
  for (var k0 = 0u; k0 < p.K; k0 += T) {
    // Each invocation stages one element of each tile. For TRANS_A / !TRANS_B the fast index l.x walks the
    // contiguous dimension of the stored matrix, so the loads stay coalesced.
    if (TRANS_A) {
      As[l.x * T + l.y] = loadA(a0, wg.y * T + l.x, k0 + l.y);
    } else {
      As[l.y * T + l.x] = loadA(a0, row, k0 + l.x);
    }
    if (TRANS_B) {
      Bs[l.x * T + l.y] = loadB(b0, k0 + l.x, wg.x * T + l.y);
    } else {
      Bs[l.y * T + l.x] = loadB(b0, k0 + l.y, col);
    }
    workgroupBarrier();
    for (var k = 0u; k < T; k++) {
      acc += As[l.y * T + k] * Bs[k * T + l.x];
    }
    workgroupBarrier();
  }
  return acc;
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
