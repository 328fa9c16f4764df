// The keys a workgroup of query rows walks (after tiled_rows.wgsl): from the sequence's first real key
// (kvStart[b], past left padding; read once, uniform across the workgroup) to its last row's end. Row s sees
// keys start … past + s (rowEnd exclusive).
  if (tid == 0u) { first = kvStart[b]; }
  let start = workgroupUniformLoad(&first);
  let rowEnd = min(p.past + s + 1u, p.L);
  let end = min(p.past + min(s0 + BR, p.S), p.L);
  let kvStride = p.KVH * D4;
