// A fused gemv entry point (matmul_gemv.wgsl), pasted once per output layout: NAME, and STORE, the function
// that writes (or adds) value v at index ci of output part pi: storeOne (every part in C) or storePart
// (part 0 in C, 1 in O1, 2 in O2).
@compute @workgroup_size(256, 1, 1)
fn {{NAME}}(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let f = fusedSums(wg, li);
  if (!f.lead) { return; }
  for (var r = 0u; r < ROWS && f.m0 + r < p.M; r++) {
    let ci = p.outStart[f.pi] + (f.m0 + r) * f.cols + f.local;
    {{STORE}}(f.pi, ci, f.sum[r] + fusedBias(f));
  }
}
