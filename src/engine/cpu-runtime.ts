/**
 * The CPU backend: the same plans as WebGPU, run on the CPU. Tensors are ArrayBuffers, a kernel's CPU op
 * is a function over typed-array views made when the op is prepared (kernels/<op>/<op>.cpu.ts), and
 * running a plan calls them in order. Allocation, views, copies and the counters behave as on the GPU, so
 * the model above cannot tell the two apart, and a steady-state step allocates nothing here either.
 */
import { zeroCounters, type Counters } from './counters';
import { canThread, CpuThreads, splitRange, threadContext, type ParallelKernel, type SpawnThread } from './cpu-threads';
import { OutOfMemoryError } from './errors';
import { gemmNT } from './kernels/matmul/gemm.cpu';
import { GEMM_SIMD_WASM, gemmSimd, simdInstance, simdModule } from './kernels/matmul/gemm_simd.cpu';
import type { ThreadContext } from './thread-context';
import { asF32, DTYPE_BYTES, numel, typedArrayOf, uploadDType, type BackendSummary, type CpuOp, type DType, type HostBuffer, type Op, type Tensor } from './tensor';

/** What the CPU backend reports where WebGPU reports its adapter (manifests, the Model page). */
export interface CpuReport {
  threads: number;
  /** How the kernels run: plain f32 loops, cache-blocked. */
  kernels: string;
}

/** The largest tensor the CPU backend allocates (V8 typed arrays reach further; a browser tab may not). */
const MAX_BUFFER = 2 ** 31;

/**
 * The least work (multiply-adds) worth splitting across threads. A part handed to a worker costs a message
 * and a wake-up, about 110 µs measured through the pool in Node on a 2-core machine, and each part packs its
 * own panels of B: what 2^19 multiply-adds take on one core in plain JS. With the WebAssembly SIMD products
 * (`npm run bench -- --only cpu`, 2 cores) a split lost at 8.4M multiply-adds (the toy model's gate|up, 0.8 ×)
 * and won from 17M (its LM head, 1.24 ×; 512³, 1.83 ×): 2^24.
 */
export const PARALLEL_MIN_WORK = { js: 2 ** 19, simd: 2 ** 24 } as const;

type HostArray = Float32Array | Uint32Array | Float64Array;

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

  readonly report: CpuReport;
  /** The worker threads beside this one (null: one thread). */
  private readonly pool: CpuThreads | null;
  /** Memory is SharedArrayBuffers (the workers see every tensor). */
  private readonly shared: boolean;

  /**
   * `report.threads` threads in all when `spawn` can start workers and this thread may block on Atomics
   * (cpu-threads.ts); otherwise one, and the report says one.
   */
  /** The least work split across threads (PARALLEL_MIN_WORK for the kernels in use; tests split everything with 0). */
  private readonly minParallelWork: number;

  /** This thread's kernel context: its WebAssembly SIMD instance, or null (plain JS products). */
  private readonly context: ThreadContext;

  /**
   * `opts.simd: false` keeps every product on the plain-JS kernel (the bench compares the two); by default
   * the SIMD kernel runs wherever WebAssembly SIMD does.
   */
  constructor(report: CpuReport = { threads: 1, kernels: 'f32' }, spawn?: SpawnThread, opts: { minParallelWork?: number; simd?: boolean } = {}) {
    const module = opts.simd === false ? null : simdModule();
    this.minParallelWork = opts.minParallelWork ?? PARALLEL_MIN_WORK[module ? 'simd' : 'js'];
    this.context = threadContext(module ? simdInstance(module) : null);
    const threads = spawn && report.threads > 1 && canThread() ? Math.floor(report.threads) : 1;
    this.pool = threads > 1 ? new CpuThreads(threads, spawn!, this.context, module ? GEMM_SIMD_WASM : undefined) : null;
    this.shared = this.pool !== null;
    const kernels = module ? 'WebAssembly SIMD products' : 'plain-JS products';
    this.report = { ...report, threads, kernels: `${kernels}; ${report.kernels}` };
  }

  get threads(): number {
    return this.report.threads;
  }

  /**
   * Resolves once the worker threads run (at most `timeoutMs`; until then their parts run on this thread).
   * Awaiting it yields to the event loop, which a browser may need before it starts a worker.
   */
  async ready(timeoutMs = 5000): Promise<void> {
    const t0 = performance.now();
    while (this.pool && !this.pool.started() && performance.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 5));
  }

  /** What ran, in words: the threads counted only once their workers have started (until then parts run here). */
  summary(): BackendSummary {
    const t = this.report.threads;
    const threads = !this.pool || this.pool.started() ? `${t} thread${t === 1 ? '' : 's'}` : `1 thread; ${t - 1} more not started`;
    return { backend: 'cpu', vendor: 'cpu', architecture: '', description: `CPU backend (${threads}, ${this.report.kernels})`, fallback: false, shaderF16: false };
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
    let data: ArrayBuffer | SharedArrayBuffer;
    try {
      data = this.shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
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

  /** An array for an op's own use (made when the op is prepared), shared with the workers when threaded. */
  hostArray<T extends HostArray>(ctor: { new (b: ArrayBuffer | SharedArrayBuffer): T; BYTES_PER_ELEMENT: number }, n: number, label: string): T {
    const bytes = Math.max(ctor.BYTES_PER_ELEMENT, n * ctor.BYTES_PER_ELEMENT);
    if (bytes > this.maxBufferSize) throw new OutOfMemoryError(label, bytes);
    this.counters.allocations++;
    this.counters.liveBytes += bytes;
    this.counters.peakBytes = Math.max(this.counters.peakBytes, this.counters.liveBytes);
    return new ctor(this.shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  }

  /** `units` independent units of work split into one run per thread (one run when `work` multiply-adds are too few to share). */
  split(units: number, work = Infinity): [number, number][] {
    return splitRange(units, work >= this.minParallelWork ? this.threads : 1);
  }

  /** Runs `kernel` once per part (each part's arguments), on the threads when there are several. */
  parallel<K extends ParallelKernel>(kernel: K, parts: Parameters<K>[]): void {
    if (this.pool && parts.length > 1) this.pool.run(kernel, parts);
    else for (const p of parts) (kernel as (this: ThreadContext, ...a: Parameters<K>) => void).apply(this.context, p);
  }

  /**
   * C = beta·C + alpha·A·Bᵀ (gemmNT's contract) on every thread: the rows of C split when M ≥ N, else its
   * columns, in multiples of 8 (the kernels' blocks). The WebAssembly SIMD kernel where it runs (it sums
   * small products in plain JS itself), else gemmNT. Each element sums over K in one thread, in order, so the
   * thread count never changes a bit.
   */
  gemm(
    M: number, N: number, K: number, alpha: number,
    A: Float32Array, aOff: number, lda: number, B: Float32Array, bOff: number, ldb: number,
    C: Float32Array, cOff: number, ldc: number, beta: 0 | 1,
  ): void {
    const kernel = this.context.simd ? gemmSimd : gemmNT;
    if (!this.pool || M * N * K < this.minParallelWork) {
      kernel.call(this.context, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, C, cOff, ldc, beta);
      return;
    }
    const byRows = M >= N;
    const parts = splitRange(byRows ? M : N, this.threads, 8).map(([x0, x1]): Parameters<typeof gemmNT> =>
      byRows
        ? [x1 - x0, N, K, alpha, A, aOff + x0 * lda, lda, B, bOff, ldb, C, cOff + x0 * ldc, ldc, beta]
        : [M, x1 - x0, K, alpha, A, aOff, lda, B, bOff + x0 * ldb, ldb, C, cOff + x0, ldc, beta],
    );
    this.parallel(kernel, parts);
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
    // A plain ArrayBuffer even when the tensor is shared: a read-back may be stored or posted.
    const copy = new ArrayBuffer(bytes);
    new Uint8Array(copy).set(new Uint8Array(hostBuffer(t).data, t.offset ?? 0, bytes));
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

  private scratchBuf: Float32Array<ArrayBufferLike> = new Float32Array(0);
  /**
   * A shared f32 scratch of at least n elements. Ops run one at a time, so they share it: an op asks for
   * its size when prepared (the scratch grows then) and takes it again when it runs (no allocation).
   */
  scratch(n: number): Float32Array {
    if (this.scratchBuf.length < n) {
      this.counters.liveBytes += 4 * (n - this.scratchBuf.length);
      this.counters.peakBytes = Math.max(this.counters.peakBytes, this.counters.liveBytes);
      this.counters.allocations++;
      this.scratchBuf = new Float32Array(this.shared ? new SharedArrayBuffer(4 * n) : new ArrayBuffer(4 * n));
    }
    return this.scratchBuf;
  }

  resetPeak(): void {
    this.counters.peakBytes = this.counters.liveBytes;
  }

  destroy(): void {
    this.pool?.destroy();
    this.live.clear();
    this.counters.liveBytes = 0;
  }
}
