// One entry point of matmul_block4.wgsl, pasted per entry point with NAME and the extra epilogue TERM
// (nothing, a LoRA term): each invocation's 4×4 block of outputs, rows and columns past M, N skipped, stored
// through matmul_common.wgsl's epilogue. Included rather than called so that an entry point that names no
// LoRA term keeps bindings 5-7 out of its layout, and the compiler sees the loop written out.
@compute @workgroup_size(16, 16, 1)
fn {{NAME}}(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32,
        @builtin(local_invocation_id) l: vec3<u32>) {
  let acc = tile(wg, li, l);
  for (var i = 0u; i < 4u; i++) {
    let row = wg.y * TM + l.y * 4u + i;
    if (row >= p.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      let col = wg.x * TM + l.x * 4u + j;
      if (col >= p.N) { break; }
      store(wg.z, row, col, acc[i][j] * p.alpha{{TERM}});
    }
  }
}
