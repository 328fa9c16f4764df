import { ceilDiv, gpuBuffer, type GpuRuntime, type Tensor } from '../runtime';

/**
 * A dispatch grid for `n` invocations in workgroups of `wg`, folded into y when it would pass the
 * 65535-workgroups-per-dimension limit. Shaders recover the flat index as
 * `(wid.y * nwg.x + wid.x) * WG + lid.x` and bounds-check it.
 */
export function grid1d(n: number, wg = 256): [number, number, number] {
  const groups = Math.max(1, ceilDiv(n, wg));
  const x = Math.min(groups, 65535);
  return [x, ceilDiv(groups, x), 1];
}

/**
 * A bind group with explicit binding numbers, for entry points that use only some of a shader's bindings
 * (`rt.bindGroup` numbers its resources 0, 1, 2, … in order).
 */
export function bindAt(rt: GpuRuntime, pipeline: GPUComputePipeline, entries: [number, GPUBuffer | Tensor][], label?: string): GPUBindGroup {
  return rt.device.createBindGroup({
    label,
    layout: pipeline.getBindGroupLayout(0),
    entries: entries.map(([binding, r]) => ({
      binding,
      resource: 'buffer' in r ? { buffer: gpuBuffer(r.buffer), offset: r.offset ?? 0, size: r.bytes } : { buffer: r },
    })),
  });
}

/**
 * `setPast` for a prepared op whose uniform holds the cache row of its first new token at word `word`: a
 * 4-byte writeBuffer that takes effect for work submitted afterwards (decode moves it token after token).
 */
export function pastSetter(rt: GpuRuntime, params: GPUBuffer, word: number, S: number, L: number, what: string): (past: number) => void {
  const one = new Uint32Array(1);
  return (past: number) => {
    if (past + S > L) throw new Error(`${what}: past ${past} + S ${S} exceeds the cache (${L} rows)`);
    one[0] = past;
    rt.device.queue.writeBuffer(params, word * 4, one);
    rt.counters.uploadBytes += 4;
  };
}

/** `setPast` for a CPU op: the op reads `at.value` when it runs. */
export function cpuPastSetter(at: { value: number }, S: number, L: number, what: string): (past: number) => void {
  return (past: number) => {
    if (past + S > L) throw new Error(`${what}: past ${past} + S ${S} exceeds the cache (${L} rows)`);
    at.value = past;
  };
}
