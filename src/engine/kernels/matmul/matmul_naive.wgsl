// C[b] = alpha · op(A[b]) · op(B[b]) (+ bias) (+ C[b] when ACCUMULATE)
// op(A) is [M, K]: A is stored [M, K], or [K, M] when TRANS_A.
// op(B) is [K, N]: B is stored [K, N], or [N, K] when TRANS_B (Hugging Face's [out, in] weights).
// Version 1: one invocation per output element. The reference every faster version is checked against.

override TRANS_A: bool = false;
override TRANS_B: bool = true;
override HAS_BIAS: bool = false;
override ACCUMULATE: bool = false;

struct Params {
  M: u32, N: u32, K: u32, alpha: f32,
  strideA: u32, strideB: u32, strideC: u32, _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> C: array<f32>;

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let col = g.x;
  let row = g.y;
  let b = g.z;
  if (row >= p.M || col >= p.N) { return; }
  let a0 = b * p.strideA;
  let b0 = b * p.strideB;
  var acc = 0.0;
  for (var k = 0u; k < p.K; k++) {
    var av: f32;
    if (TRANS_A) { av = A[a0 + k * p.M + row]; } else { av = A[a0 + row * p.K + k]; }
    var bv: f32;
    if (TRANS_B) { bv = B[b0 + col * p.K + k]; } else { bv = B[b0 + k * p.N + col]; }
    acc += av * bv;
  }
  acc *= p.alpha;
  if (HAS_BIAS) { acc += bias[col]; }
  let ci = b * p.strideC + row * p.N + col;
  if (ACCUMULATE) { acc += C[ci]; }
  C[ci] = acc;
}
