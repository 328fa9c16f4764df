/**
 * The one message protocol between the page and the lab Worker. Every request kind has a result type in
 * `Results`; the compiler checks both the Worker's handlers and the page's calls against these types.
 * Only plain, structured-cloneable data crosses this boundary (no GPU objects, no class instances).
 */
import type { AdapterReport } from '../engine/device';
import type { ErrorInfo } from '../engine/errors';
import type { SelfTestResult } from '../engine/selftest/types';

export type { ErrorInfo };

export interface Capabilities {
  /** navigator.gpu exists in the Worker. */
  webgpu: boolean;
  adapter: AdapterReport | null;
  /** Why WebGPU cannot be used, when it cannot. */
  error: ErrorInfo | null;
}

export interface SelfTestReport {
  adapter: AdapterReport;
  results: SelfTestResult[];
  ms: number;
}

/** Requests the page can make, one variant per kind. */
export type Request =
  | { kind: 'capabilities' }
  | { kind: 'selftest' };

/** What each request kind resolves to. */
export interface Results {
  capabilities: Capabilities;
  selftest: SelfTestReport;
}

export type RequestKind = Request['kind'];
export type RequestOf<K extends RequestKind> = Extract<Request, { kind: K }>;

/** Progress of a running request: a stage, a fraction and optional live metrics (loss, tokens/s…). */
export interface Progress {
  stage: string;
  done: number;
  total: number;
  detail?: string;
  metrics?: Record<string, number>;
}

export type ToWorker =
  | { type: 'request'; id: number; request: Request }
  | { type: 'cancel'; id: number };

export type FromWorker =
  | { type: 'progress'; id: number; progress: Progress }
  | { type: 'result'; id: number; kind: RequestKind; result: Results[RequestKind] }
  | { type: 'error'; id: number; error: ErrorInfo }
  | { type: 'cancelled'; id: number }
  | { type: 'device-lost'; error: ErrorInfo };

/** A request's handler in the Worker: reports progress, honours the signal, resolves to its result. */
export type Handler<K extends RequestKind> = (
  request: RequestOf<K>,
  ctx: { progress(p: Progress): void; signal: AbortSignal },
) => Promise<Results[K]>;

export type Handlers = { [K in RequestKind]: Handler<K> };
