/// <reference lib="webworker" />
/**
 * The lab Worker: all GPU work happens here, so the page never freezes. It answers the requests of
 * protocol.ts with progress events, a result, a typed error or a cancellation.
 */
import { openDevice, type EngineDevice } from '../engine/device';
import { toErrorInfo } from '../engine/errors';
import { Runtime } from '../engine/runtime';
import { selfTestAll } from '../engine/selftest';
import type { FromWorker, Handlers, Request, ToWorker } from './protocol';

declare const self: DedicatedWorkerGlobalScope;

let engine: Promise<EngineDevice> | undefined;

function device(): Promise<EngineDevice> {
  engine ??= openDevice().then((e) => {
    void e.lost.then((err) => {
      engine = undefined;
      post({ type: 'device-lost', error: toErrorInfo(err) });
    });
    return e;
  });
  engine.catch(() => (engine = undefined));
  return engine;
}

const handlers: Handlers = {
  async capabilities() {
    const webgpu = typeof navigator !== 'undefined' && 'gpu' in navigator && Boolean(navigator.gpu);
    try {
      const e = await device();
      return { webgpu, adapter: e.report, error: null };
    } catch (err) {
      return { webgpu, adapter: null, error: toErrorInfo(err) };
    }
  },

  async selftest(_req, ctx) {
    const e = await device();
    const rt = new Runtime(e);
    const t0 = performance.now();
    ctx.progress({ stage: 'self-test', done: 0, total: 1 });
    try {
      const results = await selfTestAll(rt);
      return { adapter: e.report, results, ms: performance.now() - t0 };
    } finally {
      rt.destroy();
    }
  },
};

const running = new Map<number, AbortController>();

function post(msg: FromWorker): void {
  self.postMessage(msg);
}

async function handle(id: number, request: Request): Promise<void> {
  const ac = new AbortController();
  running.set(id, ac);
  try {
    const handler = handlers[request.kind] as (r: Request, ctx: Parameters<Handlers[typeof request.kind]>[1]) => Promise<unknown>;
    const result = await handler(request, { progress: (progress) => post({ type: 'progress', id, progress }), signal: ac.signal });
    if (ac.signal.aborted) post({ type: 'cancelled', id });
    else post({ type: 'result', id, kind: request.kind, result: result as never });
  } catch (err) {
    if (ac.signal.aborted) post({ type: 'cancelled', id });
    else post({ type: 'error', id, error: toErrorInfo(err) });
  } finally {
    running.delete(id);
  }
}

self.addEventListener('message', (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  if (msg.type === 'request') void handle(msg.id, msg.request);
  else running.get(msg.id)?.abort();
});
