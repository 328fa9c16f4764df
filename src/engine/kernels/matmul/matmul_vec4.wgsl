// C[b] = alpha · op(A[b]) · op(B[b]) (+ bias) (+ C[b] when ACCUMULATE) — same contract as matmul_naive.wgsl.
// Version 3: 64×64 output tile per workgroup of 16×16 invocations; each invocation keeps a 4×4 block of
// outputs in registers. Tiles of A and B are loaded from global memory as vec4 along each operand's
// contiguous dimension, so that dimension must be a multiple of 4 (K for A and for transposed B, M for
// transposed A, N for plain B); prepareMatmul falls back to the tiled version otherwise. Rows and columns
// outside M, N and the K tail are bounds-checked, so M, N need not be multiples of anything.

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
@group(0) @binding(1) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;
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

const TM = 64u;
const TK = 16u;
// k-major tiles: As[k][m], Bs[k][n], so the inner loop reads 4 consecutive m (or n) as one vec4.
var<workgroup> As: array<vec4<f32>, 256>; // [TK][TM/4]
var<workgroup> Bs: array<vec4<f32>, 256>; // [TK][TN/4]

fn tile(wg: vec3<u32>, li: u32, l: vec3<u32>) -> array<vec4<f32>, 4> {
  let m0 = wg.y * TM;
  let n0 = wg.x * TM;
  let a0 = wg.z * p.strideA / 4u;
  let b0 = wg.z * p.strideB / 4u;
  var acc: array<vec4<f32>, 4>;
  for (var i = 0u; i < 4u; i++) { acc[i] = vec4<f32>(0.0); }

  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    // Stage A: 64 × 16 floats = 256 vec4 loads, one per invocation.
    if (TRANS_A) {
      // A stored [K, M]: vec4 along m.
      let k = li / 16u;
      let mq = li % 16u;
      var v = vec4<f32>(0.0);
      if (k0 + k < p.K && m0 + mq * 4u < p.M) { v = A[a0 + ((k0 + k) * p.M + m0) / 4u + mq]; }
      As[k * 16u + mq] = v;
    } else {
      // A stored [M, K]: vec4 along k, scattered into the k-major tile.
      let m = li / 4u;
      let kq = li % 4u;
      var v = vec4<f32>(0.0);
      if (m0 + m < p.M && k0 + kq * 4u < p.K) { v = A[a0 + ((m0 + m) * p.K + k0) / 4u + kq]; }
      for (var j = 0u; j < 4u; j++) { As[(kq * 4u + j) * 16u + m / 4u][m % 4u] = v[j]; }
    }
    if (TRANS_B) {
      // B stored [N, K] (HF weights): vec4 along k.
      let n = li / 4u;
      let kq = li % 4u;
      var v = vec4<f32>(0.0);
      if (n0 + n < p.N && k0 + kq * 4u < p.K) { v = B[b0 + ((n0 + n) * p.K + k0) / 4u + kq]; }
      for (var j = 0u; j < 4u; j++) { Bs[(kq * 4u + j) * 16u + n / 4u][n % 4u] = v[j]; }
    } else {
      // B stored [K, N]: vec4 along n.
      let k = li / 16u;
      let nq = li % 16u;
      var v = vec4<f32>(0.0);
      if (k0 + k < p.K && n0 + nq * 4u < p.N) { v = B[b0 + ((k0 + k) * p.N + n0) / 4u + nq]; }
      Bs[k * 16u + nq] = v;
    }
    workgroupBarrier();
    for (var k = 0u; k < TK; k++) {
      let a = As[k * 16u + l.y];
      let b = Bs[k * 16u + l.x];
      acc[0] += a.x * b;
      acc[1] += a.y * b;
      acc[2] += a.z * b;
      acc[3] += a.w * b;
    }
    workgroupBarrier();
  }

  return acc;
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32,
        @builtin(local_invocation_id) l: vec3<u32>) {
  let acc = tile(wg, li, l);
  for (var i = 0u; i < 4u; i++) {
    let row = wg.y * TM + l.y * 4u + i;
    if (row >= p.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      let col = wg.x * TM + l.x * 4u + j;
      if (col >= p.N) { break; }
      store(wg.z, row, col, acc[i][j] * p.alpha);
    }
  }
}

@compute @workgroup_size(16, 16, 1)
fn main_lora(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32,
             @builtin(local_invocation_id) l: vec3<u32>) {
  let acc = tile(wg, li, l);
  for (var i = 0u; i < 4u; i++) {
    let row = wg.y * TM + l.y * 4u + i;
    if (row >= p.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      let col = wg.x * TM + l.x * 4u + j;
      if (col >= p.N) { break; }
      store(wg.z, row, col, acc[i][j] * p.alpha + loraTerm(row, col));
    }
  }
}

@compute @workgroup_size(16, 16, 1)
fn main_lora_dx(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32,
             @builtin(local_invocation_id) l: vec3<u32>) {
  let acc = tile(wg, li, l);
  for (var i = 0u; i < 4u; i++) {
    let row = wg.y * TM + l.y * 4u + i;
    if (row >= p.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      let col = wg.x * TM + l.x * 4u + j;
      if (col >= p.N) { break; }
      store(wg.z, row, col, acc[i][j] * p.alpha + loraDxTerm(row, col));
    }
  }
}
