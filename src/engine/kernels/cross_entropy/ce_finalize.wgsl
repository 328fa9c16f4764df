// After pass 1: loss[t] = log Σ exp(z) − z_target (0 when targets[t] is ignored: 0xFFFFFFFF or ≥ V),
// the mean over counted tokens (0 when none), and (count, 1/count) after the [T, 4] stats for pass 2.
// One workgroup; a fixed-order tree sum, so the mean is deterministic.

struct Params { T: u32, V: u32, _a: u32, _b: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> targets: array<u32>;
@group(0) @binding(2) var<storage, read_write> stats: array<f32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> mean: array<f32>;

const WG = 256u;
var<workgroup> sums: array<f32, WG>;
var<workgroup> counts: array<f32, WG>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) tid: u32) {
  var s = 0.0;
  var n = 0.0;
  for (var t = tid; t < p.T; t += WG) {
    let y = targets[t];
    var l = 0.0;
    if (y < p.V) {
      l = stats[t * 4u] + log(stats[t * 4u + 1u]) - stats[t * 4u + 2u];
      s += l;
      n += 1.0;
    }
    loss[t] = l;
  }
  sums[tid] = s;
  counts[tid] = n;
  workgroupBarrier();
  for (var w = WG / 2u; w > 0u; w >>= 1u) {
    if (tid < w) {
      sums[tid] += sums[tid + w];
      counts[tid] += counts[tid + w];
    }
    workgroupBarrier();
  }
  if (tid == 0u) {
    let c = counts[0];
    mean[0] = select(0.0, sums[0] / c, c > 0.0);
    stats[p.T * 4u] = c;
    stats[p.T * 4u + 1u] = select(0.0, 1.0 / c, c > 0.0);
  }
}
