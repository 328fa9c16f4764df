// FlashAttention-2 backward, row-tiled: the same function as attention_backward.wgsl (after its prep step:
// stats[row] = (LSE, D = Σ dO·O)), organised like attention_forward_tiled.wgsl. One thread per row, BR rows
// per workgroup, the other side's rows loaded BC at a time into workgroup memory and read by all BR threads.
//   dq:  thread = query row i;  dQ_i = scale · Σ_j dS_ij K_j,  dS_ij = P_ij (dO_i·V_j − D_i)
//   dkv: thread = key row j of one KV head; it walks the query rows of every head in its group:
//        dK_j = scale · Σ_{h, i} dS_ij Q_i,  dV_j = Σ_{h, i} P_ij dO_i  (deterministic: no atomics)
// P_ij = exp(scale·q_i·k_j − LSE_i) for visible pairs (kvStart[b] ≤ j ≤ past + i), else 0.
// The wrapper prepends `const DH`, `const BR`, `const BC`.

struct Params { B: u32, S: u32, H: u32, KVH: u32, Dh: u32, L: u32, past: u32, scale: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> K: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> V: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> dO: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> stats: array<vec2<f32>>;
@group(0) @binding(6) var<storage, read> kvStart: array<u32>;
// dq writes dQ here; dkv writes dK.
@group(0) @binding(7) var<storage, read_write> dQK: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read_write> dV: array<vec4<f32>>;

const D4 = DH / 4u;

var<workgroup> At: array<vec4<f32>, BC * D4>; // K tile (dq) or Q tile (dkv)
var<workgroup> Bt: array<vec4<f32>, BC * D4>; // V tile (dq) or dO tile (dkv)
var<workgroup> St: array<vec2<f32>, BC>; // (LSE, D) of the Q tile (dkv)
var<workgroup> first: u32;

@compute @workgroup_size(BR)
fn dq(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  // #include "tiled_rows.wgsl"
  let sc = min(s, p.S - 1u);
  let qrow = ((b * p.S + sc) * p.H + h) * D4;
  let st = stats[(b * p.H + h) * p.S + sc];
  var q: array<vec4<f32>, D4>;
  var g: array<vec4<f32>, D4>;
  var acc: array<vec4<f32>, D4>;
  for (var d = 0u; d < D4; d++) {
    q[d] = Q[qrow + d] * p.scale;
    g[d] = dO[qrow + d];
    acc[d] = vec4<f32>(0.0);
  }
  // #include "tiled_key_range.wgsl"
  for (var t0 = start - start % BC; t0 < end; t0 += BC) {
    // #include "tiled_kv_tile.wgsl" {"KT": "At", "VT": "Bt"}
    for (var c = 0u; c < BC; c++) {
      let j = t0 + c;
      var x = 0.0;
      var dp = 0.0;
      for (var d = 0u; d < D4; d++) {
        x += dot(q[d], At[c * D4 + d]);
        dp += dot(g[d], Bt[c * D4 + d]);
      }
      let ds = select(0.0, exp(x - st.x) * (dp - st.y), j >= start && j < rowEnd);
      for (var d = 0u; d < D4; d++) { acc[d] += ds * At[c * D4 + d]; }
    }
    workgroupBarrier();
  }
  if (!live) { return; }
  for (var d = 0u; d < D4; d++) { dQK[qrow + d] = acc[d] * p.scale; }
}

@compute @workgroup_size(BR)
fn dkv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let kvh = wid.y;
  let b = wid.z;
  let j0 = wid.x * BR;
  let j = j0 + tid;
  let keys = p.past + p.S; // key rows that get gradients
  let live = j < keys;
  let jc = min(j, keys - 1u);
  let kvStride = p.KVH * D4;
  let krow = (b * p.L + jc) * kvStride + kvh * D4;
  let visible = j >= kvStart[b]; // a left-padding key gets no gradient
  var k: array<vec4<f32>, D4>;
  var v: array<vec4<f32>, D4>;
  var dk: array<vec4<f32>, D4>;
  var dv: array<vec4<f32>, D4>;
  for (var d = 0u; d < D4; d++) {
    k[d] = K[krow + d] * p.scale;
    v[d] = V[krow + d];
    dk[d] = vec4<f32>(0.0);
    dv[d] = vec4<f32>(0.0);
  }
  // Query i (at position past + i) sees key j when past + i ≥ j: the workgroup's first key bounds the start.
  let iFirst = select(0u, j0 - p.past, j0 > p.past);
  let group = p.H / p.KVH;
  for (var r = 0u; r < group; r++) {
    let h = kvh * group + r;
    for (var t0 = iFirst - iFirst % BC; t0 < p.S; t0 += BC) {
      for (var e = tid; e < BC * D4; e += BR) {
        let src = ((b * p.S + min(t0 + e / D4, p.S - 1u)) * p.H + h) * D4 + e % D4;
        At[e] = Q[src];
        Bt[e] = dO[src];
      }
      for (var e = tid; e < BC; e += BR) { St[e] = stats[(b * p.H + h) * p.S + min(t0 + e, p.S - 1u)]; }
      workgroupBarrier();
      for (var c = 0u; c < BC; c++) {
        let i = t0 + c;
        var x = 0.0;
        var dp = 0.0;
        for (var d = 0u; d < D4; d++) {
          x += dot(k[d], At[c * D4 + d]);
          dp += dot(v[d], Bt[c * D4 + d]);
        }
        let ok = visible && i < p.S && p.past + i >= j;
        let pr = select(0.0, exp(x - St[c].x), ok);
        let ds = pr * (dp - St[c].y);
        for (var d = 0u; d < D4; d++) {
          dk[d] += ds * At[c * D4 + d];
          dv[d] += pr * Bt[c * D4 + d];
        }
      }
      workgroupBarrier();
    }
  }
  if (!live) { return; }
  for (var d = 0u; d < D4; d++) {
    dQK[krow + d] = dk[d] * p.scale;
    dV[krow + d] = dv[d];
  }
}
