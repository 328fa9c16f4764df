/**
 * The CPU backend: the same plans as WebGPU, run on the CPU. Tensors are ArrayBuffers, a kernel's CPU op
 * is a function over typed-array views made when the op is prepared (kernels/<op>/<op>.cpu.ts), and
 * running a plan calls them in order. Allocation, views, copies and the counters behave as on the GPU, so
 * the model above cannot tell the two apart, and a steady-state step allocates nothing here either.
 */
import { zeroCounters, type Counters } from './counters';
import { OutOfMemoryError } from './errors';
import { asF32, DTYPE_BYTES, numel, typedArrayOf, uploadDType, type BackendSummary, type CpuOp, type DType, type HostBuffer, type Op, type Tensor } from './tensor';

/** What the CPU backend reports where WebGPU reports its adapter (manifests, the Model page). */
export interface CpuReport {
  threads: number;
  /** How the kernels run: plain f32 loops, cache-blocked. */
  kernels: string;
}

/** The largest tensor the CPU backend allocates (V8 typed arrays reach further; a browser tab may not). */
const MAX_BUFFER = 2 ** 31;

export function hostBuffer(t: Tensor): HostBuffer {
  const b = t.buffer;
  if (!('host' in b)) throw new Error(`${t.label}: a WebGPU tensor reached the CPU backend`);
  return b;
}

/** A tensor's elements as f32 (an f32 tensor, or the f32 bits of any 4-byte tensor). */
export function f32v(t: Tensor, n = numel(t.shape)): Float32Array {
  return new Float32Array(hostBuffer(t).data, t.offset ?? 0, n);
}

export function u32v(t: Tensor, n = numel(t.shape)): Uint32Array {
  return new Uint32Array(hostBuffer(t).data, t.offset ?? 0, n);
}

export class CpuRuntime {
  readonly kind = 'cpu' as const;
  readonly counters: Counters = zeroCounters();
  /** The CPU computes in f32: no f16 arithmetic, and weights stay f32 (see `packedF16`). */
  readonly f16 = false;
  readonly packedF16 = false;
  readonly maxBufferSize = MAX_BUFFER;
  private readonly live = new Map<HostBuffer, number>();
  /** When set, milliseconds spent per kind of op (the label's first word): the bench's breakdown. */
  profile: Map<string, number> | null = null;

  constructor(readonly report: CpuReport = { threads: 1, kernels: 'f32, cache-blocked loops' }) {}

  summary(): BackendSummary {
    const t = this.report.threads;
    return { backend: 'cpu', vendor: 'cpu', architecture: '', description: `CPU backend (${t} thread${t === 1 ? '' : 's'}, ${this.report.kernels})`, fallback: false, shaderF16: false };
  }

  private emptyTensor?: Tensor;
  /** A small tensor to pass where a kernel's optional input is absent (as on WebGPU). */
  get empty(): Tensor {
    return (this.emptyTensor ??= this.tensor('empty', [4]));
  }

  /** A zero-filled tensor. */
  tensor(label: string, shape: readonly number[], dtype: DType = 'f32'): Tensor {
    const bytes = Math.max(4, Math.ceil((numel(shape) * DTYPE_BYTES[dtype]) / 4) * 4);
    if (bytes > this.maxBufferSize) throw new OutOfMemoryError(label, bytes);
    let data: ArrayBuffer;
    try {
      data = new ArrayBuffer(bytes);
    } catch {
      throw new OutOfMemoryError(label, bytes);
    }
    const buffer: HostBuffer = { host: true, label, data, size: bytes };
    this.counters.allocations++;
    this.counters.liveBytes += bytes;
    this.counters.peakBytes = Math.max(this.counters.peakBytes, this.counters.liveBytes);
    this.live.set(buffer, bytes);
    return { buffer, shape: [...shape], dtype, label, bytes };
  }

  upload(label: string, data: Float32Array | Uint32Array | Int32Array | Uint16Array, shape: readonly number[], dtype?: DType): Tensor {
    const t = this.tensor(label, shape, uploadDType(label, data, shape, dtype));
    this.write(t, data);
    return t;
  }

  write(t: Tensor, data: ArrayBufferView, byteOffset = 0): void {
    const dst = new Uint8Array(hostBuffer(t).data, (t.offset ?? 0) + byteOffset, data.byteLength);
    dst.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    this.counters.uploadBytes += data.byteLength;
  }

  /** A view of `numel(shape)` elements of `t` from element `start` (any element offset works here). */
  view(t: Tensor, start: number, shape: readonly number[], label = `${t.label}[${start}]`): Tensor {
    const esz = DTYPE_BYTES[t.dtype];
    const offset = (t.offset ?? 0) + start * esz;
    const bytes = Math.ceil((numel(shape) * esz) / 4) * 4;
    if (offset + bytes > hostBuffer(t).size) throw new Error(`view ${label}: out of bounds`);
    return { buffer: t.buffer, shape: [...shape], dtype: t.dtype, label, bytes, offset };
  }

  /** A prepared CPU op (kernels build theirs with it). */
  op(label: string, flops: number, bytes: number, run: () => void): CpuOp {
    return { label, flops, bytes, run };
  }

  /** Run prepared ops in order. */
  run(ops: readonly Op[], _label = 'step'): void {
    for (const op of ops) {
      if ('copy' in op) {
        const c = op.copy;
        const src = new Uint8Array(hostBuffer(c.src).data, (c.src.offset ?? 0) + c.srcByte, c.bytes);
        new Uint8Array(hostBuffer(c.dst).data, (c.dst.offset ?? 0) + c.dstByte, c.bytes).set(src);
        this.counters.bytes += op.bytes;
        continue;
      }
      if (!('run' in op)) throw new Error(`${op.label}: a WebGPU op reached the CPU backend`);
      if (this.profile) {
        const t0 = performance.now();
        op.run();
        const kind = op.label.split(' ')[0];
        this.profile.set(kind, (this.profile.get(kind) ?? 0) + performance.now() - t0);
      } else op.run();
      this.counters.dispatches++;
      this.counters.flops += op.flops;
      this.counters.bytes += op.bytes;
    }
    this.counters.submits++;
  }

  async read(t: Tensor): Promise<Float32Array | Uint32Array | Int32Array | Uint16Array> {
    const bytes = numel(t.shape) * DTYPE_BYTES[t.dtype];
    const copy = hostBuffer(t).data.slice(t.offset ?? 0, (t.offset ?? 0) + bytes);
    this.counters.readbackBytes += bytes;
    return typedArrayOf(t.dtype, copy);
  }

  async readF32(t: Tensor): Promise<Float32Array> {
    return asF32(t, await this.read(t));
  }

  /** Everything run so far has finished (the CPU runs synchronously). */
  async sync(): Promise<void> {}

  async guard<T>(_what: string, fn: () => T): Promise<T> {
    return fn();
  }

  /** Free a tensor (uniform buffers, which only WebGPU has, are ignored). */
  release(t: Tensor | GPUBuffer): void {
    if (!('buffer' in t)) return;
    const b = hostBuffer(t);
    const bytes = this.live.get(b);
    if (bytes === undefined) return;
    this.counters.liveBytes -= bytes;
    this.live.delete(b);
  }

  private scratchBuf = new Float32Array(0);
  /**
   * A shared f32 scratch of at least n elements. Ops run one at a time, so they share it: an op asks for
   * its size when prepared (the scratch grows then) and takes it again when it runs (no allocation).
   */
  scratch(n: number): Float32Array {
    if (this.scratchBuf.length < n) {
      this.counters.liveBytes += 4 * (n - this.scratchBuf.length);
      this.counters.peakBytes = Math.max(this.counters.peakBytes, this.counters.liveBytes);
      this.counters.allocations++;
      this.scratchBuf = new Float32Array(n);
    }
    return this.scratchBuf;
  }

  resetPeak(): void {
    this.counters.peakBytes = this.counters.liveBytes;
  }

  destroy(): void {
    this.live.clear();
    this.counters.liveBytes = 0;
  }
}
