// Pass 1 of the chunked softmax: fold one vocabulary chunk of logits Z [T, ldz] (columns 0 … C−1 are
// tokens v0 … v0+C−1) into each row's running (max m, Σ exp(z − m)) and pick up the target's logit.
// stats: [T, 4] = (m, l, z_target, 0). One workgroup of 256 per row (grid [min(T, 65535), ⌈T/65535⌉]).

override HAS_TARGETS: bool = true;

struct Params { T: u32, C: u32, v0: u32, ldz: u32, first: u32, _a: u32, _b: u32, _c: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Z: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<u32>;
@group(0) @binding(3) var<storage, read_write> stats: array<f32>;

const WG = 256u;
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let t = wid.x + wid.y * 65535u;
  if (t >= p.T) { return; }
  let row = t * p.ldz;
  var mx = -3.0e38;
  for (var c = tid; c < p.C; c += WG) { mx = max(mx, Z[row + c]); }
  red[tid] = mx;
  workgroupBarrier();
  for (var w = WG / 2u; w > 0u; w >>= 1u) {
    if (tid < w) { red[tid] = max(red[tid], red[tid + w]); }
    workgroupBarrier();
  }
  let mc = red[0];
  workgroupBarrier();
  var se = 0.0;
  for (var c = tid; c < p.C; c += WG) { se += exp(Z[row + c] - mc); }
  // #include "../common/workgroup_sum.wgsl" {"RED": "red", "I": "tid", "V": "se", "HALF": "WG / 2u"}
  if (tid == 0u) {
    let lc = red[0];
    if (p.first != 0u) {
      stats[t * 4u] = mc;
      stats[t * 4u + 1u] = lc;
      stats[t * 4u + 2u] = 0.0;
    } else {
      let m = stats[t * 4u];
      let mn = max(m, mc);
      stats[t * 4u] = mn;
      stats[t * 4u + 1u] = stats[t * 4u + 1u] * exp(m - mn) + lc * exp(mc - mn);
    }
    if (HAS_TARGETS) {
      let y = targets[t];
      if (y >= p.v0 && y < p.v0 + p.C) { stats[t * 4u + 2u] = Z[row + y - p.v0]; }
    }
  }
}
