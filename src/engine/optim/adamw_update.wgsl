// AdamW update, torch.optim.AdamW semantics, one thread per element of the flat buffers:
//   g ← g·clip;  θ ← θ·(1 − lr·λ);  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²
//   θ ← θ − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε)
// `hyper` = [lr, t, 1−β₁ᵗ, 1−β₂ᵗ] (written each step by the caller; bias corrections in f64 there); clip and the non-finite flag from
// `status` (written on the GPU by adamw_norm_final.wgsl): when the flag is set nothing changes.

struct Params { n: u32, beta1: f32, beta2: f32, eps: f32, weightDecay: f32, _a: u32, _b: u32, _c: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> hyper: array<f32>;
@group(0) @binding(2) var<storage, read> status: array<f32>;
@group(0) @binding(3) var<storage, read_write> params: array<f32>;
@group(0) @binding(4) var<storage, read> grads: array<f32>;
@group(0) @binding(5) var<storage, read_write> m: array<f32>;
@group(0) @binding(6) var<storage, read_write> v: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n || status[2] != 0.0) { return; }
  let lr = hyper[0];
  let g = grads[i] * status[3];
  let mi = p.beta1 * m[i] + (1.0 - p.beta1) * g;
  let vi = p.beta2 * v[i] + (1.0 - p.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  let bc1 = hyper[2];
  let bc2 = hyper[3];
  let theta = params[i] * (1.0 - lr * p.weightDecay);
  params[i] = theta - (lr / bc1) * mi / (sqrt(vi) / sqrt(bc2) + p.eps);
}
