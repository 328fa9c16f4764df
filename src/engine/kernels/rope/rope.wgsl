// Rotary position embedding, Hugging Face "rotate_half" layout, over x [B, S, H, Dh] (= [T, H·Dh]):
//   for i < Dh/2, θ = pos[t] · inv_freq[i] (f32, as HF computes freqs), c = cos θ, s = sin θ:
//   out[i]      = x[i]·c − x[i+Dh/2]·s
//   out[i+Dh/2] = x[i+Dh/2]·c + x[i]·s
// SIGN = −1 rotates by −θ: the backward (the rotation is orthogonal, so its transpose is its inverse).
// The output goes to [B, L, H, Dh] at rows past + s (L = S, past = 0 for a plain [B, S, H, Dh] output):
// "rope the new keys and append them to the KV cache" is this one dispatch.
// Entry points: `main` reads x and writes out (distinct buffers); `main_inplace` rotates `qio` in place
// (L = S, past = 0); `main_qk` and `main_qkv` do a layer's new tokens in one dispatch: rotate the queries
// in place, rope the new keys x into the key cache `out`, and (main_qkv) copy the new values into the value
// cache, all at rows past + s. One invocation per rotated (or copied) pair.

override SIGN: f32 = 1.0;

// KVH: the key/value heads of main_qk / main_qkv (H counts the query heads there).
struct Params { B: u32, S: u32, H: u32, Dh: u32, L: u32, past: u32, KVH: u32, _p1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> pos: array<u32>;
@group(0) @binding(2) var<storage, read> invFreq: array<f32>;
@group(0) @binding(3) var<storage, read> x: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
// main_inplace / main_qk / main_qkv: the queries [B, S, H, Dh], rotated in place; main_qkv: the new values
// [B, S, KVH, Dh] and the value cache [B, L, KVH, Dh].
@group(0) @binding(5) var<storage, read_write> qio: array<f32>;
@group(0) @binding(6) var<storage, read> vNew: array<f32>;
@group(0) @binding(7) var<storage, read_write> vCache: array<f32>;

struct Pair { src: u32, dst: u32, half: u32, c: f32, s: f32 }

// cos and sin of θ ≥ 0 to about 1 ulp (Cephes sinf/cosf: Cody–Waite reduction by π/4 in three parts,
// minimax polynomials on [−π/4, π/4]). WGSL's built-in sin/cos only promise 2⁻¹¹ absolute error
// (SwiftShader is that coarse), far from the f32 cos/sin Hugging Face uses. Exact for θ < 2¹⁶.
fn cosSin(theta: f32) -> vec2<f32> {
  var j = u32(theta * 1.27323954473516); // 4/π
  if ((j & 1u) == 1u) { j += 1u; }
  let y = f32(j);
  let z = ((theta - y * 0.78515625) - y * 2.4187564849853515625e-4) - y * 3.77489497744594108e-8;
  let zz = z * z;
  let sp = z + z * zz * (-1.6666654611e-1 + zz * (8.3321608736e-3 + zz * -1.9515295891e-4));
  let cp = 1.0 - 0.5 * zz + zz * zz * (4.166664568298827e-2 + zz * (-1.388731625493765e-3 + zz * 2.443315711809948e-5));
  let q = (j >> 1u) & 3u; // quadrant: θ ≈ q·π/2 + z
  var c: f32; var s: f32;
  switch q {
    case 0u: { c = cp; s = sp; }
    case 1u: { c = -sp; s = cp; }
    case 2u: { c = -cp; s = -sp; }
    default: { c = sp; s = -cp; }
  }
  return vec2<f32>(c, s);
}

// Pair i of a [B, S, heads, Dh] tensor: source index, destination at row past + s of [B, L, heads, Dh].
fn pairOf(i: u32, heads: u32) -> Pair {
  let half = p.Dh / 2u;
  let j = i % half;
  let h = (i / half) % heads;
  let t = i / (half * heads); // token b·S + s
  let b = t / p.S;
  let s = t % p.S;
  let theta = f32(pos[t]) * invFreq[j];
  var r: Pair;
  r.src = (t * heads + h) * p.Dh + j;
  r.dst = ((b * p.L + p.past + s) * heads + h) * p.Dh + j;
  r.half = half;
  let cs = cosSin(theta);
  r.c = cs.x;
  r.s = SIGN * cs.y;
  return r;
}

// The rotated pair (x1, x2) → (x1·c − x2·s, x2·c + x1·s).
fn rotate(x1: f32, x2: f32, q: Pair) -> vec2<f32> {
  return vec2<f32>(x1 * q.c - x2 * q.s, x2 * q.c + x1 * q.s);
}

fn flat(wid: vec3<u32>, nwg: vec3<u32>, li: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * 64u + li;
}

// Pairs in a [B, S, heads, Dh] tensor.
fn pairCount(heads: u32) -> u32 {
  return p.B * p.S * heads * (p.Dh / 2u);
}

// Pair i of the queries `qio` [B, S, H, Dh], rotated in place.
fn ropeInPlace(i: u32) {
  let q = pairOf(i, p.H);
  let r = rotate(qio[q.src], qio[q.src + q.half], q);
  qio[q.src] = r.x;
  qio[q.src + q.half] = r.y;
}

// Pair i of x [B, S, heads, Dh], rotated into `out` [B, L, heads, Dh] at row past + s.
fn ropeInto(i: u32, heads: u32) {
  let k = pairOf(i, heads);
  let r = rotate(x[k.src], x[k.src + k.half], k);
  out[k.dst] = r.x;
  out[k.dst + k.half] = r.y;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let i = flat(wid, nwg, li);
  if (i < pairCount(p.H)) { ropeInto(i, p.H); }
}

// The tensor rotated in place is bound as `qio` (binding 5).
@compute @workgroup_size(64)
fn main_inplace(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) li: u32) {
  let i = flat(wid, nwg, li);
  if (i < pairCount(p.H)) { ropeInPlace(i); }
}

@compute @workgroup_size(64)
fn main_qk(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) li: u32) {
  let i = flat(wid, nwg, li);
  let nq = pairCount(p.H);
  if (i < nq) { ropeInPlace(i); } else if (i < nq + pairCount(p.KVH)) { ropeInto(i - nq, p.KVH); }
}

@compute @workgroup_size(64)
fn main_qkv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) li: u32) {
  let i = flat(wid, nwg, li);
  let nq = pairCount(p.H);
  let nk = pairCount(p.KVH);
  if (i < nq) {
    ropeInPlace(i);
  } else if (i < nq + nk) {
    ropeInto(i - nq, p.KVH);
  } else if (i < nq + 2u * nk) {
    let v = pairOf(i - nq - nk, p.KVH); // a copy: values are not rotated
    vCache[v.dst] = vNew[v.src];
    vCache[v.dst + v.half] = vNew[v.src + v.half];
  }
}
