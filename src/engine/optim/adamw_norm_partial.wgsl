// Stage 1 of the global gradient norm: partials[g] = Σ grad² over a grid-strided slice of the flat
// gradient buffer (a fixed number of workgroups, so stage 2 is one workgroup and the sum's order is fixed).

struct Params { n: u32, _a: u32, _b: u32, _c: u32 }

@group(0) @binding(0) var<uniform> p: Params;

const WG = 256u;
var<workgroup> red: array<f32, WG>;

@group(0) @binding(1) var<storage, read> gradsN: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32,
                @builtin(num_workgroups) nwg: vec3<u32>) {
  var s = 0.0;
  let stride = nwg.x * WG;
  for (var i = wid.x * WG + tid; i < p.n; i += stride) {
    let g = gradsN[i];
    s += g * g;
  }
  red[tid] = s;
  workgroupBarrier();
  for (var w = WG / 2u; w > 0u; w >>= 1u) {
    if (tid < w) { red[tid] += red[tid + w]; }
    workgroupBarrier();
  }
  if (tid == 0u) { partials[wid.x] = red[0]; }
}
