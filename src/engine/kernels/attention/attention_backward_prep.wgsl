// Attention backward, step 1: stats[row] = (LSE, D = Σ_d dO·O) for every query row (b, h, s),
// one thread per row. stats: [B, H, S, 2], read by attention_backward.wgsl (one binding for both).

struct Params { B: u32, S: u32, H: u32, KVH: u32, Dh: u32, L: u32, past: u32, scale: f32 }

@group(0) @binding(0) var<uniform> p: Params;
const WG = 64u;

@group(0) @binding(1) var<storage, read> pO: array<f32>;
@group(0) @binding(2) var<storage, read> pdO: array<f32>;
@group(0) @binding(3) var<storage, read> pLSE: array<f32>;
@group(0) @binding(4) var<storage, read_write> pStats: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row = gid.x + gid.y * 65535u * WG;
  if (row >= p.B * p.H * p.S) { return; }
  let s = row % p.S;
  let bh = row / p.S;
  let h = bh % p.H;
  let b = bh / p.H;
  let base = ((b * p.S + s) * p.H + h) * p.Dh;
  var dsum = 0.0;
  for (var d = 0u; d < p.Dh; d++) { dsum += pdO[base + d] * pO[base + d]; }
  pStats[row * 2u] = pLSE[row];
  pStats[row * 2u + 1u] = dsum;
}

