// #include "matmul_common.wgsl"

// Version 4 (prelude: matmul_common.wgsl; the shared tiles, inner product and entry points:
// matmul_block4.wgsl), with B held as packed f16: two halves per u32 (element e in word e/2, low half
// first), unpacked with WGSL's core `unpack2x16float`, so it needs no shader-f16 feature and halves the
// memory of frozen weights. A, bias and C are f32; accumulation is f32. B is usually a weight [N, K] =
// [out, in] (TRANS_B), or [K, N] for the backward dX = dY·W.
// Same 64×64 register-blocked scheme as matmul_vec4, with scalar, bounds-checked global loads so any
// shape works (an f16 weight cannot be read as vec4<f32> anyway).
// The same body is the f16h version where shader-f16 exists: TileS = f16, so the staged tiles are f16 (A
// rounded to f16 there; B already is) and the products f16, accumulated in f32 (matmul_block4.wgsl).

// The element type of matmul_block4.wgsl's staged tiles: TILE is f32 (f16w) or f16 (f16h).
alias TileS = {{TILE}};
alias TileV = vec4<{{TILE}}>;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<u32>;

// Element e of B (packed f16).
fn bElement(e: u32) -> f32 {
  let w = unpack2x16float(B[e >> 1u]);
  return select(w.x, w.y, (e & 1u) == 1u);
}

// Element e (0 … 1023) of a staged tile as (row of op(A) or column of op(B), k) within the tile. The index
// decomposition keeps the stored matrix's contiguous dimension on the fast lanes (kFast: k is contiguous).
fn tileSpot(e: u32, kFast: bool) -> vec2<u32> {
  if (kFast) { return vec2<u32>(e / TK, e % TK); }
  return vec2<u32>(e % TM, e / TM);
}

// #include "matmul_scalar_loads.wgsl"

fn tile(wg: vec3<u32>, li: u32, l: vec3<u32>) -> array<vec4<f32>, 4> {
  let m0 = wg.y * TM;
  let n0 = wg.x * TM;
  let a0 = wg.z * p.strideA;
  let b0 = wg.z * p.strideB;
  var acc: array<vec4<f32>, 4>;
  for (var i = 0u; i < 4u; i++) { acc[i] = vec4<f32>(0.0); }

  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    // 1024 elements of each tile, 4 per invocation.
    for (var r = 0u; r < 4u; r++) {
      let a = tileSpot(r * 256u + li, !TRANS_A); // (m, k)
      As[a.y * 16u + a.x / 4u][a.x % 4u] = TileS(loadA(a0, m0 + a.x, k0 + a.y));
    }
    for (var r = 0u; r < 4u; r++) {
      let b = tileSpot(r * 256u + li, TRANS_B); // (n, k)
      Bs[b.y * 16u + b.x / 4u][b.x % 4u] = TileS(loadB(b0, k0 + b.y, n0 + b.x));
    }
    multiplyStaged(&acc, l);
  }

  return acc;
}

// #include "matmul_block4.wgsl"
