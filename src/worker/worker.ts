/// <reference lib="webworker" />
/**
 * The lab Worker: all compute happens here, so the page never freezes. It answers the requests of
 * protocol.ts with progress events, a result, a typed error or a cancellation. It runs on the backend the
 * page chose (src/engine/backend.ts: WebGPU, the CPU, or `auto`, the default, which takes the CPU where
 * there is no WebGPU).
 */
import { openRuntime, type DeviceChoice, type OpenedRuntime } from '../engine/backend';
import { CpuRuntime } from '../engine/cpu-runtime';
import { openDevice, type EngineDevice } from '../engine/device';
import { LabError } from '../lab/errors';
import { toErrorInfo } from '../util/errors';
import { GpuRuntime } from '../engine/runtime';
import { selfTestAll } from '../engine/selftest';
import { BUILTIN_MODELS } from '../model/builtin';
import { CacheStorageModelCache, loadFolderFiles, loadModelFiles } from '../model/hub';
import { openIdbStore } from '../store/idb';
import pkg from '../../package.json';
import type { BackendInfo, Capabilities, FromWorker, Handlers, Request, ToWorker } from './protocol';
import { checkQuestionFile } from './question-check';
import { Session } from './session';

declare const self: DedicatedWorkerGlobalScope;

let engine: Promise<EngineDevice> | undefined;

function device(): Promise<EngineDevice> {
  engine ??= openDevice().then((e) => {
    void e.lost.then((err) => {
      engine = undefined;
      // Only a lab on WebGPU loses its work with the device (a CPU lab that once timed the GPU keeps going).
      if (current && current.rt.kind !== 'gpu') return;
      current = undefined;
      opened = undefined;
      // Everything on the old device is gone: the next request opens a new session (the store keeps the data).
      void session?.then((s) => s.dispose()).catch(() => undefined);
      session = undefined;
      post({ type: 'device-lost', error: toErrorInfo(err) });
    });
    return e;
  });
  engine.catch(() => (engine = undefined));
  return engine;
}

const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 1 : 1;

/** The Blob URL of the CPU threads' program (made once; a worker may still be fetching it, so it is kept). */
let threadUrl: string | undefined;

/** A CPU-backend thread in the browser: a Worker on the kernels' source (a Blob URL, the page's own origin). */
function browserThread(source: string): Worker {
  threadUrl ??= URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  return new Worker(threadUrl, { name: 'ift-lab cpu thread' });
}

/**
 * The CPU backend in the browser: a thread per core when the page is cross-origin isolated (COOP/COEP; only
 * then does a browser grant SharedArrayBuffer, see README), else one.
 */
function browserCpu(): CpuRuntime {
  const isolated = Boolean((self as { crossOriginIsolated?: boolean }).crossOriginIsolated);
  const threads = isolated ? cores : 1;
  return new CpuRuntime({ threads, kernels: `f32; ${cores} cores here${isolated ? '' : ', not cross-origin isolated (one thread)'}` }, browserThread);
}

/** The page's choice of backend (auto until the page says otherwise). */
let choice: DeviceChoice = 'auto';
let opened: Promise<OpenedRuntime> | undefined;
/** The runtime the lab runs on, once opened. */
let current: OpenedRuntime | undefined;

function runtime(): Promise<OpenedRuntime> {
  if (!opened) {
    const p = openRuntime(choice, { open: device, cpu: browserCpu });
    opened = p;
    p.then(
      (o) => {
        if (opened === p) current = o;
      },
      () => {
        if (opened === p) opened = undefined;
      },
    );
  }
  return opened;
}

function backendInfo(o: OpenedRuntime): BackendInfo {
  return {
    choice,
    kind: o.rt.kind === 'cpu' ? 'cpu' : 'webgpu',
    description: o.rt.summary().description,
    reason: o.reason,
    crossOriginIsolated: Boolean((self as { crossOriginIsolated?: boolean }).crossOriginIsolated),
    cores,
  };
}

/** What this browser offers, and what the lab runs on under the current choice. Never throws: the page shows it. */
async function capabilities(): Promise<Capabilities> {
  const webgpu = typeof navigator !== 'undefined' && 'gpu' in navigator && Boolean(navigator.gpu);
  let adapter: Capabilities['adapter'] = null;
  let error: Capabilities['error'] = null;
  // On the CPU by choice, the GPU is left alone (no device opened only to describe it).
  if (choice !== 'cpu' || engine) {
    try {
      adapter = (await device()).report;
    } catch (err) {
      error = toErrorInfo(err);
    }
  }
  try {
    return { webgpu, adapter, error, backend: backendInfo(await runtime()), backendError: null };
  } catch (err) {
    return { webgpu, adapter, error: error ?? toErrorInfo(err), backend: null, backendError: toErrorInfo(err) };
  }
}

/**
 * The app's base URL: the built Worker lives in `<base>assets/`, the dev server serves it from `/src/worker/`.
 * (base is './' in vite.config.ts, so the app also works from a sub-path.)
 */
const appBase = new URL(import.meta.env.DEV ? '/' : '../', self.location.href);

async function fetchOk(url: URL): Promise<Response | null> {
  const r = await fetch(url);
  return r.ok ? r : null;
}

let session: Promise<Session> | undefined;

/** The lab session: opened on first use, over this origin's IndexedDB and the Worker's GPU device. */
function lab(): Promise<Session> {
  session ??= (async () => {
    const store = await openIdbStore();
    const cache = typeof caches === 'undefined' ? null : new CacheStorageModelCache();
    return new Session({
      store,
      modelCache: cache,
      engineVersion: `ift-lab ${pkg.version}`,
      runtime: async () => (await runtime()).rt,
      runtimeReason: () => current?.reason ?? null,
      worldJson: async () => {
        const r = await fetchOk(new URL(`${BUILTIN_MODELS['builtin:toy-world']}/world.json`, appBase));
        if (!r) throw new Error('The toy world (models/toy-world/world.json) is missing from this build.');
        return r.json();
      },
      modelFiles: async (id, revision, onProgress, signal, opts) => {
        if (id in BUILTIN_MODELS) {
          const dir = new URL(`${BUILTIN_MODELS[id]}/`, appBase);
          return loadFolderFiles(id, async (f) => (await fetchOk(new URL(f, dir)))?.blob() ?? null);
        }
        // A mirror (the Model page's Hub endpoint setting, like HF_ENDPOINT) serves the same files: same cache keys.
        return loadModelFiles(id, { revision, cache, onProgress, signal, baseUrl: opts?.endpoint || undefined });
      },
      verify: async (model, info) => (await import('./verify-onnx')).verifyWithOnnx(model, info, new URL('ort/', appBase).href),
    });
  })();
  session.catch(() => (session = undefined));
  return session;
}

const handlers: Handlers = {
  capabilities: () => capabilities(),

  async useDevice(r) {
    if (r.device !== choice) {
      const s = await session?.catch(() => undefined);
      if (s?.running) throw new LabError('busy', 'An experiment is running on the current backend.', 'Wait for it to finish, or cancel it, then change where the lab runs.');
      // The model lives on the old backend: the next request loads it again on the new one (the store keeps the data).
      s?.dispose();
      session = undefined;
      const old = await opened?.catch(() => undefined);
      opened = undefined;
      current = undefined;
      // A GPU runtime's device stays cached (and its buffers are freed); a CPU runtime's memory goes with it.
      old?.rt.destroy();
      choice = r.device;
    }
    return capabilities();
  },

  async selftest(_req, ctx) {
    let e: EngineDevice;
    try {
      e = await device();
    } catch (err) {
      const info = toErrorInfo(err);
      throw new LabError('no-webgpu', `The self-test checks the WebGPU kernels, and WebGPU is not available here (${info.message}).`, 'The lab runs on the CPU instead; its CPU kernels are checked against the same references by the test suite (npm run test:unit).');
    }
    const rt = new GpuRuntime(e);
    const t0 = performance.now();
    ctx.progress({ stage: 'self-test', done: 0, total: 1 });
    try {
      const results = await selfTestAll(rt);
      return { adapter: e.report, results, ms: performance.now() - t0 };
    } finally {
      rt.destroy();
    }
  },

  loadModel: async (r, ctx) => (await lab()).loadModel(r.id, r.revision ?? 'main', ctx, { precision: r.precision ?? 'auto', endpoint: r.endpoint, files: r.files }),
  // Counted against a stub device: no GPU (and no session) needed.
  modelCatalogue: async () => (await import('../model/catalogue')).curatedModels(),
  adapters: async (r) => (await lab()).listAdapters(r.runId),
  exportAdapter: async (r, ctx) => (await lab()).exportAdapter(r.id, ctx),
  evaluateAdapter: async (r, ctx) => (await lab()).evaluateAdapter(r.probeId, { zip: r.zip, files: r.files }, ctx),
  cachedModels: async () => (await lab()).cachedModels(),
  deleteCachedModel: async (r) => (await lab()).deleteCachedModel(r.id, r.revision),
  verifyModel: async (_r, ctx) => (await lab()).verifyModel(ctx),
  probe: async (r, ctx) => (await lab()).probe(r.config, ctx),
  buildDatasets: async (r, ctx) => (await lab()).buildDatasets(r.config, ctx),
  experiment: async (r, ctx) => (await lab()).experiment(r.train, r.protocol, ctx, r.plan),
  registerPlan: async (r, ctx) => (await lab()).registerPlan(r.train, r.fitArm, ctx),
  importPlan: async (r) => (await lab()).importPlan(r.filename, r.text, r.expectHash),
  resumeExperiment: async (r, ctx) => (await lab()).resumeExperiment(r.runId, ctx),
  trainControl: async (r) => (await lab()).trainControl(r.action),
  estimate: async (r, ctx) => (await lab()).estimate(r, ctx),
  runConfig: async (r, ctx) => (await lab()).runConfig(r.config, r.protocol ?? 'paper', ctx),
  // Needs no GPU or model: the lab's reader only.
  validateQuestions: async (r) => checkQuestionFile(r.filename, r.text),
  checkGeneral: async (r) => (await lab()).checkGeneral(r.source),
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
