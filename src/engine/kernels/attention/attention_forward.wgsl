// Flash-style causal attention forward (online softmax): O = softmax(scale·Q·Kᵀ + mask)·V and LSE.
// One workgroup per (query row s, head h, batch b). Each group of 64 threads takes a 64-key tile (one key
// each for the score), then splits the head dimension (≤ 2 dims each, Dh ≤ 128) for P·V; only the scores
// of the current tiles ever exist (in workgroup memory), never an [S, L] matrix.
// SPLIT groups (1, or 4 for decode: few rows, long caches) walk interleaved tiles with their own running
// (max, sum, acc) and are merged at the end, so one long row is not one group's serial loop.
// Q, O: [B, S, H, Dh]; K, V: [B, L, KVH, Dh] (cache; key j valid for kvStart[b] ≤ j ≤ past + s);
// LSE: [B, H, S]. Query head h reads KV head h / (H / KVH) (Hugging Face's repeat_kv).
// A row with no valid key (a left-padding query) gets O = 0 and LSE = 0.

override SPLIT: u32 = 1u;

struct Params { B: u32, S: u32, H: u32, KVH: u32, Dh: u32, L: u32, past: u32, scale: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<f32>;
@group(0) @binding(2) var<storage, read> K: array<f32>;
@group(0) @binding(3) var<storage, read> V: array<f32>;
@group(0) @binding(4) var<storage, read> kvStart: array<u32>;
@group(0) @binding(5) var<storage, read_write> O: array<f32>;
@group(0) @binding(6) var<storage, read_write> LSE: array<f32>;

const TILE = 64u;
const MAXD = 128u;
const NEG = -3.0e38;

var<workgroup> q: array<f32, MAXD>;
var<workgroup> pt: array<f32, 64u * SPLIT>;
var<workgroup> red: array<f32, 64u * SPLIT>;
var<workgroup> accS: array<f32, MAXD * SPLIT>;
var<workgroup> mlS: array<vec2<f32>, SPLIT>;
var<workgroup> bounds: vec2<u32>;

@compute @workgroup_size(64u * SPLIT)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let s = wid.x;
  let h = wid.y;
  let b = wid.z;
  let grp = tid / TILE; // which split this thread belongs to
  let lt = tid % TILE;
  let gbase = grp * TILE;
  let kvh = h / (p.H / p.KVH);
  let qbase = ((b * p.S + s) * p.H + h) * p.Dh;
  for (var d = tid; d < p.Dh; d += TILE * SPLIT) { q[d] = Q[qbase + d] * p.scale; }
  if (tid == 0u) { bounds = vec2<u32>(kvStart[b], min(p.past + s + 1u, p.L)); }
  // The loop bounds come from a storage read; load them through workgroup memory so they are uniform.
  let se = workgroupUniformLoad(&bounds);
  let start = se.x;
  let end = se.y;
  let kvStride = p.KVH * p.Dh;
  let d0 = lt;
  let d1 = lt + TILE;
  var m = NEG;
  var l = 0.0;
  var acc0 = 0.0;
  var acc1 = 0.0;
  for (var base = start; base < end; base += TILE * SPLIT) {
    let j0 = base + grp * TILE; // this group's tile
    let j = j0 + lt;
    var sc = NEG;
    if (j < end) {
      let kb = (b * p.L + j) * kvStride + kvh * p.Dh;
      var dot = 0.0;
      for (var d = 0u; d < p.Dh; d++) { dot += q[d] * K[kb + d]; }
      sc = dot;
    }
    red[tid] = sc;
    workgroupBarrier();
    for (var w = TILE / 2u; w > 0u; w >>= 1u) {
      if (lt < w) { red[tid] = max(red[tid], red[tid + w]); }
      workgroupBarrier();
    }
    let mNew = max(m, red[gbase]);
    pt[tid] = select(0.0, exp(sc - mNew), j < end);
    workgroupBarrier();
    let corr = exp(m - mNew);
    let n = select(0u, min(TILE, end - j0), j0 < end);
    var tsum = 0.0;
    var a0 = 0.0;
    var a1 = 0.0;
    for (var k = 0u; k < n; k++) {
      let pk = pt[gbase + k];
      tsum += pk;
      let vb = (b * p.L + j0 + k) * kvStride + kvh * p.Dh;
      if (d0 < p.Dh) { a0 += pk * V[vb + d0]; }
      if (d1 < p.Dh) { a1 += pk * V[vb + d1]; }
    }
    l = l * corr + tsum;
    acc0 = acc0 * corr + a0;
    acc1 = acc1 * corr + a1;
    m = mNew;
    // Everyone has read red and pt before the next tiles overwrite them.
    workgroupBarrier();
  }
  if (SPLIT > 1u) {
    // Merge the groups' partial softmaxes: rescale each to the common max.
    if (lt == 0u) { mlS[grp] = vec2<f32>(m, l); }
    if (d0 < p.Dh) { accS[grp * MAXD + d0] = acc0; }
    if (d1 < p.Dh) { accS[grp * MAXD + d1] = acc1; }
    workgroupBarrier();
    var mAll = NEG;
    for (var g = 0u; g < SPLIT; g++) { mAll = max(mAll, mlS[g].x); }
    l = 0.0;
    acc0 = 0.0;
    acc1 = 0.0;
    for (var g = 0u; g < SPLIT; g++) {
      // A group that saw no valid key has l = 0 and acc = 0: its weight does not matter.
      let f = exp(mlS[g].x - mAll);
      l += mlS[g].y * f;
      if (d0 < p.Dh) { acc0 += accS[g * MAXD + d0] * f; }
      if (d1 < p.Dh) { acc1 += accS[g * MAXD + d1] * f; }
    }
    m = mAll;
  }
  if (grp == 0u) {
    let inv = select(0.0, 1.0 / l, l > 0.0);
    if (d0 < p.Dh) { O[qbase + d0] = acc0 * inv; }
    if (d1 < p.Dh) { O[qbase + d1] = acc1 * inv; }
    if (tid == 0u) { LSE[(b * p.H + h) * p.S + s] = select(0.0, m + log(l), l > 0.0); }
  }
}
