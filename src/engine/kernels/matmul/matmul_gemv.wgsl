// #include "matmul_common.wgsl"

// C = alpha · A · Bᵀ (+ bias) (+ C when ACCUMULATE) for few rows of A (decode steps, a few scored rows):
// A f32 [M, K], B a weight [N, K] = [out, in], packed f16 (F16: two halves per u32, low half first) or f32.
// The tiled versions give each workgroup a 64×64 output tile, so a one-row product keeps N/64 workgroups
// busy and reads the weight at a few percent of memory bandwidth. Here 32 lanes share one output column:
// they stride along its weight row with 16-byte loads (coalesced: a warp reads 512 contiguous bytes), keep
// ROWS rows of A in registers, and reduce through workgroup memory. The weight is read once per ROWS rows
// of A, so the product runs at the speed of reading the weight, which is what decode is bound by.
// Needs K % 8 == 0 (f16) or K % 4 == 0 (f32) and 16-byte aligned views; prepareMatmul checks.

// The prelude (matmul_common.wgsl) gives the uniforms, bias, C, the LoRA term and the store.

override F16: bool = true;

@group(0) @binding(1) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> B: array<vec4<u32>>;

const LANES = 32u; // lanes per output column
const COLS = 8u; // output columns per workgroup
const ROWS = 4u; // rows of A per workgroup

var<workgroup> part: array<vec4<f32>, 256>; // one partial sum per lane, for the ROWS rows

fn aRow(r: u32, m0: u32) -> u32 {
  // Rows past M read row M-1 again (their sums are never stored), so the loop needs no bound checks.
  return min(m0 + r, p.M - 1u) * (p.K / 4u);
}

// aRow of the ROWS rows m0 … m0+ROWS-1.
fn aRows(m0: u32) -> vec4<u32> {
  return vec4<u32>(aRow(0u, m0), aRow(1u, m0), aRow(2u, m0), aRow(3u, m0));
}

// The ROWS partial dot products of this lane, for output column `col` and rows m0 … m0+ROWS-1.
fn partial(col: u32, lane: u32, m0: u32) -> vec4<f32> {
  var acc = vec4<f32>(0.0);
  let a = aRows(m0);
  if (F16) {
    let words = p.K / 8u; // vec4<u32> of 8 halves per weight row
    let base = col * words;
    for (var j = lane; j < words; j += LANES) {
      let w = B[base + j];
      let lo = vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y));
      let hi = vec4<f32>(unpack2x16float(w.z), unpack2x16float(w.w));
      let k = 2u * j;
      acc.x += dot(A[a.x + k], lo) + dot(A[a.x + k + 1u], hi);
      acc.y += dot(A[a.y + k], lo) + dot(A[a.y + k + 1u], hi);
      acc.z += dot(A[a.z + k], lo) + dot(A[a.z + k + 1u], hi);
      acc.w += dot(A[a.w + k], lo) + dot(A[a.w + k + 1u], hi);
    }
  } else {
    let words = p.K / 4u;
    let base = col * words;
    for (var j = lane; j < words; j += LANES) {
      let w = bitcast<vec4<f32>>(B[base + j]);
      acc.x += dot(A[a.x + j], w);
      acc.y += dot(A[a.y + j], w);
      acc.z += dot(A[a.z + j], w);
      acc.w += dot(A[a.w + j], w);
    }
  }
  return acc;
}

// Sum the LANES partials of each column in workgroup memory; lane 0 of each column returns the total.
fn reduce(li: u32, lane: u32, acc: vec4<f32>) -> vec4<f32> {
  part[li] = acc;
  workgroupBarrier();
  for (var s = LANES / 2u; s > 0u; s >>= 1u) {
    if (lane < s) { part[li] += part[li + s]; }
    workgroupBarrier();
  }
  return part[li];
}

// This workgroup's column sums for its ROWS rows; `lead` marks the one thread per live column that stores.
struct Sums { sum: vec4<f32>, col: u32, m0: u32, lead: bool }

fn columnSums(wg: vec3<u32>, li: u32) -> Sums {
  let lane = li % LANES;
  let col = wg.x * COLS + li / LANES;
  let m0 = wg.y * ROWS;
  var acc = vec4<f32>(0.0);
  if (col < p.N) { acc = partial(col, lane, m0); }
  let sum = reduce(li, lane, acc);
  return Sums(sum, col, m0, lane == 0u && col < p.N);
}

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let c = columnSums(wg, li);
  if (!c.lead) { return; }
  for (var r = 0u; r < ROWS && c.m0 + r < p.M; r++) { store(0u, c.m0 + r, c.col, c.sum[r] * p.alpha); }
}

@compute @workgroup_size(256, 1, 1)
fn main_lora(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let c = columnSums(wg, li);
  if (!c.lead) { return; }
  for (var r = 0u; r < ROWS && c.m0 + r < p.M; r++) { store(0u, c.m0 + r, c.col, c.sum[r] * p.alpha + loraTerm(c.m0 + r, c.col)); }
}

// ---------------------------------------------------------------- fused entry points (inference decode)
// One dispatch for several projections that read the same A (q|k|v, gate|up: their weights concatenated in
// one buffer, each part starting at a 16-byte aligned word `wStart`), with the op before them folded in:
//   PROLOGUE 1: RMSNorm. A is the residual x; U (binding 5) the norm weight g. Each workgroup computes
//     rstd of its ROWS rows itself (x is a few KiB, read from cache), the dot products take x ⊙ g, and the
//     sums are scaled by rstd: rstd·((x ⊙ g)·w) = (g ⊙ x·rstd)·w, the normed row never stored.
//   PROLOGUE 2: SwiGLU. A is gate|up (gate [M, K] at 0, up at upOffset4 vec4s), a = silu(gate) ⊙ up.
// Output part i covers columns colEnd[i-1] … colEnd[i]-1 (unused parts: colEnd = N), stored densely
// [M, cols_i] from element outStart[i] of C (`main_fused`) or of C, O1, O2 (`main_fused3`: q, k and v in
// three buffers, because the RoPE after them writes q in place while it reads k and v). Bias part i starts
// at biasStart[i]. No LoRA term: a projection a LoRA factor reads keeps its own dispatches.

override PROLOGUE: u32 = 0u;

@group(0) @binding(8) var<storage, read_write> O1: array<f32>;
@group(0) @binding(9) var<storage, read_write> O2: array<f32>;

// vec4 `j` of row `row` of A (`row` already times K/4) after the prologue.
fn aLoad(row: u32, j: u32) -> vec4<f32> {
  let x = A[row + j];
  if (PROLOGUE == 2u) { return x * (1.0 / (1.0 + exp(-x))) * A[p.upOffset4 + row + j]; }
  if (PROLOGUE == 1u) {
    let k = 4u * j;
    return x * vec4<f32>(U[k], U[k + 1u], U[k + 2u], U[k + 3u]);
  }
  return x;
}

// partial() with the prologue, for the weight row starting at vec4 word `base` of B.
fn partialFused(base: u32, lane: u32, m0: u32) -> vec4<f32> {
  var acc = vec4<f32>(0.0);
  let a = aRows(m0);
  if (F16) {
    for (var j = lane; j < p.K / 8u; j += LANES) {
      let w = B[base + j];
      let lo = vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y));
      let hi = vec4<f32>(unpack2x16float(w.z), unpack2x16float(w.w));
      let k = 2u * j;
      acc.x += dot(aLoad(a.x, k), lo) + dot(aLoad(a.x, k + 1u), hi);
      acc.y += dot(aLoad(a.y, k), lo) + dot(aLoad(a.y, k + 1u), hi);
      acc.z += dot(aLoad(a.z, k), lo) + dot(aLoad(a.z, k + 1u), hi);
      acc.w += dot(aLoad(a.w, k), lo) + dot(aLoad(a.w, k + 1u), hi);
    }
  } else {
    for (var j = lane; j < p.K / 4u; j += LANES) {
      let w = bitcast<vec4<f32>>(B[base + j]);
      acc.x += dot(aLoad(a.x, j), w);
      acc.y += dot(aLoad(a.y, j), w);
      acc.z += dot(aLoad(a.z, j), w);
      acc.w += dot(aLoad(a.w, j), w);
    }
  }
  return acc;
}

// rstd of the workgroup's ROWS rows (RMSNorm prologue; 1 otherwise). Every invocation calls it (barriers).
fn rowScales(li: u32, m0: u32) -> vec4<f32> {
  if (PROLOGUE != 1u) { return vec4<f32>(1.0); }
  let a = aRows(m0);
  var ss = vec4<f32>(0.0);
  for (var j = li; j < p.K / 4u; j += 256u) {
    let x0 = A[a.x + j];
    let x1 = A[a.y + j];
    let x2 = A[a.z + j];
    let x3 = A[a.w + j];
    ss += vec4<f32>(dot(x0, x0), dot(x1, x1), dot(x2, x2), dot(x3, x3));
  }
  part[li] = ss;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (li < s) { part[li] += part[li + s]; }
    workgroupBarrier();
  }
  let r = inverseSqrt(part[0] / f32(p.K) + p.eps);
  workgroupBarrier(); // everyone has read part[0] before reduce() writes part[] again
  return r;
}

struct FusedSums { sum: vec4<f32>, pi: u32, local: u32, cols: u32, m0: u32, lead: bool }

fn fusedSums(wg: vec3<u32>, li: u32) -> FusedSums {
  let lane = li % LANES;
  let col = wg.x * COLS + li / LANES;
  let m0 = wg.y * ROWS;
  let rs = rowScales(li, m0);
  let c = min(col, p.N - 1u);
  let pi = select(select(2u, 1u, c < p.colEnd.y), 0u, c < p.colEnd.x);
  var c0 = 0u;
  if (pi > 0u) { c0 = p.colEnd[pi - 1u]; }
  let local = c - c0;
  let words = select(p.K / 4u, p.K / 8u, F16);
  var acc = vec4<f32>(0.0);
  if (col < p.N) { acc = partialFused(p.wStart[pi] + local * words, lane, m0); }
  let sum = reduce(li, lane, acc) * rs * p.alpha;
  return FusedSums(sum, pi, local, p.colEnd[pi] - c0, m0, lane == 0u && col < p.N);
}

fn fusedBias(f: FusedSums) -> f32 {
  if (HAS_BIAS) { return bias[p.biasStart[f.pi] + f.local]; }
  return 0.0;
}

// The fused entry points' stores (gemv_fused_entry.wgsl): every part in C (main_fused), or part pi in C, O1
// or O2 (main_fused3), + the old value when ACCUMULATE.
fn storeOne(pi: u32, ci: u32, v: f32) {
  C[ci] = select(v, v + C[ci], ACCUMULATE);
}

fn storePart(pi: u32, ci: u32, v: f32) {
  if (pi == 0u) {
    C[ci] = select(v, v + C[ci], ACCUMULATE);
  } else if (pi == 1u) {
    O1[ci] = select(v, v + O1[ci], ACCUMULATE);
  } else {
    O2[ci] = select(v, v + O2[ci], ACCUMULATE);
  }
}

// #include "gemv_fused_entry.wgsl" {"NAME": "main_fused", "STORE": "storeOne"}
// #include "gemv_fused_entry.wgsl" {"NAME": "main_fused3", "STORE": "storePart"}
