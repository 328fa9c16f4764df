// Element (v, d) of the LM head's weight W [V, D] bound as array<u32>: f32 bits, or with W_F16 packed f16
// (element e in the low half of word e/2 when e is even). Shared by lm_head_matmul.wgsl and the scoring
// kernel; the including file declares W_F16, p.D and W.
fn w(v: u32, d: u32) -> f32 {
  let e = v * p.D + d;
  if (W_F16) {
    let pair = unpack2x16float(W[e >> 1u]);
    return select(pair.x, pair.y, (e & 1u) == 1u);
  }
  return bitcast<f32>(W[e]);
}
