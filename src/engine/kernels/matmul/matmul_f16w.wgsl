// C[b] = alpha · op(A[b]) · op(B[b]) (+ bias) (+ C[b] when ACCUMULATE) with B held as packed f16:
// two halves per u32 (element e in word e/2, low half first), unpacked with WGSL's core
// `unpack2x16float`, so it needs no shader-f16 feature and halves the memory of frozen weights.
// A, bias and C are f32; accumulation is f32. B is usually a weight [N, K] = [out, in] (TRANS_B), or
// [K, N] for the backward dX = dY·W.
// Same 64×64 register-blocked scheme as matmul_vec4, with scalar, bounds-checked global loads so any
// shape works (an f16 weight cannot be read as vec4<f32> anyway).

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
@group(0) @binding(2) var<storage, read> B: array<u32>;
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
var<workgroup> As: array<vec4<f32>, 256>; // [TK][TM/4]
var<workgroup> Bs: array<vec4<f32>, 256>; // [TK][TN/4]

fn half(e: u32) -> f32 {
  let w = unpack2x16float(B[e >> 1u]);
  return select(w.x, w.y, (e & 1u) == 1u);
}

fn tile(wg: vec3<u32>, li: u32, l: vec3<u32>) -> array<vec4<f32>, 4> {
  let m0 = wg.y * TM;
  let n0 = wg.x * TM;
  let a0 = wg.z * p.strideA;
  let b0 = wg.z * p.strideB;
  var acc: array<vec4<f32>, 4>;
  for (var i = 0u; i < 4u; i++) { acc[i] = vec4<f32>(0.0); }

  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    // 1024 elements of each tile, 4 per invocation. Index decomposition keeps the stored matrix's
    // contiguous dimension on the fast lanes.
    for (var r = 0u; r < 4u; r++) {
      let e = r * 256u + li;
      var m: u32; var k: u32;
      if (TRANS_A) { k = e / TM; m = e % TM; } else { m = e / TK; k = e % TK; }
      var v = 0.0;
      let gm = m0 + m;
      let gk = k0 + k;
      if (gm < p.M && gk < p.K) {
        if (TRANS_A) { v = A[a0 + gk * p.M + gm]; } else { v = A[a0 + gm * p.K + gk]; }
      }
      As[k * 16u + m / 4u][m % 4u] = v;
    }
    for (var r = 0u; r < 4u; r++) {
      let e = r * 256u + li;
      var n: u32; var k: u32;
      if (TRANS_B) { n = e / TK; k = e % TK; } else { k = e / TM; n = e % TM; }
      var v = 0.0;
      let gn = n0 + n;
      let gk = k0 + k;
      if (gn < p.N && gk < p.K) {
        if (TRANS_B) { v = half(b0 + gn * p.K + gk); } else { v = half(b0 + gk * p.N + gn); }
      }
      Bs[k * 16u + n / 4u][n % 4u] = v;
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
