// FlashAttention-2 style backward, recomputing P = exp(scale·q·k − LSE) instead of storing it.
// Three entry points, run in order:
//   prep (attention_backward_prep.wgsl): stats[row] = (LSE, D = Σ_d dO·O) per query row (b, h, s)
//   dq:   dQ = scale · Σ_j dS_j K_j, dS = P ⊙ (dO·Vᵀ − D)                  — one workgroup per query row
//   dkv:  dK_j = scale · Σ_{h ∈ group, i} dS_ij Q_i,  dV_j = Σ P_ij dO_i      — one workgroup per key row
// dkv gives each (key j, KV head) to one workgroup that loops over its query group, so the group sum is
// deterministic without float atomics. Layouts as the forward; stats: [B, H, S, 2].

struct Params { B: u32, S: u32, H: u32, KVH: u32, Dh: u32, L: u32, past: u32, scale: f32 }

@group(0) @binding(0) var<uniform> p: Params;

const WG = 64u;
const MAXD = 128u;

// ---- dq and dkv ----
@group(0) @binding(1) var<storage, read> Q: array<f32>;
@group(0) @binding(2) var<storage, read> K: array<f32>;
@group(0) @binding(3) var<storage, read> V: array<f32>;
@group(0) @binding(4) var<storage, read> dO: array<f32>;
@group(0) @binding(5) var<storage, read> stats: array<f32>;
@group(0) @binding(6) var<storage, read> kvStart: array<u32>;
@group(0) @binding(7) var<storage, read_write> dQ: array<f32>;
@group(0) @binding(8) var<storage, read_write> dV: array<f32>;

var<workgroup> rowA: array<f32, MAXD>;
var<workgroup> rowB: array<f32, MAXD>;
var<workgroup> pT: array<f32, WG>;
var<workgroup> dsT: array<f32, WG>;
var<workgroup> bounds: vec2<u32>;

@compute @workgroup_size(64)
fn dq(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let s = wid.x;
  let h = wid.y;
  let b = wid.z;
  let kvh = h / (p.H / p.KVH);
  let qbase = ((b * p.S + s) * p.H + h) * p.Dh;
  for (var d = tid; d < p.Dh; d += WG) {
    rowA[d] = Q[qbase + d] * p.scale;
    rowB[d] = dO[qbase + d];
  }
  if (tid == 0u) { bounds = vec2<u32>(kvStart[b], min(p.past + s + 1u, p.L)); }
  let se = workgroupUniformLoad(&bounds);
  let row = (b * p.H + h) * p.S + s;
  let lse = stats[row * 2u];
  let D = stats[row * 2u + 1u];
  let kvStride = p.KVH * p.Dh;
  let d0 = tid;
  let d1 = tid + WG;
  var a0 = 0.0;
  var a1 = 0.0;
  for (var j0 = se.x; j0 < se.y; j0 += WG) {
    let j = j0 + tid;
    var ds = 0.0;
    if (j < se.y) {
      let kb = (b * p.L + j) * kvStride + kvh * p.Dh;
      var sc = 0.0;
      var dp = 0.0;
      for (var d = 0u; d < p.Dh; d++) {
        sc += rowA[d] * K[kb + d];
        dp += rowB[d] * V[kb + d];
      }
      ds = exp(sc - lse) * (dp - D);
    }
    dsT[tid] = ds;
    workgroupBarrier();
    let n = min(WG, se.y - j0);
    for (var k = 0u; k < n; k++) {
      let kb = (b * p.L + j0 + k) * kvStride + kvh * p.Dh;
      if (d0 < p.Dh) { a0 += dsT[k] * K[kb + d0]; }
      if (d1 < p.Dh) { a1 += dsT[k] * K[kb + d1]; }
    }
    workgroupBarrier();
  }
  if (d0 < p.Dh) { dQ[qbase + d0] = a0 * p.scale; }
  if (d1 < p.Dh) { dQ[qbase + d1] = a1 * p.scale; }
}

// In dkv, binding 7 (dQ's slot) is dK.
@compute @workgroup_size(64)
fn dkv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let j = wid.x;
  let kvh = wid.y;
  let b = wid.z;
  let g = p.H / p.KVH;
  let kvStride = p.KVH * p.Dh;
  let kb = (b * p.L + j) * kvStride + kvh * p.Dh;
  for (var d = tid; d < p.Dh; d += WG) {
    rowA[d] = K[kb + d] * p.scale;
    rowB[d] = V[kb + d];
  }
  // Queries at positions past + i ≥ j see key j, unless the key is left padding.
  let i0 = select(0u, j - p.past, j > p.past);
  if (tid == 0u) { bounds = vec2<u32>(select(i0, p.S, j < kvStart[b]), p.S); }
  let se = workgroupUniformLoad(&bounds);
  let d0 = tid;
  let d1 = tid + WG;
  var k0 = 0.0;
  var k1 = 0.0;
  var v0 = 0.0;
  var v1 = 0.0;
  for (var r = 0u; r < g; r++) {
    let h = kvh * g + r;
    for (var s0 = se.x; s0 < se.y; s0 += WG) {
      let i = s0 + tid;
      var pi = 0.0;
      var ds = 0.0;
      if (i < se.y) {
        let qb = ((b * p.S + i) * p.H + h) * p.Dh;
        let row = (b * p.H + h) * p.S + i;
        var sc = 0.0;
        var dp = 0.0;
        for (var d = 0u; d < p.Dh; d++) {
          sc += rowA[d] * Q[qb + d];
          dp += rowB[d] * dO[qb + d];
        }
        pi = exp(sc - stats[row * 2u]);
        ds = pi * (dp - stats[row * 2u + 1u]);
      }
      pT[tid] = pi;
      dsT[tid] = ds;
      workgroupBarrier();
      let n = min(WG, se.y - s0);
      for (var k = 0u; k < n; k++) {
        let qb = ((b * p.S + s0 + k) * p.H + h) * p.Dh;
        if (d0 < p.Dh) { k0 += dsT[k] * Q[qb + d0]; v0 += pT[k] * dO[qb + d0]; }
        if (d1 < p.Dh) { k1 += dsT[k] * Q[qb + d1]; v1 += pT[k] * dO[qb + d1]; }
      }
      workgroupBarrier();
    }
  }
  if (d0 < p.Dh) { dQ[kb + d0] = k0 * p.scale; dV[kb + d0] = v0; }
  if (d1 < p.Dh) { dQ[kb + d1] = k1 * p.scale; dV[kb + d1] = v1; }
}
