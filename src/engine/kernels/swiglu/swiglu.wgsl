// SwiGLU, forward (`main`) and backward (`backward`), reading gate and up from one buffer `gu`:
//   gate[t, j] = gu[t·rowStride + j],  up[t, j] = gu[t·rowStride + upOffset + j]
// so the fused gate|up projection [T, 2F] (rowStride 2F, upOffset F) and two [T, F] blocks of one
// buffer (rowStride F, upOffset = start of the up block) both work.
//   forward:  h = silu(g) ⊙ u,  silu(g) = g·σ(g)
//   backward: dgate = dh ⊙ u ⊙ σ(g)(1 + g(1 − σ(g))),  dup = dh ⊙ silu(g), written to `dgu` in gu's layout.

struct Params { T: u32, F: u32, rowStride: u32, upOffset: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> gu: array<f32>;
@group(0) @binding(2) var<storage, read> dh: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>; // h [T, F] (forward) or dgu (backward)

fn index(wid: vec3<u32>, nwg: vec3<u32>, li: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * 256u + li;
}

fn sigmoid(g: f32) -> f32 {
  return 1.0 / (1.0 + exp(-g));
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let i = index(wid, nwg, li);
  if (i >= p.T * p.F) { return; }
  let gi = (i / p.F) * p.rowStride + i % p.F;
  let g = gu[gi];
  out[i] = g * sigmoid(g) * gu[gi + p.upOffset];
}

@compute @workgroup_size(256)
fn backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) li: u32) {
  let i = index(wid, nwg, li);
  if (i >= p.T * p.F) { return; }
  let gi = (i / p.F) * p.rowStride + i % p.F;
  let g = gu[gi];
  let u = gu[gi + p.upOffset];
  let sg = sigmoid(g);
  let d = dh[i];
  out[gi] = d * u * sg * (1.0 + g * (1.0 - sg));
  out[gi + p.upOffset] = d * g * sg;
}
