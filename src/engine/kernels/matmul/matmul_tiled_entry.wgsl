// One entry point of matmul_tiled.wgsl, pasted per entry point with NAME and the extra epilogue TERM
// (nothing, a LoRA term), so that an entry point that names no LoRA term keeps its bindings out of its layout.
@compute @workgroup_size(16, 16, 1)
fn {{NAME}}(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
  let acc = tile(wg, l);
  let row = wg.y * T + l.y;
  let col = wg.x * T + l.x;
  if (row >= p.M || col >= p.N) { return; }
  store(wg.z, row, col, acc * p.alpha{{TERM}});
}
