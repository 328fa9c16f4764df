// #include "dropout.wgsl"

// The small LoRA products, with the dropout mask applied where x enters (16×16 tiles: matmul_tiled's loop,
// ../matmul/tile16_loop.wgsl, over this file's masked loadA / loadB):
//   C = alpha · op(A) · op(B)   (+ C when ACCUMULATE)
// MASK says which operand is x [T, in] and gets the mask m(t, k) = dropoutScale(t·in + k):
//   0: none (no dropout);  1: A is x [M=T, K=in]            → u  = dropout(x)·Aᵀ
//   2: B is x [K=T, N=in]                                     → dA = gᵀ·dropout(x)
// (dX's masked term is fused into the dX = dY·W matmul instead: matmul's `main_lora_dx`.)
// xCols = in. dropout.wgsl is always included; bind an unused buffer at 4 when MASK = 0.

override TRANS_A: bool = false;
override TRANS_B: bool = true;
override ACCUMULATE: bool = false;
override MASK: u32 = 0u;

struct Params {
  M: u32, N: u32, K: u32, alpha: f32,
  xCols: u32, salt: u32, threshold: u32, keepScale: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@group(0) @binding(4) var<storage, read> dropoutState: array<u32>; // [seed, step]

const T = 16u;
var<workgroup> As: array<f32, 256>; // [m][k]
var<workgroup> Bs: array<f32, 256>; // [k][n]

fn mask(key: u32, row: u32, col: u32) -> f32 {
  return dropoutScale(key, row * p.xCols + col, p.threshold, p.keepScale);
}

fn loadA(key: u32, m: u32, k: u32) -> f32 {
  if (m >= p.M || k >= p.K) { return 0.0; }
  var v: f32;
  if (TRANS_A) { v = A[k * p.M + m]; } else { v = A[m * p.K + k]; }
  if (MASK == 1u) { v *= mask(key, m, k); }
  return v;
}

fn loadB(key: u32, k: u32, n: u32) -> f32 {
  if (n >= p.N || k >= p.K) { return 0.0; }
  var v: f32;
  if (TRANS_B) { v = B[n * p.K + k]; } else { v = B[k * p.N + n]; }
  if (MASK == 2u) { v *= mask(key, k, n); }
  return v;
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
  var key = 0u;
  if (MASK != 0u) { key = dropoutKey(dropoutState[0], dropoutState[1], p.salt); }
  let row = wg.y * T + l.y;
  let col = wg.x * T + l.x;
  var acc = 0.0;
  // #include "../matmul/tile16_loop.wgsl" {"A0": "key", "B0": "key"}
  if (row >= p.M || col >= p.N) { return; }
  acc *= p.alpha;
  let ci = row * p.N + col;
  if (ACCUMULATE) { acc += C[ci]; }
  C[ci] = acc;
}
