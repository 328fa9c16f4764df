// The row of this workgroup (t = wid.x + wid.y·65535, the grid folded past 65535 rows), its offset, and the
// invocation's partial sum s. Rows past T return: uniform per workgroup, so the barriers after stay uniform.
  let t = wid.y * 65535u + wid.x;
  if (t >= p.T) { return; }
  let base = t * p.D;
  var s = 0.0;
