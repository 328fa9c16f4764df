// The rows of one workgroup of attention_forward_tiled.wgsl and attention_backward_tiled.wgsl's dq: BR
// consecutive query rows s0 … s0+BR−1 of head h of sequence b, row s for thread tid (live when s < S), and
// the KV head kvh that h reads (grouped-query attention).
  let h = wid.y;
  let b = wid.z;
  let s0 = wid.x * BR;
  let s = s0 + tid;
  let kvh = h / (p.H / p.KVH);
  let live = s < p.S;
