// The LM head's two products against a vocabulary slice W[v0 .. v0+C) of W [V, D]:
//   logits: Z[t, c]  = Σ_d X[t, d] · W[v0 + c, d]          (X = hidden [T, D], Z row stride ldz)
//   grad:   dX[t, d] (+)= Σ_c G[t, c] · W[v0 + c, d]        (G row stride ldz; accumulate unless first)
// W is f32, or f16 packed two per u32 (W_F16; element e in the low half of word e/2 when e is even),
// both bound as array<u32> so one binding serves both.
// 64×64 output tiles per workgroup of 16×16 threads, 4×4 outputs per thread in registers, K in steps of
// 16 through workgroup memory (8 KiB): 256 multiply-adds per thread between barriers (lm_head_tile64.wgsl,
// pasted into both products' loops).

override W_F16: bool = false;

struct Params { T: u32, D: u32, C: u32, v0: u32, ldz: u32, accumulate: u32, kLen: u32, _b: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<u32>;
@group(0) @binding(3) var<storage, read_write> Z: array<f32>;

const BM = 64u;
const BK = 16u;
var<workgroup> As: array<array<f32, 64>, 16>; // [k][row]
var<workgroup> Bs: array<array<f32, 64>, 16>; // [k][col]

// #include "lm_head_weight.wgsl"

// Z = X · W_sliceᵀ: grid [⌈C/64⌉, ⌈T/64⌉].
@compute @workgroup_size(16, 16)
fn logits(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
          @builtin(local_invocation_index) tid: u32) {
  let t0 = wid.y * BM;
  let c0 = wid.x * BM;
  var acc: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < p.D; k0 += BK) {
    for (var r = 0u; r < 4u; r++) {
      let e = tid + r * 256u;
      let row = e / BK;
      let k = k0 + e % BK;
      let t = t0 + row;
      let c = c0 + row;
      As[e % BK][row] = select(0.0, X[min(t, p.T - 1u) * p.D + min(k, p.D - 1u)], t < p.T && k < p.D);
      Bs[e % BK][row] = select(0.0, w(p.v0 + min(c, p.C - 1u), min(k, p.D - 1u)), c < p.C && k < p.D);
    }
    // #include "lm_head_tile64.wgsl"
  }
  for (var i = 0u; i < 4u; i++) {
    let t = t0 + lid.y * 4u + i;
    for (var j = 0u; j < 4u; j++) {
      let c = c0 + lid.x * 4u + j;
      if (t < p.T && c < p.C) { Z[t * p.ldz + c] = acc[i][j]; }
    }
  }
}

// In `grad` binding 1 is G [T, ldz] and binding 3 is dX [splits, T, D]: grid [⌈D/64⌉, ⌈T/64⌉, splits].
// Split z sums chunk columns [z·kLen, (z+1)·kLen) into its own [T, D] slice (split-K without atomics: a
// small [T, D] output over a long chunk would otherwise leave most of the GPU idle); ce_reduce.wgsl adds
// the slices in a fixed order.
@compute @workgroup_size(16, 16)
fn grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) tid: u32) {
  let t0 = wid.y * BM;
  let d0 = wid.x * BM;
  let kBeg = wid.z * p.kLen;
  let kEnd = min(p.C, kBeg + p.kLen);
  var acc: array<array<f32, 4>, 4>;
  for (var k0 = kBeg; k0 < kEnd; k0 += BK) {
    for (var r = 0u; r < 4u; r++) {
      let e = tid + r * 256u;
      // G tile: 64 rows × 16 columns, contiguous along the chunk.
      let row = e / BK;
      let ka = k0 + e % BK;
      let t = t0 + row;
      As[e % BK][row] = select(0.0, X[min(t, p.T - 1u) * p.ldz + min(ka, p.C - 1u)], t < p.T && ka < kEnd);
      // W tile: 16 vocabulary rows × 64 columns, contiguous along D.
      let kb = k0 + e / BM;
      let d = d0 + e % BM;
      Bs[e / BM][e % BM] = select(0.0, w(p.v0 + min(kb, p.C - 1u), min(d, p.D - 1u)), kb < kEnd && d < p.D);
    }
    // #include "lm_head_tile64.wgsl"
  }
  for (var i = 0u; i < 4u; i++) {
    let t = t0 + lid.y * 4u + i;
    for (var j = 0u; j < 4u; j++) {
      let d = d0 + lid.x * 4u + j;
      if (t < p.T && d < p.D) {
        let o = (wid.z * p.T + t) * p.D + d;
        var v = acc[i][j];
        if (p.accumulate != 0u) { v += Z[o]; }
        Z[o] = v;
      }
    }
  }
}

// Few rows (T ≤ 8: scoring, generation): reading W dominates, so no 64-row tile of idle work. Each
// workgroup takes 32 vocabulary rows; 8 lanes per row stride over D for all T rows at once, then one
// barrier and a fixed-order sum over the lanes. Grid [⌈C/32⌉].
const LANES = 8u;
const MAXT = 8u;
var<workgroup> part: array<f32, 2048>; // [t][row·LANES + lane]

@compute @workgroup_size(256)
fn logits_skinny(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let row = tid / LANES;
  let lane = tid % LANES;
  let c = wid.x * 32u + row;
  var acc: array<f32, 8>;
  if (c < p.C) {
    for (var d = lane; d < p.D; d += LANES) {
      let wv = w(p.v0 + c, d);
      for (var t = 0u; t < p.T; t++) { acc[t] += X[t * p.D + d] * wv; }
    }
  }
  for (var t = 0u; t < MAXT; t++) { part[t * 256u + tid] = acc[t]; }
  workgroupBarrier();
  // Thread (row r, lane t) now writes output (t, r).
  let t = lane;
  if (c < p.C && t < p.T) {
    var s = 0.0;
    for (var l = 0u; l < LANES; l++) { s += part[t * 256u + row * LANES + l]; }
    Z[t * p.ldz + c] = s;
  }
}
