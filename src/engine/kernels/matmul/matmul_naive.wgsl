// #include "matmul_common.wgsl"

// Version 1 (prelude: matmul_common.wgsl): one invocation per output element. The reference every faster
// version is checked against.

@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;

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
  store(b, row, col, acc * p.alpha);
}
