// #include "matmul_common.wgsl"

// Version 3 (prelude: matmul_common.wgsl; the shared tiles, inner product and entry points:
// matmul_block4.wgsl): 64×64 output tile per workgroup of 16×16 invocations; each invocation keeps a 4×4
// block of outputs in registers. Tiles of A and B are loaded from global memory as vec4 along each operand's
// contiguous dimension, so that dimension must be a multiple of 4 (K for A and for transposed B, M for
// transposed A, N for plain B); prepareMatmul falls back to the tiled version otherwise. Rows and columns
// outside M, N and the K tail are bounds-checked, so M, N need not be multiples of anything.

// The element types of matmul_block4.wgsl's staged tiles.
alias TileS = f32;
alias TileV = vec4<f32>;
@group(0) @binding(1) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;

fn tile(wg: vec3<u32>, li: u32, l: vec3<u32>) -> array<vec4<f32>, 4> {
  let m0 = wg.y * TM;
  let n0 = wg.x * TM;
  let a0 = wg.z * p.strideA / 4u;
  let b0 = wg.z * p.strideB / 4u;
  var acc: array<vec4<f32>, 4>;
  for (var i = 0u; i < 4u; i++) { acc[i] = vec4<f32>(0.0); }

  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    // Stage A: 64 × 16 floats = 256 vec4 loads, one per invocation.
    if (TRANS_A) {
      // A stored [K, M]: vec4 along m.
      let k = li / 16u;
      let mq = li % 16u;
      var v = vec4<f32>(0.0);
      if (k0 + k < p.K && m0 + mq * 4u < p.M) { v = A[a0 + ((k0 + k) * p.M + m0) / 4u + mq]; }
      As[k * 16u + mq] = v;
    } else {
      // A stored [M, K]: vec4 along k, scattered into the k-major tile.
      let m = li / 4u;
      let kq = li % 4u;
      var v = vec4<f32>(0.0);
      if (m0 + m < p.M && k0 + kq * 4u < p.K) { v = A[a0 + ((m0 + m) * p.K + k0) / 4u + kq]; }
      for (var j = 0u; j < 4u; j++) { As[(kq * 4u + j) * 16u + m / 4u][m % 4u] = v[j]; }
    }
    if (TRANS_B) {
      // B stored [N, K] (HF weights): vec4 along k.
      let n = li / 4u;
      let kq = li % 4u;
      var v = vec4<f32>(0.0);
      if (n0 + n < p.N && k0 + kq * 4u < p.K) { v = B[b0 + ((n0 + n) * p.K + k0) / 4u + kq]; }
      for (var j = 0u; j < 4u; j++) { Bs[(kq * 4u + j) * 16u + n / 4u][n % 4u] = v[j]; }
    } else {
      // B stored [K, N]: vec4 along n.
      let k = li / 16u;
      let nq = li % 16u;
      var v = vec4<f32>(0.0);
      if (k0 + k < p.K && n0 + nq * 4u < p.N) { v = B[b0 + ((k0 + k) * p.N + n0) / 4u + nq]; }
      Bs[k * 16u + nq] = v;
    }
    multiplyStaged(&acc, l);
  }

  return acc;
}

// #include "matmul_block4.wgsl"
