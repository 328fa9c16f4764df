import type { EngineDevice } from './device.types';
import type { CpuRuntime } from './cpu-runtime';
import { zeroCounters, type Counters } from './counters';
import { OutOfMemoryError, ShaderError } from './errors';
import { asF32, DTYPE_BYTES, numel, typedArrayOf, uploadDType, type BackendSummary, type DType, type HostBuffer, type Op, type Tensor } from './tensor';

export * from './tensor';

/**
 * The engine's two backends behind one type: WebGPU (`GpuRuntime`) and the CPU (`CpuRuntime`). Both make
 * tensors, run prepared `Op`s in order, read results back and count what they do; a kernel's prepare
 * function narrows on `rt.kind` to build its op for one or the other, and nothing above the engine needs to.
 */
export type Runtime = GpuRuntime | CpuRuntime;

const STORAGE = GPUBufferUsageFlags();
function GPUBufferUsageFlags() {
  // GPUBufferUsage is a global in browsers and after `Object.assign(globalThis, globals)` in Node.
  const u = (globalThis as unknown as { GPUBufferUsage?: Record<string, number> }).GPUBufferUsage;
  return u
    ? { storage: u.STORAGE | u.COPY_SRC | u.COPY_DST, uniform: u.UNIFORM | u.COPY_DST, read: u.MAP_READ | u.COPY_DST }
    : { storage: 0x80 | 0x4 | 0x8, uniform: 0x40 | 0x8, read: 0x1 | 0x8 };
}

/** The GPU buffer behind a tensor of the WebGPU backend. */
export function gpuBuffer(b: GPUBuffer | HostBuffer): GPUBuffer {
  if ('host' in b) throw new Error(`${b.label}: a CPU tensor reached the WebGPU backend`);
  return b;
}

/**
 * The engine's runtime: one device, a pipeline cache, tracked allocations and the counters.
 * Kernels are prepared against it (see `Op`) and encoded in batches into one compute pass.
 */
export class GpuRuntime {
  readonly kind = 'gpu' as const;
  readonly device: GPUDevice;
  readonly counters: Counters = zeroCounters();
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly live = new Map<GPUBuffer, number>();

  constructor(readonly engine: EngineDevice) {
    this.device = engine.device;
  }

  get f16(): boolean {
    return this.engine.f16;
  }

  /** Weights may be stored as packed f16 (every WebGPU device reads them with unpack2x16float). */
  readonly packedF16 = true;

  summary(): BackendSummary {
    const r = this.engine.report;
    return {
      backend: 'webgpu', vendor: r.vendor, architecture: r.architecture,
      description: r.description || [r.vendor, r.architecture].filter(Boolean).join(' ') || 'unknown GPU',
      fallback: r.isFallbackAdapter, shaderF16: r.features.shaderF16,
    };
  }

  /** The largest single tensor this backend can hold, in bytes. */
  get maxBufferSize(): number {
    return this.device.limits.maxBufferSize;
  }

  private emptyTensor?: Tensor;
  /** A 16-byte tensor to bind where a kernel's optional input is absent (a buffer may not be bound twice). */
  get empty(): Tensor {
    return (this.emptyTensor ??= this.tensor('empty', [4]));
  }

  /** A compute pipeline, compiled once per (code, entry point, constants) and cached. */
  pipeline(label: string, code: string, constants: Record<string, number> = {}, entryPoint = 'main'): GPUComputePipeline {
    const key = `${entryPoint}|${JSON.stringify(constants)}|${code}`;
    let p = this.pipelines.get(key);
    if (!p) {
      const module = this.device.createShaderModule({ label, code });
      p = this.device.createComputePipeline({ label, layout: 'auto', compute: { module, entryPoint, constants } });
      this.pipelines.set(key, p);
    }
    return p;
  }

  private track(buffer: GPUBuffer, bytes: number): void {
    this.counters.allocations++;
    this.counters.liveBytes += bytes;
    this.counters.peakBytes = Math.max(this.counters.peakBytes, this.counters.liveBytes);
    this.live.set(buffer, bytes);
  }

  private create(label: string, size: number, usage: number): GPUBuffer {
    const bytes = Math.max(4, Math.ceil(size / 4) * 4);
    const max = this.device.limits.maxBufferSize;
    if (bytes > max) throw new OutOfMemoryError(label, bytes);
    const buffer = this.device.createBuffer({ label, size: bytes, usage });
    this.track(buffer, bytes);
    return buffer;
  }

  /** A storage tensor, zero-filled. */
  tensor(label: string, shape: readonly number[], dtype: DType = 'f32'): Tensor {
    const size = numel(shape) * DTYPE_BYTES[dtype];
    const buffer = this.create(label, size, STORAGE.storage);
    return { buffer, shape: [...shape], dtype, label, bytes: buffer.size };
  }

  /** A storage tensor holding `data`. */
  upload(label: string, data: Float32Array | Uint32Array | Int32Array | Uint16Array, shape: readonly number[], dtype?: DType): Tensor {
    const t = this.tensor(label, shape, uploadDType(label, data, shape, dtype));
    this.write(t, data);
    return t;
  }

  /** Overwrite a tensor's contents from the CPU (padded to 4 bytes). */
  write(t: Tensor, data: ArrayBufferView, byteOffset = 0): void {
    let view = data;
    if (data.byteLength % 4 !== 0) {
      const padded = new Uint8Array(Math.ceil(data.byteLength / 4) * 4);
      padded.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      view = padded;
    }
    this.device.queue.writeBuffer(gpuBuffer(t.buffer), (t.offset ?? 0) + byteOffset, view.buffer, view.byteOffset, view.byteLength);
    this.counters.uploadBytes += view.byteLength;
  }

  /** A uniform buffer of 32-bit words (u32/i32/f32 written by their bits). Made at prepare time, never per step. */
  uniform(label: string, words: ArrayLike<number>, kinds?: string): GPUBuffer {
    const n = Math.max(4, Math.ceil(words.length / 4) * 4);
    const buf = new ArrayBuffer(n * 4);
    const u32 = new Uint32Array(buf);
    const f32 = new Float32Array(buf);
    for (let i = 0; i < words.length; i++) {
      if (kinds && kinds[i] === 'f') f32[i] = words[i];
      else u32[i] = words[i] >>> 0;
    }
    const b = this.create(label, buf.byteLength, STORAGE.uniform);
    this.device.queue.writeBuffer(b, 0, buf);
    return b;
  }

  bindGroup(pipeline: GPUComputePipeline, resources: (GPUBuffer | Tensor)[], label?: string): GPUBindGroup {
    return this.device.createBindGroup({
      label,
      layout: pipeline.getBindGroupLayout(0),
      entries: resources.map((r, binding) => ({
        binding,
        resource: 'buffer' in r ? { buffer: gpuBuffer(r.buffer), offset: r.offset ?? 0, size: r.bytes } : { buffer: r },
      })),
    });
  }

  /**
   * A view of `numel(shape)` elements of `t` starting at element `start`. The byte offset must be a
   * multiple of the device's minStorageBufferOffsetAlignment (256 by default): pack with `alignElems`.
   */
  view(t: Tensor, start: number, shape: readonly number[], label = `${t.label}[${start}]`): Tensor {
    const esz = DTYPE_BYTES[t.dtype];
    const offset = (t.offset ?? 0) + start * esz;
    const align = this.device.limits.minStorageBufferOffsetAlignment;
    if (offset % align !== 0) throw new Error(`view ${label}: byte offset ${offset} is not a multiple of ${align}`);
    const bytes = Math.ceil((numel(shape) * esz) / 4) * 4;
    if (offset + bytes > t.buffer.size) throw new Error(`view ${label}: out of bounds`);
    return { buffer: t.buffer, shape: [...shape], dtype: t.dtype, label, bytes, offset };
  }

  /** Encode prepared ops, in order, into one compute pass of one command buffer, and submit it. */
  run(ops: readonly Op[], label = 'step'): void {
    const enc = this.device.createCommandEncoder({ label });
    this.encode(enc, ops);
    this.device.queue.submit([enc.finish()]);
    this.counters.submits++;
  }

  /**
   * Encode prepared ops into an existing command encoder: dispatches in compute passes, copies between
   * them (a buffer copy cannot sit inside a pass).
   */
  encode(enc: GPUCommandEncoder, ops: readonly Op[]): void {
    let pass: GPUComputePassEncoder | null = null;
    for (const op of ops) {
      if ('copy' in op) {
        pass?.end();
        pass = null;
        const c = op.copy;
        enc.copyBufferToBuffer(gpuBuffer(c.src.buffer), (c.src.offset ?? 0) + c.srcByte, gpuBuffer(c.dst.buffer), (c.dst.offset ?? 0) + c.dstByte, c.bytes);
        this.counters.bytes += op.bytes;
        continue;
      }
      if ('run' in op) throw new Error(`${op.label}: a CPU op reached the WebGPU backend`);
      pass ??= enc.beginComputePass();
      pass.setPipeline(op.pipeline);
      pass.setBindGroup(0, op.bindGroup);
      pass.dispatchWorkgroups(op.workgroups[0], op.workgroups[1], op.workgroups[2]);
      this.counters.dispatches++;
      this.counters.flops += op.flops;
      this.counters.bytes += op.bytes;
    }
    pass?.end();
  }

  /**
   * Free read-back staging buffers by size class (powers of two). Scoring reads one small result per batch:
   * a buffer per read was an allocation per batch; pooled, a steady state of reads allocates none.
   */
  private readonly staging = new Map<number, GPUBuffer[]>();
  private static readonly STAGING_KEEP = 4;

  private takeStaging(size: number): GPUBuffer {
    const cls = Math.max(256, 2 ** Math.ceil(Math.log2(size)));
    const free = this.staging.get(cls);
    const b = free?.pop();
    if (b) return b;
    this.counters.stagingAllocations++;
    return this.device.createBuffer({ label: `read staging ${cls}`, size: cls, usage: STORAGE.read });
  }

  private giveStaging(b: GPUBuffer): void {
    const free = this.staging.get(b.size) ?? [];
    if (free.length >= GpuRuntime.STAGING_KEEP) b.destroy();
    else {
      free.push(b);
      this.staging.set(b.size, free);
    }
  }

  /** Copy a tensor back to the CPU. Waits for all submitted work. */
  async read(t: Tensor): Promise<Float32Array | Uint32Array | Int32Array | Uint16Array> {
    const bytes = numel(t.shape) * DTYPE_BYTES[t.dtype];
    const size = Math.ceil(bytes / 4) * 4;
    const staging = this.takeStaging(size);
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(gpuBuffer(t.buffer), t.offset ?? 0, staging, 0, size);
    this.device.queue.submit([enc.finish()]);
    let copy: ArrayBuffer;
    try {
      await staging.mapAsync(1 /* GPUMapMode.READ */, 0, size);
      copy = staging.getMappedRange(0, size).slice(0, bytes);
      staging.unmap();
    } catch (e) {
      staging.destroy();
      throw e;
    }
    this.giveStaging(staging);
    this.counters.readbackBytes += bytes;
    return typedArrayOf(t.dtype, copy);
  }

  async readF32(t: Tensor): Promise<Float32Array> {
    return asF32(t, await this.read(t));
  }

  /** Wait until the GPU has finished everything submitted so far. */
  async sync(): Promise<void> {
    await this.device.queue.onSubmittedWorkDone();
  }

  /** Run `fn` and throw a typed error if it produced a validation or out-of-memory error. */
  async guard<T>(what: string, fn: () => T): Promise<T> {
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    const out = fn();
    const validation = await this.device.popErrorScope();
    const oom = await this.device.popErrorScope();
    if (oom) throw new OutOfMemoryError(what, 0);
    if (validation) throw new ShaderError(what, validation.message);
    return out;
  }

  /**
   * Free a tensor. The buffer is destroyed once the queue has drained: work already submitted may still
   * read it (SwiftShader in particular has aborted when a buffer died under a running dispatch).
   */
  release(t: Tensor | GPUBuffer): void {
    const buffer = 'buffer' in t ? gpuBuffer(t.buffer) : t;
    const bytes = this.live.get(buffer);
    if (bytes === undefined) return;
    this.counters.liveBytes -= bytes;
    this.live.delete(buffer);
    this.destroyLater([buffer]);
  }

  private destroyLater(buffers: GPUBuffer[]): void {
    if (buffers.length === 0) return;
    void this.device.queue.onSubmittedWorkDone().then(
      () => buffers.forEach((b) => b.destroy()),
      () => undefined,
    );
  }

  resetPeak(): void {
    this.counters.peakBytes = this.counters.liveBytes;
  }

  /** Free every tensor this runtime made (after the queue drains, as `release`). */
  destroy(): void {
    this.destroyLater([...this.live.keys(), ...[...this.staging.values()].flat()]);
    this.staging.clear();
    this.live.clear();
    this.counters.liveBytes = 0;
  }
}

