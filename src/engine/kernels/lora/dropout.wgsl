// Dropout mask from a seeded integer hash: element e of the LoRA input x (e = t·in + k) is kept when
// hash(seed, step, salt, e) ≥ threshold (= p·2³², so P(drop) = p) and then scaled by 1/(1−p). The backward
// regenerates the same mask from the same (seed, step, salt) instead of storing it. The kernels read
// u32 [seed, step] from a small buffer updated per step with a writeBuffer; salt tells the LoRA modules of
// a model apart. Prepended to the kernels that need it (it declares no bindings); the CPU twin is
// `dropoutMaskRef` in lora.ref.ts.

fn pcg(v: u32) -> u32 {
  let s = v * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}

fn dropoutKey(seed: u32, step: u32, salt: u32) -> u32 {
  return pcg(seed ^ pcg(step ^ pcg(salt)));
}

/** 1/(1−p) for a kept element, 0 for a dropped one. */
fn dropoutScale(key: u32, e: u32, threshold: u32, keepScale: f32) -> f32 {
  return select(0.0, keepScale, pcg(e ^ key) >= threshold);
}
