// log softmax of a few candidate tokens per row: out[r, c] = h_r · W[cand[c]] − logsumexp_r, where
// logsumexp_r = m + log l comes from the chunked softmax pass (stats [R, 4], see ce_stats.wgsl).
// One workgroup of 64 per (candidate c, row r): grid [C, R]. W as in lm_head_matmul.wgsl (f32 or f16 pairs).

override W_F16: bool = false;

struct Params { R: u32, D: u32, C: u32, V: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<u32>;
@group(0) @binding(3) var<storage, read> cand: array<u32>;
@group(0) @binding(4) var<storage, read> stats: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

const WG = 64u;
var<workgroup> red: array<f32, WG>;

// #include "../cross_entropy/lm_head_weight.wgsl"

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let c = wid.x;
  let r = wid.y;
  let v = min(cand[c], p.V - 1u);
  var acc = 0.0;
  for (var d = tid; d < p.D; d += WG) { acc += X[r * p.D + d] * w(v, d); }
  // #include "../common/workgroup_sum.wgsl" {"RED": "red", "I": "tid", "V": "acc", "HALF": "WG / 2u"}
  if (tid == 0u) {
    let lse = stats[r * 4u] + log(stats[r * 4u + 1u]);
    // An out-of-range candidate id reads −3.4e38 (about −∞) rather than another token's value.
    out[r * p.C + c] = select(-3.4e38, red[0] - lse, cand[c] < p.V);
  }
}
