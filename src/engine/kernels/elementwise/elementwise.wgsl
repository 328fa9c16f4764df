// Elementwise ops on f32 vectors of n elements (entry points share the bindings):
//   add:   y = y·beta + alpha·x      (the residual add is beta = alpha = 1)
//   copy:  y = x
//   scale: y = alpha·y
// Larger fusions (residual add into RMSNorm's backward, bias into matmul, scale into matmul's alpha)
// live in those kernels; these are for what is left.

struct Params { n: u32, alpha: f32, beta: f32, _pad: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

fn index(wid: vec3<u32>, nwg: vec3<u32>, li: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * 256u + li;
}

@compute @workgroup_size(256)
fn add(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
       @builtin(local_invocation_index) li: u32) {
  let i = index(wid, nwg, li);
  if (i >= p.n) { return; }
  y[i] = y[i] * p.beta + p.alpha * x[i];
}

@compute @workgroup_size(256)
fn copy(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let i = index(wid, nwg, li);
  if (i >= p.n) { return; }
  y[i] = x[i];
}

@compute @workgroup_size(256)
fn scale(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) li: u32) {
  let i = index(wid, nwg, li);
  if (i >= p.n) { return; }
  y[i] = p.alpha * y[i];
}
