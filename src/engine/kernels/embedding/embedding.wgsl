// out[t, :] = table[ids[t], :] for an f32 table [V, D]. Ids ≥ V give a zero row (never read out of bounds).

struct Params { T: u32, D: u32, V: u32, _pad: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> table: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let i = (wid.y * nwg.x + wid.x) * 256u + li;
  if (i >= p.T * p.D) { return; }
  let t = i / p.D;
  let d = i % p.D;
  let id = ids[t];
  out[i] = select(0.0, table[id * p.D + d], id < p.V);
}
