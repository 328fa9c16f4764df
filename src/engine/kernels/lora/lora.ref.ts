/** CPU references for the LoRA linear (lora.ts), in f64, with the same dropout hash as dropout.wgsl. */
type Num = ArrayLike<number>;

export interface LoraRefDims {
  T: number;
  inDim: number;
  outDim: number;
  rank: number;
  scale: number;
  dropout?: { p: number; seed: number; step: number; salt: number };
}

function pcg(v: number): number {
  const s = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const w = Math.imul(((s >>> ((s >>> 28) + 4)) ^ s) >>> 0, 277803737) >>> 0;
  return ((w >>> 22) ^ w) >>> 0;
}

/** The dropout multiplier of every element of x [T, in]: 0 or 1/(1−p). */
export function dropoutMaskRef(d: LoraRefDims): Float64Array {
  const n = d.T * d.inDim;
  const m = new Float64Array(n).fill(1);
  const p = d.dropout?.p ?? 0;
  if (!d.dropout || p === 0) return m;
  const threshold = Math.min(0xffffffff, Math.round(p * 2 ** 32));
  const keep = 1 / (1 - p);
  const key = pcg((d.dropout.seed ^ pcg((d.dropout.step ^ pcg(d.dropout.salt)) >>> 0)) >>> 0);
  for (let e = 0; e < n; e++) m[e] = pcg((e ^ key) >>> 0) >= threshold ? Math.fround(keep) : 0;
  return m;
}

/** y = x·Wᵀ + b + s·(dropout(x)·Aᵀ)·Bᵀ; also u = dropout(x)·Aᵀ. */
export function loraForwardRef(x: Num, w: Num, bias: Num | undefined, A: Num, B: Num, d: LoraRefDims): { y: Float64Array; u: Float64Array } {
  const { T, inDim, outDim, rank, scale } = d;
  const m = dropoutMaskRef(d);
  const u = new Float64Array(T * rank);
  const y = new Float64Array(T * outDim);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < rank; j++) {
      let s = 0;
      for (let k = 0; k < inDim; k++) s += x[t * inDim + k] * m[t * inDim + k] * A[j * inDim + k];
      u[t * rank + j] = s;
    }
    for (let o = 0; o < outDim; o++) {
      let s = bias ? bias[o] : 0;
      for (let k = 0; k < inDim; k++) s += x[t * inDim + k] * w[o * inDim + k];
      let l = 0;
      for (let j = 0; j < rank; j++) l += u[t * rank + j] * B[o * rank + j];
      y[t * outDim + o] = s + scale * l;
    }
  }
  return { y, u };
}

/** Analytic gradients of L = ⟨y, dy⟩: dX, dA, dB. */
export function loraBackwardRef(x: Num, w: Num, A: Num, B: Num, dy: Num, d: LoraRefDims): { dx: Float64Array; dA: Float64Array; dB: Float64Array } {
  const { T, inDim, outDim, rank, scale } = d;
  const m = dropoutMaskRef(d);
  const { u } = loraForwardRef(x, w, undefined, A, B, d);
  const g = new Float64Array(T * rank); // s·dY·B
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < rank; j++) {
      let s = 0;
      for (let o = 0; o < outDim; o++) s += dy[t * outDim + o] * B[o * rank + j];
      g[t * rank + j] = scale * s;
    }
  }
  const dx = new Float64Array(T * inDim);
  const dA = new Float64Array(rank * inDim);
  const dB = new Float64Array(outDim * rank);
  for (let t = 0; t < T; t++) {
    for (let k = 0; k < inDim; k++) {
      let s = 0;
      for (let o = 0; o < outDim; o++) s += dy[t * outDim + o] * w[o * inDim + k];
      let l = 0;
      for (let j = 0; j < rank; j++) l += g[t * rank + j] * A[j * inDim + k];
      dx[t * inDim + k] = s + l * m[t * inDim + k];
      for (let j = 0; j < rank; j++) dA[j * inDim + k] += g[t * rank + j] * x[t * inDim + k] * m[t * inDim + k];
    }
    for (let o = 0; o < outDim; o++) {
      for (let j = 0; j < rank; j++) dB[o * rank + j] += scale * dy[t * outDim + o] * u[t * rank + j];
    }
  }
  return { dx, dA, dB };
}
