// Stage 2 of the global gradient norm: sum the per-workgroup partials in a fixed order and write
// status = (‖g‖², ‖g‖, nonFinite ? 1 : 0, clip coefficient). Clipping follows torch's clip_grad_norm_:
// coef = min(1, maxNorm / (‖g‖ + 1e-6)); maxNorm ≤ 0 disables it. Non-finite is tested on the bits
// (exponent all ones), which no fast-math rewrite can fold away.

struct Params { groups: u32, maxNorm: f32, _a: u32, _b: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> status: array<f32>;

const WG = 256u;
var<workgroup> red: array<f32, WG>;

fn nonFinite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u;
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) tid: u32) {
  var s = 0.0;
  for (var i = tid; i < p.groups; i += WG) { s += partials[i]; }
  red[tid] = s;
  workgroupBarrier();
  for (var w = WG / 2u; w > 0u; w >>= 1u) {
    if (tid < w) { red[tid] += red[tid + w]; }
    workgroupBarrier();
  }
  if (tid == 0u) {
    let sq = red[0];
    let norm = sqrt(sq);
    let bad = nonFinite(sq);
    var coef = 1.0;
    if (p.maxNorm > 0.0 && !bad) { coef = min(1.0, p.maxNorm / (norm + 1e-6)); }
    status[0] = sq;
    status[1] = norm;
    status[2] = select(0.0, 1.0, bad);
    status[3] = coef;
  }
}
