/**
 * The CPU backend's threads: T − 1 workers beside the thread that runs the plan, all over the same
 * SharedArrayBuffers. An op that splits (a product, attention) hands each worker one part of its rows and
 * runs the first part itself, then waits on a shared counter (Atomics) until every part is done. Each
 * element is still summed in the same order as on one thread, so T threads give the same bits as one.
 *
 * Workers run only the kernels in PARALLEL_KERNELS: functions that use nothing but their arguments (no
 * imports, no module constants), so their own source text is the worker's program. That one text runs in
 * Node (worker_threads, `eval`) and in a browser (a Blob worker), so nothing here knows the platform: the
 * caller passes `spawn`.
 *
 * Threads need SharedArrayBuffer and a thread allowed to block (Atomics.wait): Node, and a cross-origin
 * isolated page's Worker. Where either is missing, `canThread()` says so and the backend runs one thread.
 */
import { gemmNT } from './kernels/matmul/gemm.cpu';
import { gemmSimd } from './kernels/matmul/gemm_simd.cpu';
import { attentionScores, softmaxRows, transposeInto } from './kernels/attention/attention_rows.cpu';
import type { ThreadContext } from './thread-context';
import { attentionDkvPart, attentionDqPart, attentionForwardPart } from './kernels/attention/attention_parts.cpu';

/**
 * The kernels a worker can run, by index. Each must be self-contained (it is sent as source text): it uses
 * its arguments and `this`, the thread's ThreadContext (its own WebAssembly SIMD instance), nothing else.
 */
export const PARALLEL_KERNELS = [gemmNT, gemmSimd, attentionForwardPart, attentionDqPart, attentionDkvPart] as const;
export type ParallelKernel = (typeof PARALLEL_KERNELS)[number];

/** The helpers every thread's context carries (thread-context.ts), also sent as source text. */
export const THREAD_HELPERS = { softmaxRows, transposeInto, attentionScores } as const;

/** A thread's context: its SIMD instance (or none), its product kernel, and the helpers. */
export function threadContext(simd: ThreadContext['simd']): ThreadContext {
  const ctx = { simd, gemmNT, ...THREAD_HELPERS } as ThreadContext;
  ctx.gemm = (simd ? gemmSimd : gemmNT).bind(ctx);
  return ctx;
}

/** What a spawned worker must offer (Node's Worker and the browser's both do). */
export interface ThreadWorker {
  postMessage(message: unknown): void;
  terminate(): unknown;
}

/** Starts a worker running `source` (classic script: Node `eval`, or a Blob URL in a browser). */
export type SpawnThread = (source: string) => ThreadWorker;

type Shared = Float32Array | Uint32Array | Float64Array;
type Arg = number | Shared;
const TYPES = [Float32Array, Uint32Array, Float64Array] as const;

/** Whether this thread can use threads: SharedArrayBuffer exists and Atomics.wait may block here. */
export function canThread(): boolean {
  if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') return false;
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false; // a browser's main thread, or a page that is not cross-origin isolated
  }
}

/** The worker's program: the kernels' own source, a buffer registry, and the done counter. */
export function workerSource(): string {
  const kernels = PARALLEL_KERNELS.map((k) => `(${k.toString()})`).join(',\n');
  const helpers = Object.entries(THREAD_HELPERS).map(([name, f]) => `${name}: (${f.toString()})`).join(',\n');
  const [nt, simd] = [PARALLEL_KERNELS.indexOf(gemmNT), PARALLEL_KERNELS.indexOf(gemmSimd)];
  return `'use strict';
const KERNELS = [${kernels}];
const TYPES = [Float32Array, Uint32Array, Float64Array];
const bufs = new Map();
const CONTEXT = { simd: null, ${helpers} };
CONTEXT.gemmNT = KERNELS[${nt}];
CONTEXT.gemm = KERNELS[${nt}].bind(CONTEXT);
let ctrl = null, errText = null;
function run(m) {
  if (m.ctrl) {
    ctrl = new Int32Array(m.ctrl, 0, 3); errText = new Uint8Array(m.ctrl, 16);
    if (m.simd) {
      CONTEXT.simd = new WebAssembly.Instance(new WebAssembly.Module(m.simd), {}).exports;
      CONTEXT.gemm = KERNELS[${simd}].bind(CONTEXT);
    }
    Atomics.add(ctrl, 2, 1);
    return;
  }
  if (m.bufs) for (const [id, sab] of m.bufs) bufs.set(id, sab);
  try {
    const args = m.args.map((a) => (typeof a === 'number' ? a : new TYPES[a[1]](bufs.get(a[0]), a[2], a[3])));
    KERNELS[m.k].apply(CONTEXT, args);
  } catch (e) {
    const text = new TextEncoder().encode(String((e && e.stack) || e)).slice(0, errText.length);
    errText.fill(0); errText.set(text);
    Atomics.store(ctrl, 1, 1);
  }
  Atomics.add(ctrl, 0, 1);
  Atomics.notify(ctrl, 0);
}
if (typeof require === 'function') require('node:worker_threads').parentPort.on('message', run);
else self.onmessage = (e) => run(e.data);
`;
}

const ERROR_BYTES = 1024;

export class CpuThreads {
  /** Threads in all, this one included. */
  readonly size: number;
  private readonly workers: ThreadWorker[] = [];
  /** Per worker, the buffers it has been sent (by id). */
  private readonly sent: Set<number>[] = [];
  private readonly ids = new WeakMap<ArrayBufferLike, number>();
  private nextId = 1;
  /** [parts done, a part failed, workers started]. */
  private readonly ctrl: Int32Array;
  private readonly errText: Uint8Array;
  private broken: string | null = null;

  /**
   * `context` is this thread's (its SIMD instance); `simd`, the module's bytes, gives each worker its own
   * instance (none without).
   */
  constructor(threads: number, spawn: SpawnThread, private readonly context: ThreadContext = threadContext(null), simd?: Uint8Array) {
    this.size = Math.max(1, Math.floor(threads));
    const sab = new SharedArrayBuffer(16 + ERROR_BYTES);
    this.ctrl = new Int32Array(sab, 0, 3);
    this.errText = new Uint8Array(sab, 16);
    const source = workerSource();
    for (let i = 1; i < this.size; i++) {
      const w = spawn(source);
      w.postMessage(simd ? { ctrl: sab, simd: simd.slice() } : { ctrl: sab });
      this.workers.push(w);
      this.sent.push(new Set());
    }
  }

  /**
   * Runs `kernel` once per part, part 0 on this thread and part p on worker p − 1, and returns when all are
   * done. Arrays must lie in SharedArrayBuffers (the backend allocates so when threaded); otherwise, or
   * with one part, everything runs here.
   */
  run(kernel: ParallelKernel, parts: readonly Arg[][]): void {
    if (this.broken) throw new Error(`A CPU backend thread failed earlier: ${this.broken}`);
    const k = PARALLEL_KERNELS.indexOf(kernel);
    const call = (args: readonly Arg[]) => (kernel as (this: ThreadContext, ...a: Arg[]) => void).apply(this.context, args as Arg[]);
    const shared = parts.every((p) => p.every((a) => typeof a === 'number' || a.buffer instanceof SharedArrayBuffer));
    // Until every worker has started (a browser may start one only once this thread returns to its event
    // loop), the parts run here: waiting for them could wait forever.
    const remote = shared && this.started() ? Math.min(parts.length - 1, this.workers.length) : 0;
    Atomics.store(this.ctrl, 0, 0);
    for (let p = 1; p <= remote; p++) this.post(p - 1, k, parts[p]);
    for (let p = remote + 1; p < parts.length; p++) call(parts[p]);
    call(parts[0]);
    for (let done = Atomics.load(this.ctrl, 0); done < remote; done = Atomics.load(this.ctrl, 0)) Atomics.wait(this.ctrl, 0, done);
    if (Atomics.load(this.ctrl, 1)) {
      this.broken = new TextDecoder().decode(this.errText.slice()).replace(/\0+$/, '');
      throw new Error(`A CPU backend thread failed: ${this.broken}`);
    }
  }

  /** Whether every worker is running (each counts itself in when its program starts). */
  started(): boolean {
    return Atomics.load(this.ctrl, 2) >= this.workers.length;
  }

  private post(w: number, k: number, args: readonly Arg[]): void {
    const bufs: [number, SharedArrayBuffer][] = [];
    const enc = args.map((a) => {
      if (typeof a === 'number') return a;
      const sab = a.buffer as SharedArrayBuffer;
      let id = this.ids.get(sab);
      if (id === undefined) this.ids.set(sab, (id = this.nextId++));
      if (!this.sent[w].has(id)) {
        this.sent[w].add(id);
        bufs.push([id, sab]);
      }
      return [id, TYPES.findIndex((T) => a instanceof T), a.byteOffset, a.length];
    });
    this.workers[w].postMessage(bufs.length ? { k, args: enc, bufs } : { k, args: enc });
  }

  destroy(): void {
    for (const w of this.workers) void w.terminate();
    this.workers.length = 0;
  }
}

/** [from, to) ranges splitting `n` units into at most `parts` nearly equal runs, each a multiple of `align` but the last. */
export function splitRange(n: number, parts: number, align = 1): [number, number][] {
  const chunks = Math.ceil(n / align);
  const p = Math.max(1, Math.min(parts, chunks));
  const out: [number, number][] = [];
  for (let i = 0; i < p; i++) {
    const a = Math.min(n, Math.floor((i * chunks) / p) * align);
    const b = Math.min(n, Math.floor(((i + 1) * chunks) / p) * align);
    if (b > a) out.push([a, b]);
  }
  return out;
}
