// C[b] = alpha · op(A[b]) · op(B[b]) (+ bias) (+ C[b] when ACCUMULATE) — same contract as matmul_naive.wgsl.
// Version 2: 16×16 output tile per workgroup; A and B are staged through workgroup memory in 16-wide
// K slices, so each global element is read once per tile instead of once per output. Any shape (bounds
// checked), any transposition.

override TRANS_A: bool = false;
override TRANS_B: bool = true;
override HAS_BIAS: bool = false;
override ACCUMULATE: bool = false;

struct Params {
  M: u32, N: u32, K: u32, alpha: f32,
  strideA: u32, strideB: u32, strideC: u32, _pad: u32,
  loraRank: u32, loraScale: f32, _p1: u32, _p2: u32,
  salt: u32, threshold: u32, keepScale: f32, _p3: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> C: array<f32>;
// Entry point `main_lora` only (batch 1): the LoRA up-projection fused into the epilogue,
// C += loraScale · U[row, :]·LB[col, :] with U = dropout(x)·Aᵀ [M, r] and LB = lora_B [N, r].
// (`main_lora_dx` binds G [M, r] and lora_A [r, N] at the same two bindings.)
@group(0) @binding(5) var<storage, read> U: array<f32>;
@group(0) @binding(6) var<storage, read> LB: array<f32>;

fn loraTerm(row: u32, col: u32) -> f32 {
  var s = 0.0;
  for (var j = 0u; j < p.loraRank; j++) { s += U[row * p.loraRank + j] * LB[col * p.loraRank + j]; }
  return p.loraScale * s;
}

// Entry point `main_lora_dx` only (batch 1): the LoRA input-gradient term fused into dX = dY·W,
// C += m(row, col) · G[row, :]·LA[:, col] with G = s·dY·B [M, r], LA = lora_A [r, N], and m the dropout
// multiplier of x[row, col] (dropout.wgsl; threshold 0 and keepScale 1 when there is no dropout).
@group(0) @binding(7) var<storage, read> dropoutState: array<u32>; // [seed, step]

fn loraDxTerm(row: u32, col: u32) -> f32 {
  var s = 0.0;
  for (var j = 0u; j < p.loraRank; j++) { s += U[row * p.loraRank + j] * LB[j * p.N + col]; }
  let key = dropoutKey(dropoutState[0], dropoutState[1], p.salt);
  return s * dropoutScale(key, row * p.N + col, p.threshold, p.keepScale);
}

fn store(z: u32, row: u32, col: u32, v0: f32) {
  var v = v0;
  if (HAS_BIAS) { v += bias[col]; }
  let ci = z * p.strideC + row * p.N + col;
  if (ACCUMULATE) { v += C[ci]; }
  C[ci] = v;
}

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
