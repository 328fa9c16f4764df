// RMSNorm backward with a frozen weight (no dw):
//   g = dy ⊙ w;  dx = rstd · g − rstd³ · x · (Σ_d g·x) / D
// (from y = w ⊙ x · (mean(x²)+eps)^-½). With ACCUMULATE, dx += … — the residual stream's gradient
// arrives there already, so the add costs no extra dispatch. One workgroup of 64 per row.

override ACCUMULATE: bool = false;

// #include "rmsnorm_common.wgsl"
@group(0) @binding(3) var<storage, read> rstd: array<f32>;
@group(0) @binding(4) var<storage, read> dy: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  // #include "rmsnorm_row.wgsl"
  for (var d = li; d < p.D; d += 64u) {
    s += dy[base + d] * w[d] * x[base + d];
  }
  // #include "../common/workgroup_sum.wgsl" {"RED": "red", "I": "li", "V": "s", "HALF": "32u"}
  let r = rstd[t];
  let c = r * r * r * red[0] / f32(p.D);
  for (var d = li; d < p.D; d += 64u) {
    var v = r * dy[base + d] * w[d] - c * x[base + d];
    if (ACCUMULATE) { v += dx[base + d]; }
    dx[base + d] = v;
  }
}
