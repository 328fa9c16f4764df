// Sum the split-K slices of the LM head gradient in a fixed order: out[i] = Σ_z partials[z·n + i].

struct Params { n: u32, splits: u32, _a: u32, _b: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  var s = 0.0;
  for (var z = 0u; z < p.splits; z++) { s += partials[z * p.n + i]; }
  out[i] = s;
}
