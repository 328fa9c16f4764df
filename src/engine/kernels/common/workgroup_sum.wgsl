// A fixed-order tree sum over one workgroup, pasted where a kernel needs it: invocation I puts its partial
// V into RED[I], and after log2(size) halving steps (HALF: half the workgroup size) RED[0] holds the sum,
// visible to every invocation. Deterministic (same order every run). The barriers must be reached by the
// whole workgroup: call it in uniform control flow.
  {{RED}}[{{I}}] = {{V}};
  workgroupBarrier();
  for (var k = {{HALF}}; k > 0u; k >>= 1u) {
    if ({{I}} < k) { {{RED}}[{{I}}] += {{RED}}[{{I}} + k]; }
    workgroupBarrier();
  }
