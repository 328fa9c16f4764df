// out[t, :] = table[ids[t], :] for a table [V, D], f32 or (TABLE_F16) packed f16: two halves per u32,
// element e in word e/2, low half first, widened to f32 with the core `unpack2x16float`. Both are bound as
// array<u32> so one binding serves both (an f32 element is its own bits). Ids ≥ V give a zero row (never
// read out of bounds).

override TABLE_F16: bool = false;

struct Params { T: u32, D: u32, V: u32, _pad: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> table: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let i = (wid.y * nwg.x + wid.x) * 256u + li;
  if (i >= p.T * p.D) { return; }
  let t = i / p.D;
  let d = i % p.D;
  let id = ids[t];
  if (id >= p.V) { out[i] = 0.0; return; }
  let e = id * p.D + d;
  if (TABLE_F16) {
    let w = unpack2x16float(table[e >> 1u]);
    out[i] = select(w.x, w.y, (e & 1u) == 1u);
  } else {
    out[i] = bitcast<f32>(table[e]);
  }
}
