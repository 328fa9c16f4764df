// The 16×16 shared-memory tile loop of matmul_tiled.wgsl and lora/lora_matmul.wgsl, put in front of their
// body: invocation l of workgroup wg accumulates output (wg.y·16 + l.y, wg.x·16 + l.x) of op(A)·op(B), with
// op(A) [M, K] and op(B) [K, N] staged through workgroup memory in 16-wide K slices, so each global element
// is read once per tile instead of once per output. The includer defines p (with M, N, K), TRANS_A,
// TRANS_B, and the bounds-checked loads loadA(ctxA, m, k) -> op(A)[m, k] and loadB(ctxB, k, n) -> op(B)[k, n]
// (0 outside the matrix); ctxA, ctxB are passed through (a batch offset, a dropout key).

const T = 16u;
var<workgroup> As: array<f32, 256>; // [m][k]
var<workgroup> Bs: array<f32, 256>; // [k][n]

fn tile16(wg: vec3<u32>, l: vec3<u32>, ctxA: u32, ctxB: u32) -> f32 {
  let row = wg.y * T + l.y;
  let col = wg.x * T + l.x;
  var acc = 0.0;
  for (var k0 = 0u; k0 < p.K; k0 += T) {
    // Each invocation stages one element of each tile. For TRANS_A / !TRANS_B the fast index l.x walks the
    // contiguous dimension of the stored matrix, so the loads stay coalesced.
    if (TRANS_A) {
      As[l.x * T + l.y] = loadA(ctxA, wg.y * T + l.x, k0 + l.y);
    } else {
      As[l.y * T + l.x] = loadA(ctxA, row, k0 + l.x);
    }
    if (TRANS_B) {
      Bs[l.x * T + l.y] = loadB(ctxB, k0 + l.x, wg.x * T + l.y);
    } else {
      Bs[l.y * T + l.x] = loadB(ctxB, k0 + l.y, col);
    }
    workgroupBarrier();
    for (var k = 0u; k < T; k++) {
      acc += As[l.y * T + k] * Bs[k * T + l.x];
    }
    workgroupBarrier();
  }
  return acc;
}
