// The 16×16 tile loop of matmul_tiled.wgsl and lora/lora_matmul.wgsl, pasted into their functions: over K
// in 16-wide slices, each invocation stages one element of A and of B into workgroup memory (As [m][k],
// Bs [k][n], T = 16) through the file's own loadA / loadB (A0 / B0: their first argument, a slice offset or a
// dropout key), then adds its row of As times its column of Bs to `acc`. Needs row, col, wg, l and acc.
  for (var k0 = 0u; k0 < p.K; k0 += T) {
    // Each invocation stages one element of each tile. For TRANS_A / !TRANS_B the fast index l.x walks the
    // contiguous dimension of the stored matrix, so the loads stay coalesced.
    if (TRANS_A) {
      As[l.x * T + l.y] = loadA({{A0}}, wg.y * T + l.x, k0 + l.y);
    } else {
      As[l.y * T + l.x] = loadA({{A0}}, row, k0 + l.x);
    }
    if (TRANS_B) {
      Bs[l.x * T + l.y] = loadB({{B0}}, k0 + l.x, wg.x * T + l.y);
    } else {
      Bs[l.y * T + l.x] = loadB({{B0}}, k0 + l.y, col);
    }
    workgroupBarrier();
    for (var k = 0u; k < T; k++) {
      acc += As[l.y * T + k] * Bs[k * T + l.x];
    }
    workgroupBarrier();
  }
