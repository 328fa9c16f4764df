// The inner product of lm_head_matmul.wgsl's 64×64 tiles, pasted into `logits` and `grad` after they stage
// one 16-deep K slice into As [k][row] and Bs [k][col]: each thread adds its 4×4 block of products into
// `acc`, between the barriers that make the staging visible and keep the next slice from overwriting it.
// Pasted rather than a function over `acc`: as a function taking the register array it ran 1.6–1.8× slower
// on an H100.
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      var a: array<f32, 4>;
      var b: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) {
        a[i] = As[kk][lid.y * 4u + i];
        b[i] = Bs[kk][lid.x * 4u + i];
      }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) { acc[i][j] += a[i] * b[j]; }
      }
    }
    workgroupBarrier();
