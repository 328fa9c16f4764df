// #include "../lora/dropout.wgsl"

// Prelude of every matmul version (each version's file includes it first; it includes dropout.wgsl):
// C[b] = alpha · op(A[b]) · op(B[b]) (+ bias) (+ C[b] when ACCUMULATE)
// op(A) is [M, K]: A is stored [M, K], or [K, M] when TRANS_A.
// op(B) is [K, N]: B is stored [K, N], or [N, K] when TRANS_B (Hugging Face's [out, in] weights).
// Each version declares A (binding 1) and B (binding 2) itself, with the element type it loads them as,
// and its entry points; everything else (uniforms, bias, C, the LoRA epilogue terms, the store) is here.

override TRANS_A: bool = false;
override TRANS_B: bool = true;
override HAS_BIAS: bool = false;
override ACCUMULATE: bool = false;
// RESIDUAL: + R[row, col], an [M, N] tensor bound where the bias goes (training's o/down projections add the
// residual stream this way instead of in a separate dispatch; those projections have no bias).
override RESIDUAL: bool = false;

struct Params {
  M: u32, N: u32, K: u32, alpha: f32,
  strideA: u32, strideB: u32, strideC: u32, _pad: u32,
  loraRank: u32, loraScale: f32, _p1: u32, _p2: u32,
  salt: u32, threshold: u32, keepScale: f32, _p3: u32,
  // gemv's `main_fused` / `main_fused3` only (matmul_gemv.wgsl): the RMSNorm epsilon, the start of up in a
  // gate|up A (in vec4s), and a table of up to three output parts of one product (q|k|v, gate|up).
  eps: f32, upOffset4: u32, _p4: u32, _p5: u32,
  colEnd: vec4<u32>, wStart: vec4<u32>, outStart: vec4<u32>, biasStart: vec4<u32>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> C: array<f32>;
// Entry point `main_lora` only (batch 1): the LoRA up-projection fused into the epilogue,
// C += loraScale · U[row, :]·LB[col, :] with U = dropout(x)·Aᵀ [M, r] and LB = lora_B [N, r].
// (`main_lora_dx` binds G [M, r] and lora_A [r, N] at the same two bindings.)
// An entry point that does not call loraTerm / loraDxTerm leaves bindings 5-7 out of its layout.
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

// The epilogue after alpha (and any LoRA term): + bias, + the old C when accumulating, then the store.
fn store(z: u32, row: u32, col: u32, v0: f32) {
  var v = v0;
  let ci = z * p.strideC + row * p.N + col;
  if (HAS_BIAS) { v += bias[col]; }
  if (RESIDUAL) { v += bias[ci]; }
  if (ACCUMULATE) { v += C[ci]; }
  C[ci] = v;
}
