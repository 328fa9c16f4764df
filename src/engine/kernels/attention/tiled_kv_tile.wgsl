// Load one tile into workgroup memory: BC key rows from t0, D4 vec4 each, of K into KT and of V into VT
// (rows past the cache clamp to the last; the mask zeroes them), then a barrier so every thread sees it.
    for (var i = tid; i < BC * D4; i += BR) {
      let src = (b * p.L + min(t0 + i / D4, p.L - 1u)) * kvStride + kvh * D4 + i % D4;
      {{KT}}[i] = K[src];
      {{VT}}[i] = V[src];
    }
    workgroupBarrier();
