// The LM head's two products against a vocabulary slice W[v0 .. v0+C) of W [V, D]:
//   logits: Z[t, c]  = Σ_d X[t, d] · W[v0 + c, d]          (X = hidden [T, D], Z row stride ldz)
//   grad:   dX[t, d] (+)= Σ_c G[t, c] · W[v0 + c, d]        (G row stride ldz; accumulate unless first)
// W is f32, or f16 packed two per u32 (W_F16; element e in the low half of word e/2 when e is even),
// both bound as array<u32> so one binding serves both. 16×16 output tiles through workgroup memory.

override W_F16: bool = false;

struct Params { T: u32, D: u32, C: u32, v0: u32, ldz: u32, accumulate: u32, _a: u32, _b: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<u32>;
@group(0) @binding(3) var<storage, read_write> Z: array<f32>;

const TILE = 16u;
var<workgroup> As: array<array<f32, 17>, 16>;
var<workgroup> Bs: array<array<f32, 17>, 16>;

fn w(v: u32, d: u32) -> f32 {
  let e = v * p.D + d;
  if (W_F16) {
    let pair = unpack2x16float(W[e >> 1u]);
    return select(pair.x, pair.y, (e & 1u) == 1u);
  }
  return bitcast<f32>(W[e]);
}

// Z = X · W_sliceᵀ: grid [⌈C/16⌉, ⌈T/16⌉].
@compute @workgroup_size(16, 16)
fn logits(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = wid.y * TILE + lid.y;
  let c = wid.x * TILE + lid.x;
  let cRow = wid.x * TILE + lid.y; // the W row this thread loads
  var acc = 0.0;
  for (var k0 = 0u; k0 < p.D; k0 += TILE) {
    let k = k0 + lid.x;
    As[lid.y][lid.x] = select(0.0, X[min(t, p.T - 1u) * p.D + min(k, p.D - 1u)], t < p.T && k < p.D);
    Bs[lid.y][lid.x] = select(0.0, w(p.v0 + min(cRow, p.C - 1u), min(k, p.D - 1u)), cRow < p.C && k < p.D);
    workgroupBarrier();
    for (var kk = 0u; kk < TILE; kk++) { acc += As[lid.y][kk] * Bs[lid.x][kk]; }
    workgroupBarrier();
  }
  if (t < p.T && c < p.C) { Z[t * p.ldz + c] = acc; }
}

// In `grad` binding 1 is G [T, ldz] and binding 3 is dX [T, D]: grid [⌈D/16⌉, ⌈T/16⌉].
@compute @workgroup_size(16, 16)
fn grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = wid.y * TILE + lid.y;
  let d = wid.x * TILE + lid.x;
  var acc = 0.0;
  for (var k0 = 0u; k0 < p.C; k0 += TILE) {
    let ka = k0 + lid.x; // G column this thread loads
    let kb = k0 + lid.y; // W row this thread loads
    As[lid.y][lid.x] = select(0.0, X[min(t, p.T - 1u) * p.ldz + min(ka, p.C - 1u)], t < p.T && ka < p.C);
    Bs[lid.y][lid.x] = select(0.0, w(p.v0 + min(kb, p.C - 1u), min(d, p.D - 1u)), kb < p.C && d < p.D);
    workgroupBarrier();
    for (var kk = 0u; kk < TILE; kk++) { acc += As[lid.y][kk] * Bs[kk][lid.x]; }
    workgroupBarrier();
  }
  if (t < p.T && d < p.D) {
    let i = t * p.D + d;
    if (p.accumulate != 0u) { acc += Z[i]; }
    Z[i] = acc;
  }
}
