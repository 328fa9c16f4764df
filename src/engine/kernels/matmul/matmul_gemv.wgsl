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

// The ROWS partial dot products of this lane, for output column `col` and rows m0 … m0+ROWS-1.
fn partial(col: u32, lane: u32, m0: u32) -> vec4<f32> {
  var acc = vec4<f32>(0.0);
  let a0 = aRow(0u, m0);
  let a1 = aRow(1u, m0);
  let a2 = aRow(2u, m0);
  let a3 = aRow(3u, m0);
  if (F16) {
    let words = p.K / 8u; // vec4<u32> of 8 halves per weight row
    let base = col * words;
    for (var j = lane; j < words; j += LANES) {
      let w = B[base + j];
      let lo = vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y));
      let hi = vec4<f32>(unpack2x16float(w.z), unpack2x16float(w.w));
      let k = 2u * j;
      acc.x += dot(A[a0 + k], lo) + dot(A[a0 + k + 1u], hi);
      acc.y += dot(A[a1 + k], lo) + dot(A[a1 + k + 1u], hi);
      acc.z += dot(A[a2 + k], lo) + dot(A[a2 + k + 1u], hi);
      acc.w += dot(A[a3 + k], lo) + dot(A[a3 + k + 1u], hi);
    }
  } else {
    let words = p.K / 4u;
    let base = col * words;
    for (var j = lane; j < words; j += LANES) {
      let w = bitcast<vec4<f32>>(B[base + j]);
      acc.x += dot(A[a0 + j], w);
      acc.y += dot(A[a1 + j], w);
      acc.z += dot(A[a2 + j], w);
      acc.w += dot(A[a3 + j], w);
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
