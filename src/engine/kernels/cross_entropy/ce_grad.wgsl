// Pass 2: turn a recomputed logits chunk Z [T, ldz] into dLoss/dZ in place:
// G[t, c] = (softmax(z)[v0 + c] − [v0 + c = target]) / count, and 0 for ignored rows.
// Grid [⌈C/256⌉, T] (T ≤ 65535 per call).

struct Params { T: u32, C: u32, v0: u32, ldz: u32, V: u32, _a: u32, _b: u32, _c: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> Z: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<u32>;
@group(0) @binding(3) var<storage, read> stats: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  let t = gid.y;
  if (c >= p.C || t >= p.T) { return; }
  let y = targets[t];
  let i = t * p.ldz + c;
  if (y >= p.V) {
    Z[i] = 0.0;
    return;
  }
  let logZ = stats[t * 4u] + log(stats[t * 4u + 1u]);
  let onehot = select(0.0, 1.0, p.v0 + c == y);
  Z[i] = (exp(Z[i] - logZ) - onehot) * stats[p.T * 4u + 1u];
}
