// #include "matmul_common.wgsl"

// Version 2 (prelude: matmul_common.wgsl): 16×16 output tile per workgroup; A and B are staged through
// workgroup memory in 16-wide K slices, so each global element is read once per tile instead of once per
// output. Any shape (bounds checked), any transposition.

@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;

const T = 16u;
var<workgroup> As: array<f32, 256>; // [m][k]
var<workgroup> Bs: array<f32, 256>; // [k][n]

fn bElement(e: u32) -> f32 {
  return B[e];
}

// #include "matmul_scalar_loads.wgsl"

fn tile(wg: vec3<u32>, l: vec3<u32>) -> f32 {
  let row = wg.y * T + l.y;
  let col = wg.x * T + l.x;
  let b = wg.z;
  let a0 = b * p.strideA;
  let b0 = b * p.strideB;
  var acc = 0.0;
  // #include "tile16_loop.wgsl" {"A0": "a0", "B0": "b0"}
  return acc;
}

// #include "matmul_tiled_entry.wgsl" {"NAME": "main", "TERM": ""}
// #include "matmul_tiled_entry.wgsl" {"NAME": "main_lora", "TERM": " + loraTerm(row, col)"}
// #include "matmul_tiled_entry.wgsl" {"NAME": "main_lora_dx", "TERM": " + loraDxTerm(row, col)"}
