// #include "matmul_common.wgsl"

// C = alpha · op(A) · op(B) (+ bias) (+ C) on subgroup matrices (tensor cores: Vulkan's cooperative
// matrices, Metal's simdgroup matrices), through Dawn's `chromium-experimental-subgroup-matrix`.
// matmul.ts puts the directives (enable f16, the extension, the uniformity diagnostic) in front of the
// prelude, and replaces SG_M, SG_N, SG_K (the adapter's f16 × f16 → f32 configuration, which must be
// const-expressions) and SG_LANES (its one subgroup size) with numbers.
//
// One subgroup per workgroup computes a (2·SG_M) × (2·SG_N) tile of C as 2 × 2 result matrices. Each step
// of KT = 2·SG_K stages op(A) and op(B) tiles as f16 in workgroup memory (bounds-checked, zero padded, so
// every shape works and every load offset is a plain uniform value), then multiplies-accumulates in f32.
// The results go through a small workgroup scratch to the prelude's epilogue (alpha, bias, accumulate,
// bounds). A is f32 (rounded to f16 here); B is f32 or packed f16 (F16B: two halves per u32, low first).
// Subgroup-matrix calls sit in workgroup-uniform control flow (loop bounds from uniforms only).

override F16B: bool = true;

@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<u32>;

const SM = SG_M;
const SN = SG_N;
const SK = SG_K;
const LANES = SG_LANES;
const TM = 2u * SM;
const TN = 2u * SN;
const KT = 2u * SK;

var<workgroup> As: array<f16, TM * KT>; // op(A) tile, row-major [TM][KT]
var<workgroup> Bs: array<f16, KT * TN>; // op(B) tile, row-major [KT][TN]
var<workgroup> Cs: array<f32, SM * SN>; // one result matrix on its way to the epilogue

// op(A)[z][m, k], 0 outside.
fn aAt(z: u32, m: u32, k: u32) -> f32 {
  if (m >= p.M || k >= p.K) { return 0.0; }
  return A[z * p.strideA + select(m * p.K + k, k * p.M + m, TRANS_A)];
}

// op(B)[z][k, n], 0 outside.
fn bAt(z: u32, k: u32, n: u32) -> f32 {
  if (k >= p.K || n >= p.N) { return 0.0; }
  let i = z * p.strideB + select(k * p.N + n, n * p.K + k, TRANS_B);
  if (F16B) { return unpack2x16float(B[i / 2u])[i % 2u]; }
  return bitcast<f32>(B[i]);
}

// Result matrix `c` (rows r0…, columns c0… of C) through Cs to the epilogue. All lanes call it.
fn emit(z: u32, li: u32, r0: u32, c0: u32) {
  workgroupBarrier();
  for (var i = li; i < SM * SN; i += LANES) {
    let r = r0 + i / SN;
    let col = c0 + i % SN;
    if (r < p.M && col < p.N) { store(z, r, col, p.alpha * Cs[i]); }
  }
  workgroupBarrier();
}

@compute @workgroup_size(LANES, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let z = wg.z;
  let m0 = wg.y * TM;
  let n0 = wg.x * TN;
  var c00 = subgroup_matrix_result<f32, SN, SM>();
  var c01 = subgroup_matrix_result<f32, SN, SM>();
  var c10 = subgroup_matrix_result<f32, SN, SM>();
  var c11 = subgroup_matrix_result<f32, SN, SM>();
  for (var k0 = 0u; k0 < p.K; k0 += KT) {
    for (var i = li; i < TM * KT; i += LANES) { As[i] = f16(aAt(z, m0 + i / KT, k0 + i % KT)); }
    for (var i = li; i < KT * TN; i += LANES) { Bs[i] = f16(bAt(z, k0 + i / TN, n0 + i % TN)); }
    workgroupBarrier();
    for (var kk = 0u; kk < KT; kk += SK) {
      let a0 = subgroupMatrixLoad<subgroup_matrix_left<f16, SK, SM>>(&As, kk, false, KT);
      let a1 = subgroupMatrixLoad<subgroup_matrix_left<f16, SK, SM>>(&As, SM * KT + kk, false, KT);
      let b0 = subgroupMatrixLoad<subgroup_matrix_right<f16, SN, SK>>(&Bs, kk * TN, false, TN);
      let b1 = subgroupMatrixLoad<subgroup_matrix_right<f16, SN, SK>>(&Bs, kk * TN + SN, false, TN);
      c00 = subgroupMatrixMultiplyAccumulate(a0, b0, c00);
      c01 = subgroupMatrixMultiplyAccumulate(a0, b1, c01);
      c10 = subgroupMatrixMultiplyAccumulate(a1, b0, c10);
      c11 = subgroupMatrixMultiplyAccumulate(a1, b1, c11);
    }
    workgroupBarrier();
  }
  subgroupMatrixStore(&Cs, 0u, c00, false, SN);
  emit(z, li, m0, n0);
  subgroupMatrixStore(&Cs, 0u, c01, false, SN);
  emit(z, li, m0, n0 + SN);
  subgroupMatrixStore(&Cs, 0u, c10, false, SN);
  emit(z, li, m0 + SM, n0);
  subgroupMatrixStore(&Cs, 0u, c11, false, SN);
  emit(z, li, m0 + SM, n0 + SN);
}
