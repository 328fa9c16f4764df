// The shared half of the 64×64 register-blocked versions (matmul_vec4.wgsl, matmul_f16w.wgsl), included
// after their body: the tiles in workgroup memory, the product over one staged K slice, and the entry points.
// Workgroups of 16×16 invocations each hold the 4×4 block of outputs that the version's `tile(wg, li, l)`
// returns; the version's own part is how it stages A and B (vec4 loads, or unpacked f16) into As and Bs.

const TM = 64u;
const TK = 16u;
// k-major tiles: As[k][m], Bs[k][n], so the inner loop reads 4 consecutive m (or n) as one vec4.
// TileV is vec4<f32>, or vec4<f16> in the f16h version (the version declares the alias):
// there the tiles hold f16 and the products are f16, accumulated in f32.
var<workgroup> As: array<TileV, 256>; // [TK][TM/4]
var<workgroup> Bs: array<TileV, 256>; // [TK][TN/4]

// acc[i] += As[k][l.y][i] · Bs[k][l.x] over the K slice just staged, between the barriers that make the
// staging visible and keep the next slice from overwriting it.
fn multiplyStaged(acc: ptr<function, array<vec4<f32>, 4>>, l: vec3<u32>) {
  workgroupBarrier();
  for (var k = 0u; k < TK; k++) {
    let a = As[k * 16u + l.y];
    let b = Bs[k * 16u + l.x];
    (*acc)[0] += vec4<f32>(a.x * b);
    (*acc)[1] += vec4<f32>(a.y * b);
    (*acc)[2] += vec4<f32>(a.z * b);
    (*acc)[3] += vec4<f32>(a.w * b);
  }
  workgroupBarrier();
}

// The entry points (matmul_block4_entry.wgsl): plain, with the LoRA up-projection, with the LoRA dX term.
// #include "matmul_block4_entry.wgsl" {"NAME": "main", "TERM": ""}
// #include "matmul_block4_entry.wgsl" {"NAME": "main_lora", "TERM": " + loraTerm(row, col)"}
// #include "matmul_block4_entry.wgsl" {"NAME": "main_lora_dx", "TERM": " + loraDxTerm(row, col)"}
