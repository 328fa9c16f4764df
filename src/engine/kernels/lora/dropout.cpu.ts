/** dropout.wgsl on the CPU: the same integer hash, so a CPU run drops exactly the elements a GPU run drops. */
function pcg(v: number): number {
  const s = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const w = Math.imul(((s >>> ((s >>> 28) + 4)) ^ s) >>> 0, 277803737) >>> 0;
  return ((w >>> 22) ^ w) >>> 0;
}

export function dropoutKey(seed: number, step: number, salt: number): number {
  return pcg((seed ^ pcg((step ^ pcg(salt)) >>> 0)) >>> 0);
}

/** 1/(1−p) (as f32) for a kept element e, 0 for a dropped one. */
export function dropoutKeep(key: number, e: number, threshold: number, keepScale: number): number {
  return pcg((e ^ key) >>> 0) >= threshold ? keepScale : 0;
}
