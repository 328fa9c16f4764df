/** The page's side of the Worker protocol: typed calls with progress and cancellation. */
import type { ErrorInfo, FromWorker, Progress, RequestKind, RequestOf, Results, ToWorker } from './protocol';
import { TAB_ID } from './run-lock';
// A cancelled call rejects with the one CancelledError every layer uses.
import { CancelledError } from '../util/errors';

export class WorkerError extends Error {
  constructor(readonly info: ErrorInfo) {
    super(info.message);
    this.name = info.name;
  }
  get advice(): string {
    return this.info.advice;
  }
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  onProgress?: (p: Progress) => void;
}

export interface CallOptions {
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
}

export class LabClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Called when the Worker reports the GPU device lost. */
  onDeviceLost?: (e: ErrorInfo) => void;

  constructor(private readonly worker: Worker) {
    worker.addEventListener('message', (ev: MessageEvent<FromWorker>) => this.receive(ev.data));
    worker.addEventListener('error', (ev) => {
      const info: ErrorInfo = { name: 'WorkerError', code: 'worker', message: ev.message || 'The lab Worker failed to start.', advice: 'Reload the page. If it persists, your browser may not support module Workers.' };
      for (const p of this.pending.values()) p.reject(new WorkerError(info));
      this.pending.clear();
    });
  }

  static start(): LabClient {
    return new LabClient(new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: `ift-lab#${TAB_ID}` }));
  }

  call<K extends RequestKind>(request: RequestOf<K>, opts: CallOptions = {}): Promise<Results[K]> {
    const id = this.nextId++;
    return new Promise<Results[K]>((resolve, reject) => {
      if (opts.signal?.aborted) return reject(new CancelledError('The request'));
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress: opts.onProgress });
      opts.signal?.addEventListener('abort', () => this.post({ type: 'cancel', id }), { once: true });
      this.post({ type: 'request', id, request });
    });
  }

  terminate(): void {
    this.worker.terminate();
  }

  private post(msg: ToWorker): void {
    this.worker.postMessage(msg);
  }

  private receive(msg: FromWorker): void {
    if (msg.type === 'device-lost') {
      this.onDeviceLost?.(msg.error);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    switch (msg.type) {
      case 'progress':
        p.onProgress?.(msg.progress);
        return;
      case 'result':
        this.pending.delete(msg.id);
        p.resolve(msg.result);
        return;
      case 'error':
        this.pending.delete(msg.id);
        p.reject(new WorkerError(msg.error));
        return;
      case 'cancelled':
        this.pending.delete(msg.id);
        p.reject(new CancelledError('The request'));
        return;
    }
  }
}
