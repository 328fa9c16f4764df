// What the RMSNorm forward and backward share: the uniforms (T rows of D, eps), x and the weight w at
// bindings 0-2, and the workgroup scratch of the row reduction (one workgroup of 64 per row).
struct Params { T: u32, D: u32, eps: f32, _pad: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;

var<workgroup> red: array<f32, 64>;
