// RMSNorm forward, as Hugging Face Llama computes it (in f32):
//   rstd[t] = 1 / sqrt(mean_d x[t,d]² + eps);  y[t,d] = w[d] · x[t,d] · rstd[t]
// One workgroup of 64 per row (row t = wid.x + wid.y·65535): strided loads, a tree reduction in
// workgroup memory. rstd is saved for the backward.

// #include "rmsnorm_common.wgsl"
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> rstd: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  // #include "rmsnorm_row.wgsl"
  for (var d = li; d < p.D; d += 64u) {
    let v = x[base + d];
    s += v * v;
  }
  // #include "../common/workgroup_sum.wgsl" {"RED": "red", "I": "li", "V": "s", "HALF": "32u"}
  let r = inverseSqrt(red[0] / f32(p.D) + p.eps);
  for (var d = li; d < p.D; d += 64u) {
    y[base + d] = w[d] * (x[base + d] * r);
  }
  if (li == 0u) { rstd[t] = r; }
}
