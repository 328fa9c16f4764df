// Flash attention forward for many query rows (prefill, training): the same function as
// attention_forward.wgsl (O = softmax(scale·Q·Kᵀ + mask)·V, LSE; same layouts and masks), organised for
// reuse. A workgroup of BR threads takes BR consecutive query rows of one (head, sequence), one row per
// thread, its q and output accumulator in registers; the workgroup walks the visible keys in tiles of BC,
// each K and V tile loaded once into workgroup memory and read by all BR rows (broadcast reads). So K and V
// are read from memory S/BR times instead of S times, and no thread waits on a reduction.
// The wrapper prepends `const DH`, `const BR`, `const BC` (the head dimension, a multiple of 4, and the tile
// sizes), so the per-thread arrays have constant sizes and stay in registers. The row set-up, key range and
// K/V tile load are tiled_*.wgsl, shared with attention_backward_tiled.wgsl's dq.

struct Params { B: u32, S: u32, H: u32, KVH: u32, Dh: u32, L: u32, past: u32, scale: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> K: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> V: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> kvStart: array<u32>;
@group(0) @binding(5) var<storage, read_write> O: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> LSE: array<f32>;

const D4 = DH / 4u;
const NEG = -3.0e38;

var<workgroup> Kt: array<vec4<f32>, BC * D4>;
var<workgroup> Vt: array<vec4<f32>, BC * D4>;
var<workgroup> first: u32;

@compute @workgroup_size(BR)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  // #include "tiled_rows.wgsl"
  let qrow = ((b * p.S + min(s, p.S - 1u)) * p.H + h) * D4;
  var q: array<vec4<f32>, D4>;
  var acc: array<vec4<f32>, D4>;
  for (var d = 0u; d < D4; d++) {
    q[d] = Q[qrow + d] * p.scale;
    acc[d] = vec4<f32>(0.0);
  }
  // #include "tiled_key_range.wgsl"
  var m = NEG;
  var l = 0.0;
  var sc: array<f32, BC>;
  for (var t0 = start - start % BC; t0 < end; t0 += BC) {
    // #include "tiled_kv_tile.wgsl" {"KT": "Kt", "VT": "Vt"}
    var mt = NEG;
    for (var c = 0u; c < BC; c++) {
      let j = t0 + c;
      var x = 0.0;
      for (var d = 0u; d < D4; d++) { x += dot(q[d], Kt[c * D4 + d]); }
      x = select(NEG, x, j >= start && j < rowEnd);
      sc[c] = x;
      mt = max(mt, x);
    }
    let mNew = max(m, mt);
    if (mNew > NEG) {
      let corr = exp(m - mNew);
      l *= corr;
      for (var d = 0u; d < D4; d++) { acc[d] *= corr; }
      for (var c = 0u; c < BC; c++) {
        let pc = select(0.0, exp(sc[c] - mNew), sc[c] > NEG);
        l += pc;
        for (var d = 0u; d < D4; d++) { acc[d] += pc * Vt[c * D4 + d]; }
      }
      m = mNew;
    }
    // Everyone is done with this tile before the next one overwrites it.
    workgroupBarrier();
  }
  if (!live) { return; }
  let inv = select(0.0, 1.0 / l, l > 0.0);
  for (var d = 0u; d < D4; d++) { O[qrow + d] = acc[d] * inv; }
  LSE[(b * p.H + h) * p.S + s] = select(0.0, m + log(l), l > 0.0);
}
