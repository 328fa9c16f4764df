// RMSNorm forward, as Hugging Face Llama computes it (in f32):
//   rstd[t] = 1 / sqrt(mean_d x[t,d]² + eps);  y[t,d] = w[d] · x[t,d] · rstd[t]
// One workgroup of 64 per row (row t = wid.x + wid.y·65535): strided loads, a tree reduction in
// workgroup memory. rstd is saved for the backward.

struct Params { T: u32, D: u32, eps: f32, _pad: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> rstd: array<f32>;

var<workgroup> red: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let t = wid.y * 65535u + wid.x;
  if (t >= p.T) { return; } // uniform per workgroup, so the barriers below stay uniform
  let base = t * p.D;
  var s = 0.0;
  for (var d = li; d < p.D; d += 64u) {
    let v = x[base + d];
    s += v * v;
  }
  red[li] = s;
  workgroupBarrier();
  for (var k = 32u; k > 0u; k >>= 1u) {
    if (li < k) { red[li] += red[li + k]; }
    workgroupBarrier();
  }
  let r = inverseSqrt(red[0] / f32(p.D) + p.eps);
  for (var d = li; d < p.D; d += 64u) {
    y[base + d] = w[d] * (x[base + d] * r);
  }
  if (li == 0u) { rstd[t] = r; }
}
